"""The pledge state machine as a property: any sequence of operations keeps the invariants."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.errors import InvalidTransition
from coalition.pledges import lifecycle
from coalition.pledges.models import Pledge, PledgeStatus

S = PledgeStatus
OPS = st.lists(st.tuples(st.sampled_from(["request", "allocate", "ship", "deliver", "release"]),
                         st.sampled_from(list(S)), st.integers(0, 12)), max_size=40)


def _apply_quantities(p: Pledge) -> None:
    for step in lifecycle.path_to(p, lifecycle.status_for_quantities(p)):
        lifecycle.check(p, step)
        p.status = step


@settings(max_examples=300, deadline=None)
@given(quantity=st.integers(1, 10), ops=OPS)
def test_state_machine_keeps_invariants(quantity: int, ops: list[tuple[str, S, int]]) -> None:
    p = Pledge(quantity=quantity, status=S.ANNOUNCED, quantity_allocated=0, quantity_shipped=0,
               quantity_delivered=0)
    visited = [p.status]
    for op, target, n in ops:
        try:
            if op == "request" and target in lifecycle.REQUESTABLE:
                lifecycle.check(p, target)
                p.status = target
            elif op == "allocate" and p.status in lifecycle.ALLOCATABLE:
                p.quantity_allocated = min(p.quantity, p.quantity_allocated + n)
            elif op == "release" and p.status in {S.CONFIRMED, S.ALLOCATED}:
                p.quantity_allocated = max(p.quantity_shipped, p.quantity_allocated - n)
            elif op == "ship" and p.status in {S.CONFIRMED, S.ALLOCATED, S.SHIPPED}:
                p.quantity_shipped = min(p.quantity_allocated, p.quantity_shipped + n)
            elif op == "deliver":
                p.quantity_delivered = min(p.quantity_shipped, p.quantity_delivered + n)
            if p.status not in {S.ANNOUNCED, S.WITHDRAWN, S.CANCELLED}:
                _apply_quantities(p)
        except InvalidTransition:
            pass
        if p.status != visited[-1]:
            assert p.status in lifecycle.ALLOWED[visited[-1]] or p.status in (
                lifecycle.path_to(Pledge(quantity=1, status=visited[-1]), p.status))
            visited.append(p.status)
        assert 0 <= p.quantity_delivered <= p.quantity_shipped <= p.quantity_allocated
        assert p.quantity_allocated <= p.quantity
        if p.status is S.DELIVERED:
            assert p.quantity_delivered == p.quantity
        if p.status is S.WITHDRAWN:
            assert p.quantity_allocated == 0
    # Final statuses are never left.
    for before, after in itertools.pairwise(visited):
        assert before not in lifecycle.TERMINAL, (before, after)


def test_every_status_has_a_rule() -> None:
    assert set(lifecycle.ALLOWED) == set(S)
