"""The pledge state machine: which status may follow which, and on what condition.

announced → confirmed → allocated → shipped → delivered, plus withdrawn and cancelled.
`allocated`, `shipped` and `delivered` are reached only when the whole quantity is, and only
through the allocation and logistics flows; people ask for confirm, withdraw and cancel.
"""

from __future__ import annotations

from coalition.errors import InvalidTransition
from coalition.pledges.models import Pledge, PledgeStatus

S = PledgeStatus

ALLOWED: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    S.ANNOUNCED: frozenset({S.CONFIRMED, S.WITHDRAWN, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ALLOCATED, S.WITHDRAWN, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.SHIPPED, S.CONFIRMED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses a person may request directly; the others follow from quantities.
REQUESTABLE = frozenset({S.CONFIRMED, S.WITHDRAWN, S.CANCELLED})
TERMINAL = frozenset({S.DELIVERED, S.WITHDRAWN, S.CANCELLED})
# Pledges that still count as supply: they can take new allocations.
ALLOCATABLE = frozenset({S.CONFIRMED})


def check(pledge: Pledge, to: PledgeStatus) -> None:
    """Raises InvalidTransition with the reason when `to` may not follow the current status."""
    current = pledge.status
    if to not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none (final)"
        raise InvalidTransition(
            f"status: a {current.value} pledge cannot become {to.value}; allowed: {allowed}")
    if to is S.ALLOCATED and pledge.quantity_allocated != pledge.quantity:
        raise InvalidTransition(
            f"status: allocated needs the whole quantity allocated "
            f"({pledge.quantity_allocated} of {pledge.quantity})")
    if to is S.CONFIRMED and current is S.ALLOCATED and (
        pledge.quantity_allocated == pledge.quantity
    ):
        raise InvalidTransition("status: the whole quantity is still allocated")
    if to is S.SHIPPED and pledge.quantity_shipped != pledge.quantity:
        raise InvalidTransition(
            f"status: shipped needs the whole quantity shipped "
            f"({pledge.quantity_shipped} of {pledge.quantity})")
    if to is S.DELIVERED and pledge.quantity_delivered != pledge.quantity:
        raise InvalidTransition(
            f"status: delivered needs the whole quantity delivered "
            f"({pledge.quantity_delivered} of {pledge.quantity})")
    if to is S.WITHDRAWN and pledge.quantity_allocated > 0:
        raise InvalidTransition(
            "status: a pledge with allocations cannot be withdrawn; cancel its allocations first")
    if to is S.CANCELLED and pledge.quantity_shipped > 0:
        raise InvalidTransition("status: a pledge with shipped quantity cannot be cancelled")


def status_for_quantities(pledge: Pledge) -> PledgeStatus:
    """Where the quantities say the pledge stands, once it is confirmed or beyond."""
    if pledge.status in {S.ANNOUNCED, S.WITHDRAWN, S.CANCELLED}:
        return pledge.status
    if pledge.quantity_delivered == pledge.quantity:
        return S.DELIVERED
    if pledge.quantity_shipped == pledge.quantity:
        return S.SHIPPED
    if pledge.quantity_allocated == pledge.quantity:
        return S.ALLOCATED
    return S.CONFIRMED


def path_to(pledge: Pledge, target: PledgeStatus) -> list[PledgeStatus]:
    """Forward steps from the current status to `target` (allocated → shipped → delivered)."""
    order = [S.CONFIRMED, S.ALLOCATED, S.SHIPPED, S.DELIVERED]
    if pledge.status == target:
        return []
    if target is S.CONFIRMED:
        return [S.CONFIRMED]
    start = order.index(pledge.status) + 1 if pledge.status in order else 0
    return order[start : order.index(target) + 1]
