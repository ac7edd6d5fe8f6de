"""Withdrawal scenarios: lost coverage, broken commitments, refill candidates, read-only."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.catalog.models import CapabilityArea
from coalition.errors import Forbidden, ValidationFailed
from coalition.matching import scenarios
from coalition.matching import service as matching
from coalition.matching.models import Proposal, ProposalStatus
from coalition.matching.schemas import WithdrawalReport
from coalition.pledges import flows
from coalition.requirements import service as requirement_service
from tests import factories
from tests.factories import DAY, World
from tests.service.matching import helpers
from tests.service.matching.snapshot import database_digest

SHELL_CENTS = 300_000  # 155-a: EUR 3,000 a round


def _losses(report: WithdrawalReport) -> dict[int, int]:
    return {g.requirement_id: g.quantity_lost for g in report.gaps}


def test_withdrawal_reports_lost_coverage_value_and_refill(world: World,
                                                          session: Session) -> None:
    need = factories.requirement(session, quantity=100, priority=1)
    factories.requirement(session, item_type="152-a", quantity=50, priority=4)
    factories.pledge(session, donor="POL", quantity=80, confirm=True)
    factories.pledge(session, donor="DEU", quantity=20, confirm=True)
    factories.pledge(session, donor="JPN", item_type="152-a", quantity=10)  # history only

    report = scenarios.withdraw(session, actor=world.actor("coord"), donor="POL")

    assert report.donor.code == "POL"
    assert (report.pledges_withdrawn, report.quantity_withdrawn) == (1, 80)
    assert report.value_withdrawn_eur_cents == 80 * SHELL_CENTS
    assert _losses(report) == {need.id: 80}
    (gap,) = report.gaps
    assert (gap.coverage_before, gap.coverage_after, gap.priority) == (100, 20, 1)
    assert gap.value_lost_eur_cents == 80 * SHELL_CENTS
    assert gap.capability_area is CapabilityArea.ARTILLERY
    assert (report.critical_requirements_losing, report.critical_quantity_lost) == (1, 80)
    assert [(a.capability_area, a.priority, a.requirements, a.quantity_lost)
            for a in report.by_area_priority] == [(CapabilityArea.ARTILLERY, 1, 1, 80)]
    # DEU has uncommitted shells in the group (all proposed here), JPN only a history.
    assert [(c.donor, c.uncommitted_quantity, c.spare_quantity, c.category_pledges)
            for c in gap.candidates] == [("DEU", 20, 0, 1), ("JPN", 0, 0, 1)]


def test_withdrawal_breaks_undelivered_commitments_only(world: World,
                                                        session: Session) -> None:
    need = factories.requirement(session, quantity=100, priority=2)
    pol = factories.pledge(session, donor="POL", quantity=100, confirm=True)
    allocation = flows.allocate(session, actor=SYSTEM, pledge_id=pol.id,
                                requirement_id=need.id, quantity=100)
    flows.apply_progress(session, actor=SYSTEM, allocation_id=allocation.id, shipped=40,
                         delivered=40, reason="test")
    factories.pledge(session, donor="DEU", quantity=30, confirm=True)

    report = scenarios.withdraw(session, actor=SYSTEM, donor="POL")

    # 40 delivered stay; of the 60 undelivered, DEU's 30 refill half.
    (gap,) = report.gaps
    assert (gap.coverage_before, gap.coverage_after, gap.quantity_lost) == (100, 70, 30)
    assert report.quantity_withdrawn == 60


def test_withdrawal_from_a_date_keeps_earlier_pledges(world: World, session: Session) -> None:
    need = factories.requirement(session, quantity=100, needed_by=DAY + dt.timedelta(300))
    factories.pledge(session, donor="POL", quantity=50, confirm=True,
                     available_from=DAY + dt.timedelta(10))
    factories.pledge(session, donor="POL", quantity=50, confirm=True,
                     available_from=DAY + dt.timedelta(200))

    later = scenarios.withdraw(session, actor=SYSTEM, donor="POL",
                               from_date=DAY + dt.timedelta(100))
    everything = scenarios.withdraw(session, actor=SYSTEM, donor="POL")

    assert (later.pledges_withdrawn, _losses(later)) == (1, {need.id: 50})
    assert (everything.pledges_withdrawn, _losses(everything)) == (2, {need.id: 100})


def test_spare_supply_refills_without_a_re_solve(world: World, session: Session) -> None:
    factories.requirement(session, quantity=100)
    factories.pledge(session, donor="POL", quantity=60, confirm=True)
    factories.pledge(session, donor="DEU", quantity=500, confirm=True)

    report = scenarios.withdraw(session, actor=SYSTEM, donor="POL")

    assert report.gaps == [] and report.resolved_groups == 0


def _random_world(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    items = ["155-a", "155-b", "152-a"]
    for _ in range(25):
        factories.requirement(session, item_type=rng.choice(items),
                              quantity=rng.randint(10, 200), priority=rng.randint(1, 5),
                              needed_by=DAY + dt.timedelta(rng.randint(0, 200)))
    for _ in range(30):
        factories.pledge(session, donor=rng.choice(["USA", "DEU", "POL", "JPN", "AUS"]),
                         item_type=rng.choice(items), quantity=rng.randint(5, 150),
                         confirm=True, available_from=DAY + dt.timedelta(rng.randint(0, 200)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shortcut_equals_re_solving_every_group(world: World, session: Session,
                                                seed: int) -> None:
    _random_world(session, seed)
    # A declined pair makes its group incomplete: it is always re-solved.
    matching.run_matching(session, actor=SYSTEM)
    first = session.scalars(select(Proposal).order_by(Proposal.id).limit(1)).one()
    first.status = ProposalStatus.DECLINED
    session.flush()
    data = scenarios.load(session, actor=SYSTEM)
    base = scenarios.baseline(data)
    for donor_id in sorted(data.donors):
        quick = scenarios.scenario(data, base, donor_id=donor_id)
        full = scenarios.scenario(data, base, donor_id=donor_id, resolve_all=True)
        assert _losses(quick) == _losses(full)
        assert quick.resolved_groups <= full.resolved_groups


def test_top_donors_are_ranked_by_critical_gaps(world: World, session: Session) -> None:
    _random_world(session, 7)

    report = scenarios.withdraw_top(session, actor=world.actor("coord"), top=3)

    assert [d.rank for d in report.donors] == [1, 2, 3]
    keys = [(-d.critical_requirements_losing, -d.critical_quantity_lost,
             -d.value_lost_eur_cents) for d in report.donors]
    assert keys == sorted(keys)
    assert [s.donor.code for s in report.scenarios] == [d.donor.code for d in report.donors]
    values = [v for _, v in scenarios.top_donors(session, actor=world.actor("coord"), top=3)]
    assert sorted(d.pledged_value_eur_cents for d in report.donors) == sorted(values)


def test_scenarios_need_staff_or_analysts(world: World, session: Session) -> None:
    for name in ("pol", "ukr", "observer"):
        with pytest.raises(Forbidden):
            scenarios.withdraw(session, actor=world.actor(name), donor="POL")
    assert scenarios.withdraw(session, actor=world.actor("analyst-jpn"), donor="POL")
    with pytest.raises(ValidationFailed, match="donor"):
        scenarios.withdraw(session, actor=SYSTEM, donor="XXX")


def test_scenarios_change_nothing(world: World, session: Session) -> None:
    _random_world(session, 11)
    matching.run_matching(session, actor=SYSTEM)
    before = database_digest(session)

    scenarios.withdraw(session, actor=SYSTEM, donor="USA")
    scenarios.withdraw_top(session, actor=SYSTEM, top=5)

    assert database_digest(session) == before


def test_commitments_to_withdrawn_needs_do_not_count(world: World, session: Session) -> None:
    gone = factories.requirement(session, quantity=50)
    kept = factories.requirement(session, quantity=50, priority=2)
    pol = factories.pledge(session, donor="POL", quantity=100, confirm=True)
    for need in (gone, kept):
        flows.allocate(session, actor=SYSTEM, pledge_id=pol.id, requirement_id=need.id,
                       quantity=50)
    requirement_service.withdraw_requirement(session, actor=SYSTEM, requirement_id=gone.id,
                                             reason="overtaken by events")

    report = scenarios.withdraw(session, actor=SYSTEM, donor="POL")

    assert _losses(report) == {kept.id: 50}


def test_a_declined_pledge_is_no_refill_for_that_need(world: World, session: Session) -> None:
    need = factories.requirement(session, quantity=100, priority=1)
    other = factories.requirement(session, quantity=10, priority=5)
    factories.pledge(session, donor="POL", quantity=100, confirm=True)
    deu = factories.pledge(session, donor="DEU", quantity=10, confirm=True)
    run = matching.run_matching(session, actor=SYSTEM).run
    assert run is not None
    (to_other,) = session.scalars(select(Proposal).where(Proposal.pledge_id == deu.id)).all()
    assert to_other.requirement_id == other.id
    helpers.proposals_of(session, [(deu.id, need.id, 10)])
    declined = session.scalars(select(Proposal).where(Proposal.pledge_id == deu.id,
                                                      Proposal.requirement_id == need.id)).one()
    matching.decline_proposal(session, actor=world.actor("deu"), proposal_id=declined.id,
                              reason="promised elsewhere")

    report = scenarios.withdraw(session, actor=SYSTEM, donor="POL")

    (gap,) = report.gaps
    assert gap.requirement_id == need.id and gap.quantity_lost == 100
    # DEU's only pledge in the group was declined for this need: history is all it offers.
    assert [(c.donor, c.uncommitted_quantity) for c in gap.candidates] == [("DEU", 0)]
