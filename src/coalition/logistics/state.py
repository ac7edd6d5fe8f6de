"""The derived state of a shipment as a fold over its delivery events.

Every derived field is a minimum, a maximum, a sum, or the latest value by (occurred_at,
external_id). Folding events in any order — or folding a new batch into a stored state — so
gives exactly what replaying all of a shipment's events sorted by occurred_at gives. Ingest
relies on that to touch only the new events; `ingest.rebuild` replays from scratch, and the
tests hold the two equal for shuffled, duplicated and batched input.

Status, from the folded facts:

- any receipt: `received` once every line is accounted for (received + damaged + missing >=
  sent), `partially_received` before;
- otherwise handed over, at or past a hub (the latest hub event), dispatched — the first that
  applies;
- otherwise cancelled if a cancellation was reported, else planned.

A cancellation counts only while nothing has moved: goods on the road are accounted for by
their receipt (received, damaged, missing), not wished away. So shipped and delivered only
ever grow as events arrive, in whatever order, and never have to be taken back.

A line counts as shipped once its shipment moved and as delivered for what was received in
good order, never more than was sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from coalition.logistics.models import EventKind, ShipmentStatus

MOVING = frozenset(ShipmentStatus) - {ShipmentStatus.PLANNED, ShipmentStatus.CANCELLED}
QUIET = frozenset({EventKind.PLANNED, EventKind.CANCELLED})
HUB_EVENTS = frozenset({EventKind.ARRIVED_AT_HUB, EventKind.DEPARTED_HUB})
_DISPATCHED, _HANDED_OVER = EventKind.DISPATCHED, EventKind.HANDED_OVER
_RECEIVED, _CANCELLED = EventKind.RECEIVED, EventKind.CANCELLED


class Event(NamedTuple):
    """A validated event with its references resolved to ids; its fields are the stored
    columns, in order (a tuple: a batch makes thousands)."""

    external_id: str
    shipment_id: int
    kind: EventKind
    occurred_at: dt.datetime
    source: str
    hub_id: int | None = None
    allocation_id: int | None = None
    quantity_received: int | None = None
    quantity_damaged: int | None = None
    quantity_missing: int | None = None
    note: str = ""

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.occurred_at, self.external_id)

    def fact(self) -> tuple[object, ...]:
        """What the event asserts. A resent event with the same fact is a duplicate; the
        same external id with another fact is a conflict. Source and note are not the fact."""
        return (self.shipment_id, self.kind, self.occurred_at, self.hub_id, self.allocation_id,
                self.quantity_received or 0, self.quantity_damaged or 0,
                self.quantity_missing or 0)


@dataclass(slots=True)
class LineState:
    line_id: int
    allocation_id: int
    quantity: int
    received: int = 0
    damaged: int = 0
    missing: int = 0

    @property
    def accounted(self) -> int:
        return self.received + self.damaged + self.missing

    @property
    def delivered(self) -> int:
        return min(self.received, self.quantity)


@dataclass(slots=True)
class ShipmentState:
    dispatched_at: dt.datetime | None = None
    handed_over_at: dt.datetime | None = None
    first_received_at: dt.datetime | None = None
    last_received_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    position_site_id: int | None = None
    position_kind: EventKind | None = None
    position_at: dt.datetime | None = None
    position_event: str | None = None
    last_event_at: dt.datetime | None = None
    event_count: int = 0
    lines: dict[int, LineState] = field(default_factory=dict)  # by allocation id

    def apply(self, event: Event) -> None:
        """Folds one event in; commutative, so the order of calls does not matter."""
        self.fold((event,))

    def fold(self, events: Iterable[Event]) -> None:
        """Folds events in, as `apply` one by one would: the order of the events, and how
        they are split over calls, does not matter."""
        self.absorb(summarize(events))

    def absorb(self, summary: Summary) -> None:
        """Folds in the events `summary` sums up: the one place that says how each derived
        field combines (earliest, latest, sum, latest by order)."""
        self.event_count += summary.events
        self.last_event_at = _latest(self.last_event_at, summary.last_event_at)
        self.dispatched_at = _earliest(self.dispatched_at, summary.dispatched_at)
        self.handed_over_at = _earliest(self.handed_over_at, summary.handed_over_at)
        self.first_received_at = _earliest(self.first_received_at, summary.first_received_at)
        self.last_received_at = _latest(self.last_received_at, summary.last_received_at)
        self.cancelled_at = _earliest(self.cancelled_at, summary.cancelled_at)
        position = summary.position
        if position is not None and (self.position_at is None or position[:2] > (
                self.position_at, self.position_event or "")):
            (self.position_at, self.position_event, self.position_site_id,
             self.position_kind) = position
        lines = self.lines
        for allocation_id, (received, damaged, missing) in summary.lines.items():
            line = lines[allocation_id]
            line.received += received
            line.damaged += damaged
            line.missing += missing

    @property
    def status(self) -> ShipmentStatus:
        if self.last_received_at is not None:
            if all(line.accounted >= line.quantity for line in self.lines.values()):
                return ShipmentStatus.RECEIVED
            return ShipmentStatus.PARTIALLY_RECEIVED
        if self.handed_over_at is not None:
            return ShipmentStatus.HANDED_OVER
        if self.position_kind is EventKind.ARRIVED_AT_HUB:
            return ShipmentStatus.AT_HUB
        if self.position_kind is EventKind.DEPARTED_HUB:
            return ShipmentStatus.IN_TRANSIT
        if self.dispatched_at is not None:
            return ShipmentStatus.DISPATCHED
        if self.cancelled_at is not None:
            return ShipmentStatus.CANCELLED
        return ShipmentStatus.PLANNED

    def contributions(self) -> dict[int, tuple[int, int]]:
        """(shipped, delivered) this shipment adds to each of its allocations."""
        moving = self.status in MOVING
        return {allocation_id: ((line.quantity, line.delivered) if moving else (0, 0))
                for allocation_id, line in self.lines.items()}

    def cleared(self) -> ShipmentState:
        """The state before any event: same lines, nothing reported."""
        return ShipmentState(lines={k: LineState(v.line_id, v.allocation_id, v.quantity)
                                    for k, v in self.lines.items()})


class Summary(NamedTuple):
    """What a set of events of one shipment adds to its state: how many, earliest and latest
    times, the latest hub event by (occurred_at, external_id) as (at, external id, hub,
    kind), and (received, damaged, missing) sums by allocation id. `summarize` makes one from
    events; the ingest's column path makes the same from a frame."""

    events: int
    last_event_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    handed_over_at: dt.datetime | None
    first_received_at: dt.datetime | None
    last_received_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    position: tuple[dt.datetime, str, int | None, EventKind] | None
    lines: dict[int, tuple[int, int, int]]


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return a if b is None or (a is not None and a <= b) else b


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return a if b is None or (a is not None and a >= b) else b


