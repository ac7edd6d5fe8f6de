"""Shipped and delivered quantities rolled up to allocations, pledges and requirements, in bulk.

This is the set-based twin of `pledges.flows.apply_progress`, for the thousands of allocations
one batch of delivery events can move: the same counters change by the same amounts, and
pledges advance under the lifecycle's own rules, each step appended to the pledge's history.
It costs a handful of statements per batch instead of several per allocation, and the batch's
single audit entry stands for all of it. The tests hold the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.logistics import _bulk
from coalition.pledges import lifecycle
from coalition.pledges.models import Pledge, PledgeStatus, PledgeTransition

_HISTORY = ("pledge_id", "from_status", "to_status", "at", "actor", "reason")


@dataclass(slots=True)
class _Quantities:
    """What the lifecycle rules read of a pledge, without loading the pledge."""

    id: int
    status: PledgeStatus
    quantity: int
    quantity_allocated: int
    quantity_shipped: int
    quantity_delivered: int


@dataclass(frozen=True)
class Link:
    pledge_id: int
    requirement_id: int


@dataclass(frozen=True)
class Plan:
    """A rollup worked out before it runs: the allocation and requirement updates, ready to
    execute, and the (shipped, delivered) deltas by pledge, which are applied to the pledges
    as they are read locked."""

    statements: list[_bulk.Statement | None]
    pledges: dict[int, list[int]]
    allocations: int


def plan(*, postgres: bool, deltas: Mapping[int, tuple[int, int]], links: Mapping[int, Link],
         now: dt.datetime) -> Plan:
    """The rollup of (shipped, delivered) deltas per allocation id; needs no connection."""
    changed = {a: d for a, d in deltas.items() if d != (0, 0)}
    by_pledge: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_requirement: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for allocation_id, (shipped, delivered) in changed.items():
        link = links[allocation_id]
        p = by_pledge[link.pledge_id]
        p[0] += shipped
        p[1] += delivered
        r = by_requirement[link.requirement_id]
        r[0] += shipped - delivered
        r[1] += delivered
    counters = ("int8", "int8", "int8")
    return Plan([
        _bulk.planned_update(postgres, "allocations",
                             ("id", "quantity_shipped", "quantity_delivered"),
                             sorted((a, s, d) for a, (s, d) in changed.items()), counters,
                             add=True),
        _bulk.planned_update(postgres, "requirements",
                             ("id", "quantity_in_transit", "quantity_delivered"),
                             sorted((r, t, d) for r, (t, d) in by_requirement.items()),
                             counters, add=True, touch="updated_at", now=now)],
        dict(by_pledge), len(changed))


def apply(session: Session, *, actor: Actor, plan: Plan, reason: str,
          now: dt.datetime) -> tuple[int, int]:
    """Adds the planned deltas and everything they imply.

    Returns (allocations changed, pledge status transitions appended).
    """
    if not plan.allocations:
        return 0, 0
    _bulk.execute(session, plan.statements)
    return plan.allocations, _pledges(session, actor=actor, deltas=plan.pledges,
                                      reason=reason, now=now)


def _pledges(session: Session, *, actor: Actor, deltas: Mapping[int, list[int]],
             reason: str, now: dt.datetime) -> int:
    """Adds the deltas to each pledge and moves it to where its quantities now say, by the
    lifecycle's own rules (`status_for_quantities`, `path_to`, `check`), each step appended
    to its history: one read and one write of each pledge, counters and status together."""
    history: list[tuple[object, ...]] = []
    updates: list[tuple[object, ...]] = []
    for pledge_id, status, quantity, allocated, shipped, delivered in _bulk.fetch_in(
            session, select(Pledge.id, Pledge.status, Pledge.quantity, Pledge.quantity_allocated,
                            Pledge.quantity_shipped, Pledge.quantity_delivered)
            .order_by(Pledge.id).with_for_update(of=Pledge), Pledge.id, deltas):
        d_shipped, d_delivered = deltas[pledge_id]
        pledge = _Quantities(pledge_id, status, quantity, allocated, shipped + d_shipped,
                             delivered + d_delivered)
        # The rules read nothing but the status and the quantities.
        rules_view = cast(Pledge, pledge)
        for step in lifecycle.path_to(rules_view, lifecycle.status_for_quantities(rules_view)):
            lifecycle.check(rules_view, step)
            history.append((pledge.id, pledge.status.value, step.value, now, actor.label,
                            reason))
            pledge.status = step
        updates.append((pledge.id, pledge.quantity_shipped, pledge.quantity_delivered,
                        pledge.status.value))
    _bulk.update_rows(session, Pledge.__tablename__,
                      ("id", "quantity_shipped", "quantity_delivered", "status"), updates,
                      ("int8", "int8", "int8", "text"), touch="updated_at", now=now)
    _bulk.insert_rows(session, PledgeTransition.__tablename__, _HISTORY, history,
                      ("int8", "text", "text", "timestamptz", "text", "text"))
    return len(history)
