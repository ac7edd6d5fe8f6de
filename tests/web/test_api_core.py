"""The v1 API through HTTP: authentication, problem details, lists, pledge lifecycle."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from tests import factories
from tests.web.conftest import auth

PLEDGE = {"donor": "POL", "item_type": "155-a", "quantity": 500, "amount": "1500000.00",
          "announced_on": "2024-06-13", "available_from": "2024-08-01"}


def test_health_reports_database(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"]["reachable"] is True


def test_openapi_lists_v1_paths(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/pledges/{pledge_id}/transitions" in paths


def test_missing_token_is_401_problem(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.get("/api/v1/pledges")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_bad_expired_and_revoked_tokens_are_401(client: TestClient, tokens: dict[str, str],
                                                session: Session) -> None:
    assert client.get("/api/v1/pledges", headers=auth("coal_nope")).status_code == 401
    user = access_service.get_user(session, name="pol")
    expired = access_service.issue_token(session, actor=SYSTEM, user=user,
                                         expires_in=dt.timedelta(seconds=-1))
    revoked = access_service.issue_token(session, actor=SYSTEM, user=user)
    access_service.revoke_token(session, actor=SYSTEM, token_id=revoked.record.id)
    session.commit()
    for token, why in [(expired.token, "expired"), (revoked.token, "revoked")]:
        response = client.get("/api/v1/pledges", headers=auth(token))
        assert response.status_code == 401 and why in response.json()["detail"]


def test_create_pledge_then_confirm(client: TestClient, tokens: dict[str, str]) -> None:
    created = client.post("/api/v1/pledges", json=PLEDGE, headers=auth(tokens["pol"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["value_eur"] == "1500000.00" and body["status"] == "announced"
    confirmed = client.post(f"/api/v1/pledges/{body['id']}/transitions",
                            json={"to": "confirmed", "reason": "cabinet approved"},
                            headers=auth(tokens["pol"]))
    assert confirmed.status_code == 200
    assert [h["to_status"] for h in confirmed.json()["history"]] == ["announced", "confirmed"]


def test_validation_error_names_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/pledges", json={**PLEDGE, "quantity": -3},
                           headers=auth(tokens["pol"]))
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "quantity"
    assert response.headers["content-type"] == "application/problem+json"


def test_nul_in_text_is_422_naming_the_field_not_a_database_error(
        client: TestClient, tokens: dict[str, str]) -> None:
    """PostgreSQL text cannot hold NUL; validation refuses it before any row is written."""
    response = client.post("/api/v1/pledges", json={**PLEDGE, "notes": "ammunition\u0000"},
                           headers=auth(tokens["pol"]))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "notes"
    assert "NUL" in error["message"]


def test_unknown_item_type_is_422_naming_field(client: TestClient, tokens: dict[str, str]
                                               ) -> None:
    response = client.post("/api/v1/pledges", json={**PLEDGE, "item_type": "nope"},
                           headers=auth(tokens["pol"]))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "item_type", "message": "unknown item type",
                                            "row": None, "value": "nope"}


def test_national_user_cannot_touch_other_nation(client: TestClient, tokens: dict[str, str],
                                                 session: Session) -> None:
    response = client.post("/api/v1/pledges", json={**PLEDGE, "donor": "DEU"},
                           headers=auth(tokens["pol"]))
    assert response.status_code == 403
    p = factories.pledge(session, donor="DEU")
    session.commit()
    response = client.post(f"/api/v1/pledges/{p.id}/transitions",
                           json={"to": "withdrawn", "reason": "x"}, headers=auth(tokens["pol"]))
    assert response.status_code == 403
    assert client.get(f"/api/v1/pledges/{p.id}", headers=auth(tokens["deu"])).json()[
        "status"] == "announced"


def test_illegal_transition_is_409(client: TestClient, tokens: dict[str, str],
                                   session: Session) -> None:
    p = factories.pledge(session)
    session.commit()
    response = client.post(f"/api/v1/pledges/{p.id}/transitions", json={"to": "delivered"},
                           headers=auth(tokens["pol"]))
    assert response.status_code == 409
    assert "not on request" in response.json()["detail"]


def test_list_paginates_with_cursor(client: TestClient, tokens: dict[str, str],
                                    session: Session) -> None:
    for _ in range(5):
        factories.pledge(session)
    session.commit()
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "sort": "id", "donor": "POL"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/pledges", params=params, headers=auth(tokens["coord"])).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen) and page["total"] == 5


def test_invisible_record_is_404_not_403(client: TestClient, tokens: dict[str, str],
                                         session: Session) -> None:
    from coalition.access.labels import Releasability

    p = factories.pledge(session, donor="DEU", releasability=Releasability.NATIONAL)
    session.commit()
    assert client.get(f"/api/v1/pledges/{p.id}", headers=auth(tokens["jpn"])).status_code == 404
    assert client.get(f"/api/v1/pledges/{p.id}", headers=auth(tokens["deu"])).status_code == 200
    listed = client.get("/api/v1/pledges", headers=auth(tokens["jpn"])).json()
    assert p.id not in [x["id"] for x in listed["items"]]


def test_requirement_and_allocation_round_trip(client: TestClient, tokens: dict[str, str],
                                               session: Session) -> None:
    p = factories.pledge(session, quantity=30, confirm=True)
    session.commit()
    req = client.post("/api/v1/requirements", json={
        "item_type": "155-b", "quantity": 20, "priority": 1, "needed_by": "2024-12-01"},
        headers=auth(tokens["ukr"]))
    assert req.status_code == 201, req.text
    alloc = client.post("/api/v1/allocations", json={
        "pledge_id": p.id, "requirement_id": req.json()["id"], "quantity": 20},
        headers=auth(tokens["pol"]))
    assert alloc.status_code == 201, alloc.text
    got = client.get(f"/api/v1/requirements/{req.json()['id']}", headers=auth(tokens["coord"]))
    assert got.json()["quantity_committed"] == 20 and got.json()["status"] == "met"
    again = client.post("/api/v1/allocations", json={
        "pledge_id": p.id, "requirement_id": req.json()["id"], "quantity": 1},
        headers=auth(tokens["pol"]))
    assert again.status_code == 409
