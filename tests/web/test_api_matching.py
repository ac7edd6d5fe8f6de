"""The matching API: runs, proposals and decisions, explanations, withdrawal scenarios."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access.labels import Releasability
from tests import factories
from tests.web.conftest import auth

API = "/api/v1"


def _world(session: Session) -> dict[str, int]:
    need = factories.requirement(session, quantity=100, priority=1)
    factories.requirement(session, item_type="152-a", quantity=30, priority=3)
    pol = factories.pledge(session, donor="POL", quantity=60, confirm=True)
    deu = factories.pledge(session, donor="DEU", quantity=60, confirm=True,
                           releasability=Releasability.NATIONAL)
    session.flush()
    return {"need": need.id, "pol": pol.id, "deu": deu.id}


def _run(client: TestClient, token: str, **body: Any) -> Any:
    response = client.post(f"{API}/matching/runs", json=body, headers=auth(token))
    return response


def _proposal_of(client: TestClient, token: str, run_id: int, donor: str) -> dict[str, Any]:
    body = client.get(f"{API}/matching/proposals", params={"run": run_id, "donor": donor},
                      headers=auth(token)).json()
    assert body["total"] == 1, body
    return dict(body["items"][0])


def test_coordinator_runs_and_reads_the_run(client: TestClient, tokens: dict[str, str],
                                            session: Session) -> None:
    _world(session)
    created = _run(client, tokens["coord"])
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["id"] and run["scope"] == "UDCG" and run["proposals"] == 2
    assert run["objective"]["met_by_priority"] == [100, 0, 0, 0, 0]

    listed = client.get(f"{API}/matching/runs", headers=auth(tokens["coord"])).json()
    detail = client.get(f"{API}/matching/runs/{run['id']}", headers=auth(tokens["coord"]))
    as_pol = client.get(f"{API}/matching/runs/{run['id']}", headers=auth(tokens["pol"])).json()

    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert detail.json()["visible_proposals"]["proposed"] == 2
    assert as_pol["objective"] is None and as_pol["proposals"] is None
    assert as_pol["visible_proposals"]["proposed"] == 1  # DEU's national pledge is hidden


def test_dry_run_answers_200_and_stores_nothing(client: TestClient, tokens: dict[str, str],
                                                session: Session) -> None:
    _world(session)
    dry = _run(client, tokens["coord"], dry_run=True, max_lateness_days=365)
    assert dry.status_code == 200, dry.text
    assert dry.json()["id"] is None and dry.json()["policy"]["max_lateness_days"] == 365
    assert client.get(f"{API}/matching/runs", headers=auth(tokens["coord"])).json()["total"] == 0


def test_national_desk_may_not_run(client: TestClient, tokens: dict[str, str]) -> None:
    refused = _run(client, tokens["pol"])
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


def test_donor_approves_then_cannot_decide_again(client: TestClient, tokens: dict[str, str],
                                                 session: Session) -> None:
    ids = _world(session)
    run = _run(client, tokens["coord"]).json()
    proposal = _proposal_of(client, tokens["pol"], run["id"], "POL")

    approved = client.post(f"{API}/matching/proposals/{proposal['id']}/approve",
                           headers=auth(tokens["pol"]))
    again = client.post(f"{API}/matching/proposals/{proposal['id']}/approve",
                        headers=auth(tokens["pol"]))

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["allocation_id"]
    assert body["decided_by"] == "pol (POL)" and body["donor"]["code"] == "POL"
    allocations = client.get(f"{API}/pledges/{ids['pol']}/allocations",
                             headers=auth(tokens["pol"])).json()
    assert [(a["id"], a["quantity"]) for a in allocations] == [(body["allocation_id"], 60)]
    assert again.status_code == 409 and "approved" in again.json()["detail"]


def test_decline_needs_a_reason_and_is_recorded(client: TestClient, tokens: dict[str, str],
                                                session: Session) -> None:
    _world(session)
    run = _run(client, tokens["coord"]).json()
    proposal = _proposal_of(client, tokens["pol"], run["id"], "POL")
    url = f"{API}/matching/proposals/{proposal['id']}/decline"

    missing = client.post(url, json={}, headers=auth(tokens["pol"]))
    declined = client.post(url, json={"reason": "needed at home"}, headers=auth(tokens["pol"]))

    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["decline_reason"]) == (
        "declined", "needed at home")
    rerun = _run(client, tokens["coord"]).json()
    assert rerun["excluded_pairs"] == 1


def test_only_the_donor_decides_403_or_404(client: TestClient, tokens: dict[str, str],
                                           session: Session) -> None:
    _world(session)
    run = _run(client, tokens["admin"]).json()
    pol = _proposal_of(client, tokens["admin"], run["id"], "POL")
    deu = _proposal_of(client, tokens["admin"], run["id"], "DEU")

    def approve(proposal: dict[str, Any], who: str) -> int:
        return client.post(f"{API}/matching/proposals/{proposal['id']}/approve",
                           headers=auth(tokens[who])).status_code

    assert approve(pol, "deu") == 403  # sees POL's coalition pledge, is not POL
    assert approve(pol, "coord") == 403  # the secretariat proposes, the nation decides
    assert approve(deu, "pol") == 404  # DEU's national pledge does not exist for POL
    assert client.get(f"{API}/matching/proposals/{deu['id']}",
                      headers=auth(tokens["pol"])).status_code == 404
    assert approve(deu, "deu") == 200


def test_proposals_filter_by_status_and_validate_donor(client: TestClient,
                                                       tokens: dict[str, str],
                                                       session: Session) -> None:
    _world(session)
    _run(client, tokens["coord"])
    proposed = client.get(f"{API}/matching/proposals", params={"status": "proposed"},
                          headers=auth(tokens["coord"])).json()
    bad = client.get(f"{API}/matching/proposals", params={"donor": "XXX"},
                     headers=auth(tokens["coord"]))
    assert proposed["total"] == 2
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "donor"


def test_explain_from_the_run_and_fresh(client: TestClient, tokens: dict[str, str],
                                        session: Session) -> None:
    ids = _world(session)
    run = _run(client, tokens["coord"]).json()

    from_run = client.get(f"{API}/requirements/{ids['need']}/explain",
                          headers=auth(tokens["coord"]))
    fresh = client.get(f"{API}/requirements/{ids['need']}/explain", headers=auth(tokens["pol"]))
    foreign = client.get(f"{API}/requirements/{ids['need']}/explain",
                         params={"run": run["id"]}, headers=auth(tokens["pol"]))

    assert from_run.status_code == 200, from_run.text
    body = from_run.json()
    # The UDCG secretariat sees DEU's national pledge of its format too.
    assert (body["run_id"], body["needed"], body["proposed"]) == (run["id"], 100, 100)
    assert body["outcome"] == "met" and body["causes"] == ["split"]
    assert "(donor POL)" in body["text"] and "(donor DEU)" in body["text"]
    # POL's desk cannot: its fresh view has only POL's 60.
    mine = fresh.json()
    assert (mine["run_id"], mine["compatible_pledges"], mine["proposed"]) == (None, 1, 60)
    assert mine["outcome"] == "partially met" and "supply_exhausted" in mine["causes"]
    assert foreign.status_code == 403


def test_withdrawal_scenarios(client: TestClient, tokens: dict[str, str],
                              session: Session) -> None:
    ids = _world(session)
    one = client.post(f"{API}/scenarios/withdraw", json={"donor": "POL", "from": "2024-01-01"},
                      headers=auth(tokens["coord"]))
    top = client.post(f"{API}/scenarios/withdraw", json={"top": 2},
                      headers=auth(tokens["admin"]))
    neither = client.post(f"{API}/scenarios/withdraw", json={}, headers=auth(tokens["admin"]))
    national = client.post(f"{API}/scenarios/withdraw", json={"donor": "POL"},
                           headers=auth(tokens["pol"]))

    assert one.status_code == 200, one.text
    report = one.json()
    assert report["from_date"] == "2024-01-01"
    assert [(g["requirement_id"], g["quantity_lost"]) for g in report["gaps"]] == [
        (ids["need"], 40)]  # DEU's 60 (seen by the secretariat) still come
    assert top.status_code == 200 and len(top.json()["donors"]) == 2
    assert neither.status_code == 422
    assert national.status_code == 403
