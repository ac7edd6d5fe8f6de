"""Service rules of pledges: value in EUR, the state machine, national ownership, allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from coalition.pledges import flows
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, PledgeStatus
from coalition.pledges.schemas import PledgeUpdate
from coalition.requirements.models import RequirementStatus
from tests import factories
from tests.factories import World


def test_create_converts_value_to_eur_cents(world: World, session: Session) -> None:
    p = factories.pledge(session, amount=Decimal("1000.55"), currency="USD",
                         fx_rate_to_eur=Decimal("0.9215"))
    assert p.value_eur_cents == 92201  # 1000.55 x 0.9215 = 922.006825 -> 922.01 EUR
    assert p.status is PledgeStatus.ANNOUNCED
    assert [t.to_status for t in pledge_service.history(session, pledge_id=p.id)] == [
        PledgeStatus.ANNOUNCED]


def test_create_refuses_fx_rate_other_than_one_for_eur(world: World, session: Session) -> None:
    with pytest.raises(ValidationFailed, match="fx_rate_to_eur"):
        factories.pledge(session, fx_rate_to_eur=Decimal("0.9"))


def test_create_refuses_unknown_donor_naming_field(world: World, session: Session) -> None:
    with pytest.raises(ValidationFailed) as err:
        factories.pledge(session, donor="XXX")
    assert err.value.errors[0].field == "donor"


def test_create_refuses_duplicate_external_id(world: World, session: Session) -> None:
    factories.pledge(session, external_id="E-1")
    with pytest.raises(Conflict, match="external_id"):
        factories.pledge(session, external_id="E-1")


def test_national_user_pledges_only_for_own_nation(world: World, session: Session) -> None:
    factories.pledge(session, donor="POL", actor=world.actor("pol"))
    with pytest.raises(Forbidden):
        factories.pledge(session, donor="DEU", actor=world.actor("pol"))


def test_joint_fund_purchase_needs_a_contribution_parent(world: World, session: Session) -> None:
    plain = factories.pledge(session)
    with pytest.raises(ValidationFailed, match="parent"):
        factories.pledge(session, funding=FundingMechanism.JOINT_FUND_PURCHASE,
                         parent_pledge_id=plain.id)
    fund = factories.pledge(session, funding=FundingMechanism.JOINT_FUND_CONTRIBUTION)
    child = factories.pledge(session, funding=FundingMechanism.JOINT_FUND_PURCHASE,
                             parent_pledge_id=fund.id)
    assert child.parent_pledge_id == fund.id


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (PledgeStatus.ALLOCATED, "allocations and deliveries"),
        (PledgeStatus.SHIPPED, "allocations and deliveries"),
        (PledgeStatus.DELIVERED, "allocations and deliveries"),
    ],
)
def test_transition_refuses_derived_statuses(world: World, session: Session, to: PledgeStatus,
                                             message: str) -> None:
    p = factories.pledge(session, confirm=True)
    with pytest.raises(InvalidTransition, match=message):
        pledge_service.transition(session, actor=SYSTEM, pledge_id=p.id, to=to, reason="")


def test_transition_refuses_confirming_twice(world: World, session: Session) -> None:
    p = factories.pledge(session, confirm=True)
    with pytest.raises(InvalidTransition, match="confirmed pledge cannot become confirmed"):
        pledge_service.transition(session, actor=SYSTEM, pledge_id=p.id,
                                  to=PledgeStatus.CONFIRMED, reason="")


def test_withdraw_needs_reason_and_is_final(world: World, session: Session) -> None:
    p = factories.pledge(session)
    with pytest.raises(ValidationFailed, match="reason"):
        pledge_service.transition(session, actor=SYSTEM, pledge_id=p.id,
                                  to=PledgeStatus.WITHDRAWN, reason=" ")
    pledge_service.transition(session, actor=SYSTEM, pledge_id=p.id, to=PledgeStatus.WITHDRAWN,
                              reason="stocks needed at home")
    with pytest.raises(InvalidTransition, match="final"):
        pledge_service.transition(session, actor=SYSTEM, pledge_id=p.id,
                                  to=PledgeStatus.CONFIRMED, reason="")
    history = pledge_service.history(session, pledge_id=p.id)
    assert history[-1].reason == "stocks needed at home"


def test_allocate_moves_quantities_and_status(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=100, confirm=True)
    r = factories.requirement(session, quantity=60)
    flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=60)
    assert (p.quantity_allocated, p.status) == (60, PledgeStatus.CONFIRMED)
    assert (r.quantity_committed, r.status) == (60, RequirementStatus.MET)
    r2 = factories.requirement(session, item_type="155-b", quantity=50)
    flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r2.id, quantity=40)
    assert p.status is PledgeStatus.ALLOCATED
    assert r2.status is RequirementStatus.PARTIALLY_MET


def test_allocate_refuses_more_than_remaining(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=10, confirm=True)
    r = factories.requirement(session, quantity=100)
    with pytest.raises(Conflict, match="only 10 uncommitted"):
        flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=11)


def test_allocate_refuses_more_than_the_need(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=100, confirm=True)
    r = factories.requirement(session, quantity=5)
    with pytest.raises(Conflict, match="requirement"):
        flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=6)


def test_allocate_refuses_incompatible_item(world: World, session: Session) -> None:
    p = factories.pledge(session, item_type="152-a", confirm=True)
    r = factories.requirement(session, item_type="155-a")
    with pytest.raises(ValidationFailed, match="compatibility group"):
        flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=1)


def test_allocate_refuses_unconfirmed_pledge(world: World, session: Session) -> None:
    p = factories.pledge(session)
    r = factories.requirement(session)
    with pytest.raises(InvalidTransition, match="only confirmed"):
        flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=1)


def test_only_the_donor_nation_allocates(world: World, session: Session) -> None:
    p = factories.pledge(session, donor="DEU", confirm=True)
    r = factories.requirement(session)
    with pytest.raises(Forbidden):
        flows.allocate(session, actor=world.actor("pol"), pledge_id=p.id, requirement_id=r.id,
                       quantity=1)
    flows.allocate(session, actor=world.actor("deu"), pledge_id=p.id, requirement_id=r.id,
                   quantity=1)


def test_progress_advances_to_delivered_and_never_beyond(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=10, confirm=True)
    r = factories.requirement(session, quantity=10)
    a = flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=10)
    flows.apply_progress(session, actor=SYSTEM, allocation_id=a.id, shipped=10, delivered=4,
                         reason="partial receipt")
    assert (p.status, p.quantity_shipped, p.quantity_delivered) == (PledgeStatus.SHIPPED, 10, 4)
    assert (r.quantity_in_transit, r.quantity_delivered) == (6, 4)
    flows.apply_progress(session, actor=SYSTEM, allocation_id=a.id, shipped=10, delivered=10,
                         reason="received")
    assert p.status is PledgeStatus.DELIVERED
    assert [t.to_status for t in pledge_service.history(session, pledge_id=p.id)] == [
        PledgeStatus.ANNOUNCED, PledgeStatus.CONFIRMED, PledgeStatus.ALLOCATED,
        PledgeStatus.SHIPPED, PledgeStatus.DELIVERED]
    with pytest.raises(ValidationFailed):
        flows.apply_progress(session, actor=SYSTEM, allocation_id=a.id, shipped=10,
                             delivered=11, reason="too many")


@pytest.mark.parametrize(("user", "allowed"), [
    ("deu", True), ("ukr", True), ("coord", True), ("pol", False), ("observer", False),
    ("analyst-jpn", False)])
def test_only_donor_recipient_and_secretariat_record_progress(
        world: World, session: Session, user: str, allowed: bool) -> None:
    p = factories.pledge(session, donor="DEU", quantity=10, confirm=True)
    r = factories.requirement(session, quantity=10)
    a = flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=10)
    if not allowed:
        with pytest.raises(Forbidden):
            flows.apply_progress(session, actor=world.actor(user), allocation_id=a.id,
                                 shipped=10, delivered=0, reason="dispatched")
        return
    flows.apply_progress(session, actor=world.actor(user), allocation_id=a.id, shipped=10,
                         delivered=0, reason="dispatched")
    assert p.quantity_shipped == 10


def test_cancel_allocation_releases_quantity(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=10, confirm=True)
    r = factories.requirement(session, quantity=10)
    a = flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=10)
    assert p.status is PledgeStatus.ALLOCATED
    flows.cancel_allocation(session, actor=SYSTEM, allocation_id=a.id, reason="re-plan")
    assert (p.quantity_allocated, p.status) == (0, PledgeStatus.CONFIRMED)
    assert (r.quantity_committed, r.status) == (0, RequirementStatus.OPEN)


def test_update_refuses_quantity_below_allocated(world: World, session: Session) -> None:
    p = factories.pledge(session, quantity=10, confirm=True)
    r = factories.requirement(session, quantity=10)
    flows.allocate(session, actor=SYSTEM, pledge_id=p.id, requirement_id=r.id, quantity=8)
    with pytest.raises(ValidationFailed, match="quantity"):
        pledge_service.update_pledge(session, actor=SYSTEM, pledge_id=p.id,
                                     data=PledgeUpdate(quantity=7))
    updated = pledge_service.update_pledge(session, actor=SYSTEM, pledge_id=p.id,
                                           data=PledgeUpdate(quantity=8))
    assert updated.status is PledgeStatus.ALLOCATED


def test_invisible_pledge_is_not_found(world: World, session: Session) -> None:
    from coalition.access.labels import Releasability

    p = factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    assert pledge_service.get_pledge(session, actor=world.actor("pol"), pledge_id=p.id)
    with pytest.raises(NotFound):
        pledge_service.get_pledge(session, actor=world.actor("jpn"), pledge_id=p.id)
    with pytest.raises(NotFound):
        pledge_service.get_pledge(session, actor=world.actor("observer"), pledge_id=p.id)
