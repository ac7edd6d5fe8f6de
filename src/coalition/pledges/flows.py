"""Multi-step work on pledges and requirements together: allocating, releasing, progress.

Quantities move with conditional UPDATEs (`... WHERE allocated + q <= quantity`), so concurrent
writers can never over-allocate a pledge or over-commit a requirement on any backend.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from coalition.pledges import lifecycle
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Allocation, AllocationStatus, Pledge, PledgeStatus
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement, RequirementStatus


def compatible(pledge: Pledge, requirement: Requirement) -> bool:
    """Same item type, or another item type of the same (non-empty) compatibility group."""
    if pledge.item_type_id == requirement.item_type_id:
        return True
    group = pledge.item_type.compatibility_group
    return group is not None and group == requirement.item_type.compatibility_group


def allocate(session: Session, *, actor: Actor, pledge_id: int, requirement_id: int,
             quantity: int, note: str = "") -> Allocation:
    """A confirmed pledge's uncommitted quantity goes to a compatible, open requirement.

    Only the donor nation (or the secretariat on its recorded instruction) decides.
    """
    policy.ensure(actor, policy.ALLOCATE)
    if quantity <= 0:
        raise ValidationFailed.single("quantity", "must be positive", quantity)
    pledge = pledge_service.get_pledge(session, actor=actor, pledge_id=pledge_id)
    policy.ensure_own_nation(actor, pledge.donor_id, what="allocate pledges")
    policy.ensure_coordinates(actor, pledge.format_id, what="allocate pledges")
    requirement = requirement_service.get_requirement(session, actor=actor,
                                                      requirement_id=requirement_id)
    if pledge.status not in lifecycle.ALLOCATABLE:
        raise InvalidTransition(
            f"status: pledge {pledge.id} is {pledge.status.value}; only confirmed pledges "
            "can be allocated")
    if requirement.status is RequirementStatus.WITHDRAWN:
        raise InvalidTransition(f"requirement {requirement.id} is withdrawn")
    if not compatible(pledge, requirement):
        raise ValidationFailed.single(
            "requirement_id", f"{pledge.item_type.name} cannot serve "
            f"{requirement.item_type.name} (different compatibility group)", requirement_id)
    took = cast(CursorResult[Any], session.execute(
        update(Pledge)
        .where(Pledge.id == pledge.id, Pledge.status == PledgeStatus.CONFIRMED,
               Pledge.quantity_allocated + quantity <= Pledge.quantity)
        .values(quantity_allocated=Pledge.quantity_allocated + quantity)
        .execution_options(synchronize_session=False)
    )).rowcount
    if took != 1:
        session.refresh(pledge)
        raise Conflict(f"quantity: pledge {pledge.id} has only {pledge.quantity_uncommitted} "
                       f"uncommitted, {quantity} asked")
    took = cast(CursorResult[Any], session.execute(
        update(Requirement)
        .where(Requirement.id == requirement.id,
               Requirement.quantity_committed + quantity <= Requirement.quantity)
        .values(quantity_committed=Requirement.quantity_committed + quantity)
        .execution_options(synchronize_session=False)
    )).rowcount
    if took != 1:
        # The caller's unit of work rolls back, taking our pledge update with it.
        raise Conflict(f"quantity: requirement {requirement.id} needs less than {quantity} more")
    allocation = Allocation(pledge_id=pledge.id, requirement_id=requirement.id,
                            quantity=quantity, quantity_shipped=0, quantity_delivered=0,
                            status=AllocationStatus.ACTIVE, approved_by=actor.label)
    session.add(allocation)
    session.flush()
    _sync(session, actor, pledge, requirement, reason=note or f"allocation {allocation.id}")
    audit.record(session, actor=actor, action="allocation.create", target=allocation)
    return allocation


def _sync(session: Session, actor: Actor, pledge: Pledge, requirement: Requirement,
          *, reason: str) -> None:
    """Reload counters changed in SQL and move statuses to where the quantities say."""
    session.refresh(pledge)
    session.refresh(requirement)
    for step in lifecycle.path_to(pledge, lifecycle.status_for_quantities(pledge)):
        pledge_service.advance(session, actor=actor, pledge=pledge, to=step, reason=reason)
    requirement.status = requirement_service.derive_status(requirement)
    session.flush()


def get_allocation(session: Session, *, actor: Actor, allocation_id: int) -> Allocation:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound(f"no allocation with id {allocation_id}")
    pledge_service.get_pledge(session, actor=actor, pledge_id=allocation.pledge_id)
    return allocation


def list_allocations(session: Session, *, actor: Actor, pledge_id: int | None = None,
                     requirement_id: int | None = None) -> list[Allocation]:
    from coalition.access.visibility import visible

    stmt = visible(select(Allocation).join(Pledge, Pledge.id == Allocation.pledge_id),
                   actor, Pledge)
    if pledge_id is not None:
        stmt = stmt.where(Allocation.pledge_id == pledge_id)
    if requirement_id is not None:
        stmt = stmt.where(Allocation.requirement_id == requirement_id)
    return list(session.scalars(stmt.order_by(Allocation.id)))


def cancel_allocation(session: Session, *, actor: Actor, allocation_id: int,
                      reason: str) -> Allocation:
    """Releases the quantity back to the pledge and the need; impossible once anything shipped."""
    policy.ensure(actor, policy.ALLOCATE)
    allocation = get_allocation(session, actor=actor, allocation_id=allocation_id)
    pledge = allocation.pledge
    policy.ensure_own_nation(actor, pledge.donor_id, what="cancel allocations")
    policy.ensure_coordinates(actor, pledge.format_id, what="cancel allocations")
    if allocation.status is not AllocationStatus.ACTIVE:
        raise InvalidTransition(f"allocation {allocation.id} is already cancelled")
    if allocation.quantity_shipped > 0:
        raise InvalidTransition(f"allocation {allocation.id} has shipped quantity")
    before = audit.snapshot(allocation)
    allocation.status = AllocationStatus.CANCELLED
    session.execute(update(Pledge).where(Pledge.id == pledge.id)
                    .values(quantity_allocated=Pledge.quantity_allocated - allocation.quantity)
                    .execution_options(synchronize_session=False))
    session.execute(update(Requirement).where(Requirement.id == allocation.requirement_id)
                    .values(quantity_committed=Requirement.quantity_committed
                            - allocation.quantity)
                    .execution_options(synchronize_session=False))
    requirement = session.get_one(Requirement, allocation.requirement_id)
    _sync(session, actor, pledge, requirement, reason=f"allocation {allocation.id} cancelled: "
          f"{reason}")
    audit.record(session, actor=actor, action="allocation.cancel", target=allocation,
                 before=before)
    return allocation


def apply_progress(session: Session, *, actor: Actor, allocation_id: int, shipped: int,
                   delivered: int, reason: str) -> Allocation:
    """Sets an allocation's shipped and delivered totals (derived by logistics) and rolls the
    differences up to its pledge and requirement, advancing the pledge's status. Progress is
    recorded by the format's secretariat, the donor nation or the recipient."""
    policy.ensure(actor, policy.RECORD_LOGISTICS)
    allocation = session.scalar(select(Allocation).where(Allocation.id == allocation_id)
                                .with_for_update(of=Allocation))
    if allocation is None:
        raise NotFound(f"no allocation with id {allocation_id}")
    pledge = allocation.pledge
    if actor.role is Role.RECIPIENT:
        recipient_id = session.get_one(Requirement, allocation.requirement_id).recipient_id
        policy.ensure_speaks_for(actor, recipient_id, what="record deliveries")
    else:
        policy.ensure_own_nation(actor, pledge.donor_id, what="record deliveries")
        policy.ensure_coordinates(actor, pledge.format_id, what="record deliveries")
    if not 0 <= delivered <= shipped <= allocation.quantity:
        raise ValidationFailed.single(
            "quantity", f"need 0 <= delivered ({delivered}) <= shipped ({shipped}) <= "
            f"allocated ({allocation.quantity})")
    d_ship = shipped - allocation.quantity_shipped
    d_deliv = delivered - allocation.quantity_delivered
    if d_ship == 0 and d_deliv == 0:
        return allocation
    before = audit.snapshot(allocation)
    allocation.quantity_shipped = shipped
    allocation.quantity_delivered = delivered
    session.execute(update(Pledge).where(Pledge.id == allocation.pledge_id).values(
        quantity_shipped=Pledge.quantity_shipped + d_ship,
        quantity_delivered=Pledge.quantity_delivered + d_deliv,
    ).execution_options(synchronize_session=False))
    session.execute(update(Requirement).where(Requirement.id == allocation.requirement_id).values(
        quantity_in_transit=Requirement.quantity_in_transit + d_ship - d_deliv,
        quantity_delivered=Requirement.quantity_delivered + d_deliv,
    ).execution_options(synchronize_session=False))
    session.flush()
    requirement = session.get_one(Requirement, allocation.requirement_id)
    _sync(session, actor, allocation.pledge, requirement, reason=reason)
    audit.record(session, actor=actor, action="allocation.progress", target=allocation,
                 before=before)
    return allocation
