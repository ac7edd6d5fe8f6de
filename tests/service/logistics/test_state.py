"""The shipment state fold: status rules, and independence from order, batching and repeats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.logistics.models import EventKind, ShipmentStatus
from coalition.logistics.state import Event, LineState, ShipmentState, replay

T0 = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
K = EventKind
S = ShipmentStatus


def _state() -> ShipmentState:
    return ShipmentState(lines={7: LineState(70, 7, 10), 8: LineState(80, 8, 5)})


def _event(n: int, kind: EventKind, hours: int, **fields: Any) -> Event:
    return Event(f"E{n:03d}", 1, kind, T0 + dt.timedelta(hours=hours), "test", **fields)


JOURNEY = [
    _event(1, K.PLANNED, 0),
    _event(2, K.DISPATCHED, 1),
    _event(3, K.ARRIVED_AT_HUB, 5, hub_id=100),
    _event(4, K.DEPARTED_HUB, 9, hub_id=100),
    _event(5, K.ARRIVED_AT_HUB, 12, hub_id=200),
    _event(6, K.DEPARTED_HUB, 15, hub_id=200),
    _event(7, K.HANDED_OVER, 20),
    _event(8, K.RECEIVED, 24, allocation_id=7, quantity_received=6),
    _event(9, K.RECEIVED, 30, allocation_id=7, quantity_received=3, quantity_damaged=1),
    _event(10, K.RECEIVED, 31, allocation_id=8, quantity_received=4, quantity_missing=1),
]


@pytest.mark.parametrize(
    ("upto", "status"),
    [(0, S.PLANNED), (1, S.PLANNED), (2, S.DISPATCHED), (3, S.AT_HUB), (4, S.IN_TRANSIT),
     (5, S.AT_HUB), (6, S.IN_TRANSIT), (7, S.HANDED_OVER), (8, S.PARTIALLY_RECEIVED),
     (9, S.PARTIALLY_RECEIVED), (10, S.RECEIVED)],
)
def test_status_follows_the_journey(upto: int, status: ShipmentStatus) -> None:
    assert replay(_state(), JOURNEY[:upto]).status is status


def test_received_counts_good_quantities_and_never_more_than_sent() -> None:
    state = replay(_state(), JOURNEY)
    assert state.contributions() == {7: (10, 9), 8: (5, 4)}
    over = replay(_state(), [*JOURNEY, _event(11, K.RECEIVED, 40, allocation_id=8,
                                                quantity_received=5)])
    assert over.lines[8].accounted == 10
    assert over.contributions()[8] == (5, 5)


def test_cancellation_counts_only_while_nothing_moved() -> None:
    cancelled = replay(_state(), [JOURNEY[0], _event(20, K.CANCELLED, 2)])
    assert cancelled.status is S.CANCELLED
    assert cancelled.contributions() == {7: (0, 0), 8: (0, 0)}
    moved = replay(_state(), [JOURNEY[1], _event(20, K.CANCELLED, 2)])
    assert moved.status is S.DISPATCHED
    assert moved.contributions() == {7: (10, 0), 8: (5, 0)}


def test_position_is_the_latest_hub_event_ties_broken_by_external_id() -> None:
    tie = [_event(30, K.ARRIVED_AT_HUB, 5, hub_id=100), _event(31, K.DEPARTED_HUB, 5,
                                                                 hub_id=100)]
    for events in (tie, tie[::-1]):
        state = replay(_state(), events)
        assert (state.position_event, state.status) == ("E031", S.IN_TRANSIT)


@given(st.permutations(JOURNEY), st.lists(st.sampled_from(JOURNEY), max_size=5),
       st.integers(min_value=0, max_value=len(JOURNEY)))
def test_fold_ignores_order_batches_and_repeats(order: list[Event], repeats: list[Event],
                                                cut: int) -> None:
    """Folding a stored state forward with later batches equals replaying everything."""
    stream = order + repeats
    seen: set[str] = set()
    stored = _state()
    for batch in (stream[:cut], stream[cut:]):
        for event in batch:
            if event.external_id not in seen:  # ingest drops what it already holds
                seen.add(event.external_id)
                stored.apply(event)
    assert stored == replay(_state(), JOURNEY)
