"""Access through HTTP: tokens, nation-scoped writes, users and tokens admin, the audit log,
and the hand-over action. Every refusal is a problem+json and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.access.models import AuditEntry
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import DecisionCreate, MeetingCreate
from tests import factories
from tests.factories import DAY
from tests.web.conftest import auth

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.mark.parametrize("header", ["Bearer coal_not-a-token", "Bearer ", "Basic abc", "coal_x"])
def test_malformed_or_unknown_tokens_are_401(client: TestClient, tokens: dict[str, str],
                                             header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    _problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_revoked_and_deactivated_tokens_are_401(client: TestClient,
                                                        tokens: dict[str, str],
                                                        session: Session) -> None:
    expired = access_service.issue_token_for(session, actor=SYSTEM, user_name="pol",
                                             expires_in=dt.timedelta(seconds=-1))
    revoked = access_service.issue_token_for(session, actor=SYSTEM, user_name="pol")
    access_service.revoke_token(session, actor=SYSTEM, token_id=revoked.record.id)
    session.commit()
    assert "expired" in _problem(client.get("/api/v1/me", headers=auth(expired.token)),
                                 401)["detail"]
    assert "revoked" in _problem(client.get("/api/v1/me", headers=auth(revoked.token)),
                                 401)["detail"]
    assert client.get("/api/v1/me", headers=auth(tokens["jpn"])).status_code == 200
    revoke = client.post("/api/v1/users/jpn/revoke", headers=auth(tokens["admin"]))
    assert revoke.status_code == 200 and revoke.json()["is_active"] is False
    _problem(client.get("/api/v1/me", headers=auth(tokens["jpn"])), 401)


def test_me_describes_the_caller(client: TestClient, tokens: dict[str, str]) -> None:
    body = client.get("/api/v1/me", headers=auth(tokens["pol"])).json()
    assert body["participant_code"] == "POL" and body["is_nato"] is True
    assert body["role"] == "national" and len(body["member_format_ids"]) == 1
    assert client.get("/api/v1/me", headers=auth(tokens["jpn"])).json()["is_nato"] is False


def _read_pledge(client: TestClient, token: str, pledge_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/pledges/{pledge_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_national_user_cannot_write_another_nations_pledge(client: TestClient,
                                                           tokens: dict[str, str],
                                                           session: Session) -> None:
    visible = factories.pledge(session, donor="DEU", confirm=True)
    requirement = factories.requirement(session, quantity=50)
    session.commit()
    before = _read_pledge(client, tokens["deu"], visible.id)
    entries = _audit_count(session)
    pol = auth(tokens["pol"])
    attempts = [
        client.patch(f"/api/v1/pledges/{visible.id}", json={"notes": "mine now"}, headers=pol),
        client.post(f"/api/v1/pledges/{visible.id}/transitions",
                    json={"to": "withdrawn", "reason": "x"}, headers=pol),
        client.post("/api/v1/allocations", json={"pledge_id": visible.id,
                                                 "requirement_id": requirement.id,
                                                 "quantity": 5}, headers=pol),
    ]
    for response in attempts:
        assert "own nation" in _problem(response, 403)["detail"]
    assert _read_pledge(client, tokens["deu"], visible.id) == before
    assert _audit_count(session) == entries


def test_invisible_pledge_is_404_for_reads_and_writes(client: TestClient, tokens: dict[str, str],
                                                      session: Session) -> None:
    hidden = factories.pledge(session, donor="DEU", releasability=Releasability.NATIONAL)
    session.commit()
    before = _read_pledge(client, tokens["deu"], hidden.id)
    pol = auth(tokens["pol"])
    responses = [
        client.get(f"/api/v1/pledges/{hidden.id}", headers=pol),
        client.get(f"/api/v1/pledges/{hidden.id}/allocations", headers=pol),
        client.patch(f"/api/v1/pledges/{hidden.id}", json={"notes": "x"}, headers=pol),
        client.post(f"/api/v1/pledges/{hidden.id}/transitions",
                    json={"to": "confirmed", "reason": "x"}, headers=pol),
    ]
    missing = client.get("/api/v1/pledges/999999", headers=pol)
    for response in responses:
        body = _problem(response, 404)
        # Indistinguishable from a pledge that does not exist.
        assert body["detail"] == f"no pledge with id {hidden.id}"
        assert body["title"] == missing.json()["title"]
    assert _read_pledge(client, tokens["deu"], hidden.id) == before
    listed = client.get("/api/v1/pledges", params={"donor": "DEU"}, headers=pol).json()
    assert listed["total"] == 0


def test_meeting_detail_shows_only_visible_pledges_and_decisions(client: TestClient,
                                                                 tokens: dict[str, str],
                                                                 session: Session) -> None:
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Ramstein", held_on=DAY))
    shown = factories.pledge(session, donor="DEU")
    hidden = factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    for pledge in (shown, hidden):
        meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                                 pledge_id=pledge.id)
    for label in (Releasability.PUBLIC, Releasability.NATIONAL):
        meeting_service.record_decision(session, actor=SYSTEM, meeting_id=meeting.id,
                                        format_code="UDCG", data=DecisionCreate(
                                            text=f"{label.value} decision", releasability=label))
    session.commit()
    jpn = client.get(f"/api/v1/meetings/{meeting.id}", headers=auth(tokens["jpn"])).json()
    pol = client.get(f"/api/v1/meetings/{meeting.id}", headers=auth(tokens["pol"])).json()
    assert jpn["announced_pledge_ids"] == [shown.id]
    assert pol["announced_pledge_ids"] == [shown.id, hidden.id]
    assert [d["text"] for d in jpn["decisions"]] == ["PUBLIC decision"]
    coord = client.get(f"/api/v1/meetings/{meeting.id}", headers=auth(tokens["coord"])).json()
    assert len(coord["decisions"]) == 2


def test_admin_manages_users_and_tokens(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    created = client.post("/api/v1/users", headers=admin, json={
        "name": "desk-aus", "role": "national", "nation": "aus", "token_expires_days": 30,
        "token_label": "pilot"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["participant"]["code"] == "AUS" and body["token"]["label"] == "pilot"
    token = body["token"]["token"]
    assert client.get("/api/v1/me", headers=auth(token)).json()["participant_code"] == "AUS"
    listed = client.get("/api/v1/tokens", params={"user": "desk-aus"}, headers=admin).json()
    assert [t["prefix"] for t in listed] == [body["token"]["prefix"]]
    assert "token" not in listed[0] and token not in str(listed)
    assert listed[0]["last_used_at"] is not None
    second = client.post("/api/v1/tokens", headers=admin, json={"user": "desk-aus"})
    assert second.status_code == 201
    revoked = client.post(f"/api/v1/tokens/{body['token']['id']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    _problem(client.get("/api/v1/me", headers=auth(token)), 401)
    assert client.get("/api/v1/me", headers=auth(second.json()["token"])).status_code == 200
    names = [u["name"] for u in client.get("/api/v1/users", headers=admin).json()]
    assert "desk-aus" in names
    _problem(client.post("/api/v1/users", headers=admin, json={
        "name": "desk-aus", "role": "national", "nation": "AUS"}), 409)
    _problem(client.post("/api/v1/users", headers=admin, json={
        "name": "desk-x", "role": "national"}), 422)


@pytest.mark.parametrize("user", ["coord", "pol", "ukr", "observer", "analyst-jpn"])
def test_only_admins_manage_users(client: TestClient, tokens: dict[str, str], user: str,
                                  session: Session) -> None:
    entries = _audit_count(session)
    headers = auth(tokens[user])
    _problem(client.get("/api/v1/users", headers=headers), 403)
    _problem(client.post("/api/v1/users", headers=headers,
                         json={"name": "x-user", "role": "admin"}), 403)
    _problem(client.post("/api/v1/tokens", headers=headers, json={"user": user}), 403)
    _problem(client.post("/api/v1/users/admin/revoke", headers=headers), 403)
    assert _audit_count(session) == entries


def test_audit_log_is_filtered_by_releasability(client: TestClient, tokens: dict[str, str],
                                                session: Session) -> None:
    nato = factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    factories.pledge(session, donor="DEU", format="UDCG")
    session.commit()
    target = {"target": f"pledges:{nato.id}"}
    coord = client.get("/api/v1/audit", params=target, headers=auth(tokens["coord"])).json()
    assert [e["action"] for e in coord["items"]] == ["pledge.create"]
    assert coord["items"][0]["after"]["releasability"] == "NATO"
    users = client.get("/api/v1/audit", params={"target": "users"},
                       headers=auth(tokens["coord"])).json()
    assert users["total"] == 0
    admin = client.get("/api/v1/audit", params={"target": "users", "limit": 2},
                       headers=auth(tokens["admin"])).json()
    assert admin["total"] > 0 and admin["next_cursor"]
    _problem(client.get("/api/v1/audit", headers=auth(tokens["pol"])), 403)


def test_audit_verify_reports_tampering(client: TestClient, tokens: dict[str, str],
                                        session: Session) -> None:
    ok = client.get("/api/v1/audit/verify", headers=auth(tokens["coord"])).json()
    assert ok["ok"] is True and ok["entries"] > 0
    victim = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id).limit(1).offset(3))
    session.execute(update(AuditEntry).where(AuditEntry.id == victim).values(actor="nobody"))
    session.commit()
    broken = client.get("/api/v1/audit/verify", headers=auth(tokens["admin"])).json()
    assert broken["ok"] is False and broken["first_bad_id"] == victim
    _problem(client.get("/api/v1/audit/verify", headers=auth(tokens["ukr"])), 403)


def test_handover_action_dry_run_then_execute(client: TestClient, tokens: dict[str, str],
                                              session: Session) -> None:
    factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    session.commit()
    coord = auth(tokens["coord"])
    url = "/api/v1/formats/UDCG/handover"
    plan = client.post(url, json={"to": "NATO", "on": "2024-07-10", "dry_run": True},
                       headers=coord)
    assert plan.status_code == 200, plan.text
    assert {m["participant"] for m in plan.json()["members_losing_sight"]} == {
        "JPN", "AUS", "UKR"}
    assert client.get("/api/v1/formats/UDCG", headers=coord).json()["lead"]["code"] == "USA"
    _problem(client.post(url, json={"to": "NATO"}, headers=auth(tokens["pol"])), 403)
    done = client.post(url, json={"to": "NATO", "on": "2024-07-10", "relabel_coalition": True},
                       headers=coord)
    assert done.status_code == 200, done.text
    assert done.json()["relabelled"] == 1
    detail = client.get("/api/v1/formats/UDCG", headers=coord).json()
    assert detail["lead"]["code"] == "NATO" and len(detail["leads"]) == 2
    _problem(client.post(url, json={"to": "NATO"}, headers=coord), 409)


def test_audit_entries_carry_the_request_id(client: TestClient, tokens: dict[str, str]) -> None:
    body = {"donor": "POL", "item_type": "155-a", "quantity": 5, "amount": "15000.00",
            "announced_on": "2024-06-13", "available_from": "2024-07-01"}
    created = client.post("/api/v1/pledges", json=body,
                          headers={**auth(tokens["pol"]), "X-Request-ID": "req-audit-42"})
    assert created.status_code == 201 and created.headers["x-request-id"] == "req-audit-42"
    log = client.get("/api/v1/audit", params={"target": f"pledges:{created.json()['id']}"},
                     headers=auth(tokens["admin"])).json()
    assert [(e["action"], e["actor"], e["request_id"]) for e in log["items"]] == [
        ("pledge.create", "pol (POL)", "req-audit-42")]
