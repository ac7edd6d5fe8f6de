"""Matching runs: stored proposals, dry runs, superseding, declined pairs, scope, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.access.models import AuditEntry
from coalition.errors import Forbidden
from coalition.matching import service as matching
from coalition.matching.models import MatchRun, Proposal, ProposalStatus
from coalition.matching.objective import MatchPolicy
from coalition.pledges.models import Allocation
from tests import factories
from tests.factories import DAY, World


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _pairs(session: Session, run_id: int) -> dict[tuple[int, int], int]:
    rows = session.execute(select(Proposal.pledge_id, Proposal.requirement_id, Proposal.quantity)
                           .where(Proposal.run_id == run_id))
    return {(p, r): q for p, r, q in rows}


def test_run_stores_run_and_proposals_with_reasons(world: World, session: Session) -> None:
    urgent = factories.requirement(session, quantity=60, priority=1)
    later = factories.requirement(session, quantity=100, priority=4)
    pol = factories.pledge(session, donor="POL", quantity=100, confirm=True)
    factories.pledge(session, donor="DEU", quantity=30, confirm=False)  # announced: not supply

    out = matching.run_matching(session, actor=world.actor("coord"))

    assert out.run is not None
    run = session.get_one(MatchRun, out.run.id)
    assert (run.requirements, run.pledges, run.proposals, run.quantity_proposed) == (2, 1, 2, 100)
    assert _pairs(session, run.id) == {(pol.id, urgent.id): 60, (pol.id, later.id): 40}
    first = session.scalars(select(Proposal).where(Proposal.requirement_id == urgent.id)).one()
    assert first.status is ProposalStatus.PROPOSED
    assert first.donor_id == pol.donor_id
    assert (first.reason_code, first.lateness_days, first.substitution) == ("P1", 0, False)
    assert first.reason_text == "priority 1 need; on time; same item type"
    assert run.objective["quantity_met"] == 100
    assert run.objective["met_by_priority"] == [60, 0, 0, 40, 0]
    assert run.scope == "UDCG"
    assert out.summary.objective is not None and out.summary.proposals == 2


def test_run_proposes_substitutes_and_lateness(world: World, session: Session) -> None:
    need = factories.requirement(session, item_type="155-a", quantity=50,
                                 needed_by=DAY + dt.timedelta(days=10))
    sub = factories.pledge(session, donor="DEU", item_type="155-b", quantity=50, confirm=True,
                           available_from=DAY + dt.timedelta(days=25))
    factories.pledge(session, donor="POL", item_type="152-a", quantity=500, confirm=True)

    out = matching.run_matching(session, actor=SYSTEM)

    assert out.run is not None
    proposal = session.scalars(select(Proposal).where(Proposal.run_id == out.run.id)).one()
    assert (proposal.pledge_id, proposal.requirement_id) == (sub.id, need.id)
    assert (proposal.lateness_days, proposal.substitution) == (15, True)
    assert proposal.reason_code == "P1+15d/sub"


def test_dry_run_stores_nothing(world: World, session: Session) -> None:
    factories.requirement(session, quantity=10)
    factories.pledge(session, quantity=10, confirm=True)
    counts = [_count(session, m) for m in (MatchRun, Proposal, AuditEntry, Allocation)]

    out = matching.run_matching(session, actor=world.actor("coord"), dry_run=True)

    assert out.run is None
    assert out.summary.id is None and out.summary.dry_run
    assert out.summary.proposals == 1 and out.summary.quantity_proposed == 10
    assert len(out.result.proposals) == 1
    assert [_count(session, m) for m in (MatchRun, Proposal, AuditEntry, Allocation)] == counts


def test_new_run_supersedes_proposals_still_pending(world: World, session: Session) -> None:
    need = factories.requirement(session, quantity=10)
    factories.pledge(session, donor="POL", quantity=10, confirm=True)
    first = matching.run_matching(session, actor=SYSTEM).run
    assert first is not None
    declined_before = session.scalars(select(Proposal).where(Proposal.run_id == first.id)).one()
    matching.decline_proposal(session, actor=world.actor("pol"), proposal_id=declined_before.id,
                              reason="kept for our own training")
    other = factories.pledge(session, donor="DEU", quantity=10, confirm=True)
    second = matching.run_matching(session, actor=SYSTEM).run
    assert second is not None
    pending = session.scalars(select(Proposal).where(Proposal.run_id == second.id)).one()
    assert (pending.pledge_id, pending.requirement_id) == (other.id, need.id)

    third = matching.run_matching(session, actor=SYSTEM).run

    assert third is not None and third.superseded == 1
    session.refresh(pending)
    session.refresh(declined_before)
    assert pending.status is ProposalStatus.SUPERSEDED
    assert declined_before.status is ProposalStatus.DECLINED


def test_declined_pair_is_not_proposed_again(world: World, session: Session) -> None:
    need = factories.requirement(session, quantity=10)
    pol = factories.pledge(session, donor="POL", quantity=10, confirm=True)
    deu = factories.pledge(session, donor="DEU", quantity=10, confirm=True,
                           available_from=DAY + dt.timedelta(days=200))
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    assert _pairs(session, run.id) == {(pol.id, need.id): 10}  # on time beats 110 days late
    proposal = session.scalars(select(Proposal).where(Proposal.run_id == run.id)).one()

    matching.decline_proposal(session, actor=world.actor("pol"), proposal_id=proposal.id,
                              reason="needed at home")
    again = matching.run_matching(session, actor=SYSTEM).run

    assert again is not None and again.excluded_pairs == 1
    assert _pairs(session, again.id) == {(deu.id, need.id): 10}


def test_run_needs_a_coordinator_or_admin(world: World, session: Session) -> None:
    for name in ("pol", "ukr", "analyst-jpn", "observer"):
        with pytest.raises(Forbidden):
            matching.run_matching(session, actor=world.actor(name), dry_run=True)


def test_coordinator_run_covers_only_what_the_coordinator_sees(world: World,
                                                               session: Session) -> None:
    need = factories.requirement(session, quantity=100)
    seen = factories.pledge(session, donor="POL", quantity=10, confirm=True)
    # Another format's national record: invisible to the UDCG secretariat.
    hidden = factories.pledge(session, donor="DEU", quantity=10, confirm=True,
                              releasability=Releasability.NATIONAL)
    hidden.format_id = None
    session.flush()

    coord = matching.run_matching(session, actor=world.actor("coord")).run
    admin = matching.run_matching(session, actor=world.actor("admin")).run

    assert coord is not None and admin is not None
    assert _pairs(session, coord.id) == {(seen.id, need.id): 10}
    assert _pairs(session, admin.id) == {(seen.id, need.id): 10, (hidden.id, need.id): 10}
    assert coord.format_id is not None and admin.format_id is None


def test_run_is_audited_once_with_a_digest(world: World, session: Session) -> None:
    factories.requirement(session, quantity=100)
    for donor in ("POL", "DEU", "JPN"):
        factories.pledge(session, donor=donor, quantity=20, confirm=True)
    before = _count(session, AuditEntry)

    run = matching.run_matching(session, actor=world.actor("coord")).run

    assert run is not None
    entries = session.scalars(select(AuditEntry).where(AuditEntry.id > 0)
                              .order_by(AuditEntry.id.desc()).limit(1)).all()
    assert _count(session, AuditEntry) == before + 1
    assert entries[0].action == "matching.run"
    assert entries[0].target_id == str(run.id)
    assert '"proposals":3' in (entries[0].after or "")
    assert "proposals_sha256" in (entries[0].after or "")


def test_run_with_lateness_limit_leaves_late_pairs_out(world: World, session: Session) -> None:
    factories.requirement(session, quantity=10, needed_by=DAY)
    factories.pledge(session, quantity=10, confirm=True, available_from=DAY + dt.timedelta(40))

    loose = matching.run_matching(session, actor=SYSTEM, dry_run=True)
    strict = matching.run_matching(session, actor=SYSTEM, dry_run=True,
                                   policy=MatchPolicy(max_lateness_days=30))

    assert loose.summary.proposals == 1
    assert strict.summary.proposals == 0
    assert strict.summary.policy is not None
    assert strict.summary.policy["max_lateness_days"] == 30


def test_run_summary_hides_scope_totals_from_other_readers(world: World,
                                                           session: Session) -> None:
    factories.requirement(session, quantity=10)
    factories.pledge(session, donor="POL", quantity=10, confirm=True)
    run = matching.run_matching(session, actor=world.actor("coord")).run
    assert run is not None

    own = matching.summarise(session, actor=world.actor("coord"), run=run)
    pol = matching.summarise(session, actor=world.actor("pol"), run=run)
    admin_run = matching.run_matching(session, actor=SYSTEM).run
    assert admin_run is not None
    coord_on_admin = matching.summarise(session, actor=world.actor("coord"), run=admin_run)

    assert own.objective is not None and own.proposals == 1
    assert pol.objective is None and pol.proposals is None
    assert pol.visible_proposals is not None
    assert pol.visible_proposals[ProposalStatus.PROPOSED] == 1
    assert coord_on_admin.objective is None
