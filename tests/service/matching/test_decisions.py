"""Sovereign approval: only the donor nation decides; approval allocates, decline excludes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.access.models import AuditEntry
from coalition.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coalition.matching import service as matching
from coalition.matching.models import Proposal, ProposalStatus
from coalition.pledges import flows
from coalition.pledges.models import Allocation, Pledge, PledgeStatus
from coalition.requirements.models import Requirement, RequirementStatus
from tests import factories
from tests.factories import World


def _proposals(session: Session, **where: object) -> list[Proposal]:
    stmt = select(Proposal).order_by(Proposal.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(Proposal, column) == value)
    return list(session.scalars(stmt))


def _one_proposal(session: Session, *, donor: str = "POL", quantity: int = 100,
                  need: int = 100, **pledge_kw: Any) -> Proposal:
    factories.requirement(session, quantity=need)
    pledge = factories.pledge(session, donor=donor, quantity=quantity, confirm=True,
                              **pledge_kw)
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    (proposal,) = _proposals(session, run_id=run.id, pledge_id=pledge.id)
    return proposal


def test_approve_creates_allocation_and_moves_pledge_to_allocated(world: World,
                                                                  session: Session) -> None:
    proposal = _one_proposal(session)

    approved = matching.approve_proposal(session, actor=world.actor("pol"),
                                         proposal_id=proposal.id)

    assert approved.status is ProposalStatus.APPROVED
    assert approved.decided_by == "pol (POL)" and approved.decided_at is not None
    allocation = session.get_one(Allocation, approved.allocation_id)
    assert (allocation.pledge_id, allocation.requirement_id, allocation.quantity) == (
        proposal.pledge_id, proposal.requirement_id, 100)
    assert allocation.approved_by == "pol (POL)"
    pledge = session.get_one(Pledge, proposal.pledge_id)
    requirement = session.get_one(Requirement, proposal.requirement_id)
    session.refresh(pledge)
    session.refresh(requirement)
    assert (pledge.quantity_allocated, pledge.status) == (100, PledgeStatus.ALLOCATED)
    assert (requirement.quantity_committed, requirement.status) == (100, RequirementStatus.MET)


def test_approve_part_of_a_pledge_leaves_it_confirmed(world: World, session: Session) -> None:
    proposal = _one_proposal(session, quantity=100, need=40)

    matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)

    pledge = session.get_one(Pledge, proposal.pledge_id)
    session.refresh(pledge)
    assert (pledge.quantity_allocated, pledge.status) == (40, PledgeStatus.CONFIRMED)


def test_approved_quantity_leaves_the_next_run(world: World, session: Session) -> None:
    proposal = _one_proposal(session, quantity=100, need=40)
    matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)

    out = matching.run_matching(session, actor=SYSTEM, dry_run=True)

    assert out.summary.requirements == 0  # the need is fully committed
    assert out.summary.pledges == 1 and int(out.inputs.pledges.quantity[0]) == 60


def test_decisions_are_audited(world: World, session: Session) -> None:
    factories.requirement(session, quantity=100)
    for donor in ("POL", "DEU"):
        factories.pledge(session, donor=donor, quantity=50, confirm=True)
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    (first,) = _proposals(session, run_id=run.id, donor_id=world.actor("pol").participant_id)
    (second,) = _proposals(session, run_id=run.id, donor_id=world.actor("deu").participant_id)

    matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=first.id)
    matching.decline_proposal(session, actor=world.actor("deu"), proposal_id=second.id,
                              reason="reserved")

    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-1] == "proposal.decline"
    assert "proposal.approve" in actions and "allocation.create" in actions
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    # Labelled like the pledge: the donor nation reads the entries of its own decisions.
    assert last.owner_participant_id == session.get_one(Pledge, second.pledge_id).donor_id
    assert '"decline_reason":"reserved"' in (last.after or "")


@pytest.mark.parametrize("name", ["coord", "ukr", "analyst-jpn", "observer"])
def test_only_national_desks_and_admins_decide(world: World, session: Session,
                                               name: str) -> None:
    proposal = _one_proposal(session, releasability=Releasability.PUBLIC)
    with pytest.raises(Forbidden):
        matching.approve_proposal(session, actor=world.actor(name), proposal_id=proposal.id)
    with pytest.raises(Forbidden):
        matching.decline_proposal(session, actor=world.actor(name), proposal_id=proposal.id,
                                  reason="no")


def test_other_nation_gets_403_when_it_sees_the_proposal(world: World,
                                                         session: Session) -> None:
    proposal = _one_proposal(session, releasability=Releasability.COALITION)
    assert matching.get_proposal(session, actor=world.actor("deu"), proposal_id=proposal.id)
    with pytest.raises(Forbidden, match="own nation"):
        matching.approve_proposal(session, actor=world.actor("deu"), proposal_id=proposal.id)
    with pytest.raises(Forbidden, match="own nation"):
        matching.decline_proposal(session, actor=world.actor("deu"), proposal_id=proposal.id,
                                  reason="not ours")
    assert session.get_one(Proposal, proposal.id).status is ProposalStatus.PROPOSED


def test_other_nation_gets_404_when_the_pledge_is_invisible(world: World,
                                                            session: Session) -> None:
    proposal = _one_proposal(session, releasability=Releasability.NATIONAL)
    for call in (matching.get_proposal, matching.approve_proposal):
        with pytest.raises(NotFound):
            call(session, actor=world.actor("deu"), proposal_id=proposal.id)
    with pytest.raises(NotFound):
        matching.decline_proposal(session, actor=world.actor("deu"), proposal_id=proposal.id,
                                  reason="x")
    assert matching.get_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)


def test_proposal_to_an_invisible_requirement_is_invisible(world: World,
                                                           session: Session) -> None:
    need = factories.requirement(session, quantity=10, releasability=Releasability.NATIONAL)
    need.format_id = None
    pledge = factories.pledge(session, donor="POL", quantity=10, confirm=True)
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    (proposal,) = _proposals(session, pledge_id=pledge.id)

    with pytest.raises(NotFound):
        matching.get_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)
    page = matching.list_proposals(session, actor=world.actor("pol"), run_id=run.id)
    assert page.total == 0


def test_admin_decides_for_any_donor(world: World, session: Session) -> None:
    proposal = _one_proposal(session, donor="JPN")
    approved = matching.approve_proposal(session, actor=world.actor("admin"),
                                         proposal_id=proposal.id)
    assert approved.allocation_id is not None


def test_decline_needs_a_reason(world: World, session: Session) -> None:
    proposal = _one_proposal(session)
    with pytest.raises(ValidationFailed, match="reason"):
        matching.decline_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id,
                                  reason="   ")


def test_a_decided_proposal_cannot_be_decided_again(world: World, session: Session) -> None:
    proposal = _one_proposal(session)
    matching.decline_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id,
                              reason="not now")
    with pytest.raises(Conflict, match="declined"):
        matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)
    with pytest.raises(Conflict, match="declined"):
        matching.decline_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id,
                                  reason="again")


def test_approval_fails_cleanly_when_the_quantity_is_gone(world: World,
                                                          session: Session) -> None:
    proposal = _one_proposal(session, quantity=100, need=100)
    other_need = factories.requirement(session, quantity=100)
    # The donor commits part of the pledge elsewhere after the run.
    flows.allocate(session, actor=world.actor("pol"), pledge_id=proposal.pledge_id,
                   requirement_id=other_need.id, quantity=30)
    allocations = session.scalar(select(func.count()).select_from(Allocation))

    savepoint = session.begin_nested()
    with pytest.raises(Conflict, match="uncommitted"):
        matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id)
    savepoint.rollback()  # what the caller's unit of work does with the error

    reloaded = session.get_one(Proposal, proposal.id, populate_existing=True)
    assert reloaded.status is ProposalStatus.PROPOSED and reloaded.decided_by is None
    assert session.scalar(select(func.count()).select_from(Allocation)) == allocations
    pledge = session.get_one(Pledge, proposal.pledge_id)
    session.refresh(pledge)
    assert pledge.quantity_allocated == 30


def test_list_proposals_filters_by_run_donor_and_status(world: World,
                                                        session: Session) -> None:
    factories.requirement(session, quantity=300)
    for donor in ("POL", "DEU", "JPN"):
        factories.pledge(session, donor=donor, quantity=50, confirm=True)
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    (pol,) = _proposals(session, run_id=run.id, donor_id=world.actor("pol").participant_id)
    matching.approve_proposal(session, actor=world.actor("pol"), proposal_id=pol.id)

    everyone = matching.list_proposals(session, actor=world.actor("coord"), run_id=run.id)
    deu = matching.list_proposals(session, actor=world.actor("coord"), donor="DEU")
    approved = matching.list_proposals(session, actor=world.actor("coord"),
                                       status=ProposalStatus.APPROVED)

    assert everyone.total == 3
    assert [p.donor.code for p in deu.items] == ["DEU"]
    assert [p.id for p in approved.items] == [pol.id]
    with pytest.raises(ValidationFailed, match="donor"):
        matching.list_proposals(session, actor=world.actor("coord"), donor="XXX")
    with pytest.raises(Forbidden):
        matching.list_proposals(session, actor=world.actor("observer"))