def summarize(events: Iterable[Event]) -> Summary:
    """The events summed up; one pass with the fields in locals, since a batch has thousands."""
    count = 0
    last = dispatched = handed_over = first_received = last_received = cancelled = None
    position: tuple[dt.datetime, str, int | None, EventKind] | None = None
    lines: dict[int, tuple[int, int, int]] = {}
    for event in events:
        at = event.occurred_at
        count += 1
        if last is None or at > last:
            last = at
        kind = event.kind
        if kind is _DISPATCHED:
            if dispatched is None or at < dispatched:
                dispatched = at
        elif kind in HUB_EVENTS:
            if position is None or (at, event.external_id) > position[:2]:
                position = (at, event.external_id, event.hub_id, kind)
        elif kind is _HANDED_OVER:
            if handed_over is None or at < handed_over:
                handed_over = at
        elif kind is _RECEIVED:
            assert event.allocation_id is not None
            received, damaged, missing = lines.get(event.allocation_id, (0, 0, 0))
            lines[event.allocation_id] = (received + (event.quantity_received or 0),
                                          damaged + (event.quantity_damaged or 0),
                                          missing + (event.quantity_missing or 0))
            if first_received is None or at < first_received:
                first_received = at
            if last_received is None or at > last_received:
                last_received = at
        elif kind is _CANCELLED and (cancelled is None or at < cancelled):
            cancelled = at
    return Summary(count, last, dispatched, handed_over, first_received, last_received,
                   cancelled, position, lines)


def replay(state: ShipmentState, events: list[Event]) -> ShipmentState:
    """The state from scratch: `events` folded in (occurred_at, external_id) order."""
    fresh = state.cleared()
    fresh.fold(sorted(events, key=lambda e: e.order))
    return fresh
