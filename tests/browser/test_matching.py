"""Matching in the browser: the secretariat runs it, a national desk approves one of its
nation's proposals and declines another, in place."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coalition.matching.models import Proposal, ProposalStatus
from coalition.registry.models import Participant
from tests.browser.conftest import Server, Session

DESKS = {"USA": "desk-usa", "DEU": "desk-deu", "POL": "desk-pol", "NLD": "desk-nld",
         "JPN": "desk-jpn", "AUS": "desk-aus"}


def _busiest_desk(server: Server) -> tuple[str, list[int]]:
    """The demo desk with the most proposals awaiting its decision, and their ids."""
    with DbSession(server.engine) as db:
        rows = db.execute(
            select(Participant.code, func.count())
            .join(Proposal, Proposal.donor_id == Participant.id)
            .where(Proposal.status == ProposalStatus.PROPOSED,
                   Participant.code.in_(list(DESKS)))
            .group_by(Participant.code).order_by(func.count().desc())).all()
        assert rows and rows[0][1] >= 2, "the demo run should leave a desk two proposals"
        code = rows[0][0]
        ids = list(db.scalars(select(Proposal.id).join(Participant,
                                                       Participant.id == Proposal.donor_id)
                              .where(Participant.code == code,
                                     Proposal.status == ProposalStatus.PROPOSED)
                              .order_by(Proposal.id)))
    return DESKS[code], ids


def _status(server: Server, proposal_id: int) -> ProposalStatus:
    with DbSession(server.engine) as db:
        proposal = db.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal.status


def test_run_then_approve_one_and_decline_another(ui: Session, server: Server) -> None:
    page = ui.login("udcg-secretariat")
    ui.go("/matching")
    page.get_by_test_id("run-matching").click()
    expect(page).to_have_url(re.compile(r"/matching\?run=\d+"), timeout=60_000)
    expect(page.locator("#summary-h")).to_have_text(re.compile(r"Run \d+"))
    expect(page.locator("#proposal-table tbody tr").first).to_be_visible()
    ui.shot("matching-coordinator")

    desk, ids = _busiest_desk(server)
    page.get_by_role("button", name="Log out").click()
    page = ui.login(desk)
    ui.go("/matching")
    first, second = ids[0], ids[1]
    row = page.locator(f"#proposal-{first}")
    expect(row).to_be_visible()
    row.get_by_role("button", name=re.compile("Approve")).click()
    expect(page.locator("#decision-status")).to_contain_text(f"Proposal {first} approved")
    assert _status(server, first) is ProposalStatus.APPROVED
    expect(page.locator(f"#proposal-{first}")).to_have_count(0)  # no longer awaiting

    ui.console.allow("status of 422")
    other = page.locator(f"#proposal-{second}")
    other.get_by_role("button", name=re.compile("Decline")).click()
    expect(page.locator(f"#error-{second}")).to_contain_text("needs a reason")
    assert _status(server, second) is ProposalStatus.PROPOSED
    page.locator(f"#reason-{second}").fill("Needed for our own air defence")
    page.locator(f"#proposal-{second}").get_by_role("button", name=re.compile("Decline")).click()
    expect(page.locator("#decision-status")).to_contain_text(f"Proposal {second} declined")
    assert _status(server, second) is ProposalStatus.DECLINED
    ui.shot("matching-desk-decided")
    ui.go("/matching?status=")
    expect(page.locator(f"#proposal-{first}")).to_contain_text("Approved")
    expect(page.locator(f"#proposal-{second}")).to_contain_text("Needed for our own air defence")
