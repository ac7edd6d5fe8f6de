"""The matching page: coordinators run and review; each donor's desk decides its own
proposals in place, and the remaining quantities on the page follow each decision."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.matching.models import Proposal, ProposalStatus
from coalition.pledges.models import Allocation
from tests import factories
from tests.factories import World

Signer = Callable[[str], str]
HX = {"HX-Request": "true", "HX-Target": "proposal-results"}


def _book(session: Session) -> int:
    need = factories.requirement(session, quantity=100, priority=1)
    factories.pledge(session, donor="POL", quantity=60, confirm=True)
    factories.pledge(session, donor="DEU", quantity=60, confirm=True)
    session.commit()
    return need.id


def _run(client: TestClient, token: str) -> int:
    response = client.post("/matching/runs", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("=", 1)[1])


def _proposal(session: Session, donor: str) -> Proposal:
    session.expire_all()
    proposal = session.scalar(select(Proposal).join(Proposal.donor)
                              .where(Proposal.donor.has(code=donor)))
    assert proposal is not None
    return proposal


def test_coordinator_runs_and_reviews_with_reasons(client: TestClient, session: Session,
                                                   world: World, signed_in: Signer) -> None:
    _book(session)
    token = signed_in("coord")
    assert "No matching has been run yet" in client.get("/matching").text
    run_id = _run(client, token)
    page = client.get(f"/matching?run={run_id}").text
    assert f"Run {run_id}" in page
    assert len(re.findall(r'data-proposal="\d+"', page)) == 2
    assert "priority 1 need" in page
    assert "Approve<span" not in page  # the secretariat proposes; it does not decide


def test_dry_run_stores_nothing(client: TestClient, session: Session, world: World,
                                signed_in: Signer) -> None:
    _book(session)
    token = signed_in("coord")
    response = client.post("/matching/runs", data={"csrf_token": token, "dry_run": "1"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Dry run: nothing was stored" in response.text
    assert session.scalar(select(Proposal.id)) is None


def test_desks_approve_and_decline_their_own_in_place(client: TestClient, session: Session,
                                                      world: World, signed_in: Signer) -> None:
    need_id = _book(session)
    _run(client, signed_in("coord"))
    pol, deu = _proposal(session, "POL"), _proposal(session, "DEU")
    client.cookies.clear()
    token = signed_in("pol")
    mine = client.get("/matching").text
    assert f'data-proposal="{pol.id}"' in mine and f'data-proposal="{deu.id}"' not in mine
    before = client.get("/matching?status=proposed", headers=HX).text
    assert re.search(rf'id="proposal-{deu.id}".*?need 100<', before, re.S)
    approved = client.post(f"/matching/proposals/{pol.id}/approve",
                           data={"csrf_token": token, "status": "proposed"}, headers=HX)
    assert approved.status_code == 200
    assert f"Proposal {pol.id} approved" in approved.text
    # The other desk's proposal for the same need now shows the smaller remaining need.
    need_left = 100 - pol.quantity
    assert re.search(rf'id="proposal-{deu.id}".*?need {need_left}<', approved.text, re.S)
    allocation = session.scalar(select(Allocation).where(Allocation.requirement_id == need_id))
    assert allocation is not None and allocation.quantity == pol.quantity

    client.cookies.clear()
    token = signed_in("deu")
    refused = client.post(f"/matching/proposals/{deu.id}/decline",
                          data={"csrf_token": token}, headers=HX)
    assert refused.status_code == 422
    assert f'id="error-{deu.id}"' in refused.text and "needs a reason" in refused.text
    declined = client.post(f"/matching/proposals/{deu.id}/decline",
                           data={"csrf_token": token, "reason": "needed at home"}, headers=HX)
    assert declined.status_code == 200 and "declined" in declined.text
    assert _proposal(session, "DEU").status is ProposalStatus.DECLINED


def test_a_desk_cannot_decide_another_nations_proposal(client: TestClient, session: Session,
                                                       world: World, signed_in: Signer) -> None:
    _book(session)
    _run(client, signed_in("coord"))
    deu = _proposal(session, "DEU")
    client.cookies.clear()
    token = signed_in("pol")
    response = client.post(f"/matching/proposals/{deu.id}/approve",
                           data={"csrf_token": token}, headers=HX)
    assert response.status_code == 422
    assert "own nation" in response.text
    assert _proposal(session, "DEU").status is ProposalStatus.PROPOSED


def test_observers_do_not_see_matching(client: TestClient, signed_in: Signer) -> None:
    signed_in("observer")
    assert client.get("/matching").status_code == 403


def test_requirement_detail_explains_its_coverage(client: TestClient, session: Session,
                                                  world: World, signed_in: Signer) -> None:
    need_id = _book(session)
    token = signed_in("coord")
    assert 'data-testid="explain"' in client.get(f"/requirements/{need_id}").text
    fresh = client.get(f"/requirements/{need_id}/explain", headers={"HX-Request": "true"})
    assert fresh.status_code == 200 and "fresh solve" in fresh.text
    assert f"Requirement {need_id} (priority 1): needs 100" in fresh.text
    run_id = _run(client, token)
    stored = client.get(f"/requirements/{need_id}/explain").text
    assert f"from matching run {run_id}" in stored and "<html" in stored
