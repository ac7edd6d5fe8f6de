"""Bulk ingest of delivery events: validate a batch, store what is new, derive what changed.

A batch is all or nothing. Rows are validated against lookups preloaded for the whole batch
(the shipments it names, locked, with their lines and routes): column by column in polars when
the batch is clean (`logistics._columns`), row by row when it is not, so a bad row is reported
by row number and field and the batch changes nothing. New events are appended in one
statement (CSV COPY on PostgreSQL); a resent event (same external id, same fact) is a no-op,
the same id with another fact is an error. The derived state of each touched shipment is
folded forward from the new events only (summed up per shipment, see `logistics.state`), then
written back, and the shipped/delivered changes roll up to allocations, pledges and
requirements in bulk (see `logistics.rollup`). One audit entry covers the batch."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import polars as pl
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.access.visibility import visibility_clause
from coalition.db import utcnow
from coalition.errors import Conflict, FieldError, Forbidden, ValidationFailed
from coalition.logistics import _bulk, _columns, rollup
from coalition.logistics.models import (
    DeliveryEvent,
    EventBatch,
    EventKind,
    Shipment,
    ShipmentLeg,
    ShipmentLine,
    ShipmentStatus,
    Site,
    SiteKind,
)
from coalition.logistics.schemas import BatchResult, DeliveryEventIn
from coalition.logistics.state import (
    HUB_EVENTS,
    MOVING,
    QUIET,
    Event,
    LineState,
    ShipmentState,
    replay,
)
from coalition.pledges.models import Allocation, AllocationStatus

MAX_BATCH = 10_000
_MAX_ERRORS = 500
# Events report the past; a little clock skew between systems is tolerated.
_CLOCK_SKEW = dt.timedelta(hours=1)
_ROWS = TypeAdapter(list[DeliveryEventIn])
# Checks a batch's columns while its shipments are read (see `_ingest`).
_BACKGROUND = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest-columns")
_COLUMNS = (*_columns.STORED, "batch_id", "recorded_at")
_TYPES = ("text", "int8", "text", "timestamptz", "text", "int8", "int8", "int8", "int8",
          "int8", "text", "int8", "timestamptz")
_STATE_COLUMNS = ("id", "status", "dispatched_at", "handed_over_at", "first_received_at",
                  "last_received_at", "cancelled_at", "position_site_id", "position_kind",
                  "position_at", "position_event", "last_event_at", "event_count")
_STATE_TYPES = ("int8", "text", "timestamptz", "timestamptz", "timestamptz", "timestamptz",
                "timestamptz", "int8", "text", "timestamptz", "text", "timestamptz", "int4")
_LINE_COLUMNS = ("id", "quantity_received", "quantity_damaged", "quantity_missing")
_LINE_TYPES = ("int8", "int8", "int8", "int8")


@dataclass
class _Touched:
    """A shipment named by the batch: what the checks need and the state being folded."""

    id: int
    reference: str
    donor_id: int
    recipient_id: int
    format_id: int | None
    visible: bool
    hubs: frozenset[int]
    # Allocations of its lines that were cancelled after the shipment was planned.
    cancelled_allocations: frozenset[int]
    state: ShipmentState
    cancelled: bool
    # What the stored state contributed to each allocation, and each line's reported sums.
    before: dict[int, tuple[int, int]]
    before_lines: dict[int, tuple[int, int, int]]


def ingest_events(session: Session, *, actor: Actor, rows: Sequence[Mapping[str, Any]],
                  source: str | None = None, row_numbers: Sequence[int] | None = None
                  ) -> BatchResult:
    """Records a batch of delivery events, all or nothing.

    Events may come late, out of order or twice: the derived state depends only on the set of
    events, ordered by (occurred_at, external_id). `row_numbers` are what errors call the
    rows (default 1, 2, ...); `source` is the default for rows that name none.
    """
    policy.ensure(actor, policy.RECORD_LOGISTICS)
    numbers = list(row_numbers) if row_numbers is not None else list(range(1, len(rows) + 1))
    if len(numbers) != len(rows):
        raise ValueError("row_numbers must number every row")
    session.flush()
    with session.begin_nested(), _bulk.keyed_plans(session):
        result = _ingest(session, actor, rows, numbers, source)
    # Counters changed in SQL; loaded objects must not keep showing the old values.
    session.expire_all()
    return result


def _parse(rows: Sequence[Mapping[str, Any]], numbers: list[int]) -> list[DeliveryEventIn]:
    try:
        return _ROWS.validate_python(rows)
    except PydanticValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False)[:_MAX_ERRORS]:
            loc = err["loc"]
            index = int(loc[0]) if loc and isinstance(loc[0], int) else 0
            value = err.get("input")
            errors.append(FieldError(
                ".".join(str(p) for p in loc[1:]) or "row", err["msg"],
                row=numbers[index] if index < len(numbers) else None,
                value=None if value is None or isinstance(value, Mapping) else str(value)[:200]))
        raise _rejected(errors, exc.error_count(), len(rows)) from None


def _rejected(errors: list[FieldError], count: int, rows: int) -> ValidationFailed:
    shown = "; ".join(str(e) for e in errors[:10])
    more = f" (and {count - 10} more)" if count > 10 else ""
    return ValidationFailed(errors, f"{count} problem(s) in {rows} rows, nothing was recorded: "
                                    f"{shown}{more}")


def _references(rows: Sequence[Mapping[str, Any]]) -> set[str] | None:
    """The shipment references the rows name, or None when some row names none as plain
    text (not text, or text validation will strip: the rows are parsed first then)."""
    try:
        references = {row.get("shipment") for row in rows}
    except (AttributeError, TypeError):
        return None
    if not all(type(r) is str and r == r.strip() for r in references):
        return None
    return cast(set[str], references)


def _ingest(session: Session, actor: Actor, rows: Sequence[Mapping[str, Any]],
            numbers: list[int], source: str | None) -> BatchResult:
    now = utcnow()
    sites = {code: (site_id, kind) for site_id, code, kind in
             session.execute(select(Site.id, Site.code, Site.kind))}
    parsed: list[DeliveryEventIn] | None = None
    columns: Future[_columns.Parsed | None] | None = None
    references = _references(rows)
    if references is None:
        parsed = _parse(rows, numbers)
        references = {row["shipment"] for row in parsed}
    else:
        # The columns are checked (polars, mostly without the GIL) while the server reads.
        columns = _BACKGROUND.submit(_columns.parse, rows)
    loaded = _load(session, actor, Shipment.reference, references)
    touched = loaded.touched
    batch = EventBatch(received_at=now, actor=actor.label, source=source or "per row",
                       rows=len(rows), inserted=0, duplicates=0, shipments_touched=0,
                       digest="")
    session.add(batch)
    session.flush()
    batch_id = batch.id
    check = _Check(actor, numbers, touched, sites, source, now)
    # Optimistic twice over: a batch is nearly always clean and all new, so it is checked
    # column by column and appended in one statement. Any row that needs a closer look sends
    # the batch down the careful path, row by row, which names every problem; only if some
    # id exists already does the batch get compared with what is stored.
    inserted: int | None = None
    fingerprint = ""
    resent = 0
    by_id = {t.id: t for t in touched.values()}
    clean = check.prepare(columns.result()) if columns is not None else None
    postgres = _bulk.is_postgres(session)
    if clean is not None:
        stamped = clean.frame.with_columns(
            batch_id=pl.lit(batch_id, pl.Int64),
            recorded_at=pl.lit(now.astimezone(dt.UTC).isoformat()))
        try:
            with session.begin_nested(), _bulk.appending(
                    session, DeliveryEvent.__tablename__, stamped, _TYPES):
                # While the server stores the events (PostgreSQL), Python folds them in and
                # works out the writes that follow.
                fingerprint = clean.digest()
                summaries = clean.summaries()
                for shipment_id, summary in summaries.items():
                    by_id[shipment_id].state.absorb(summary)
                changed = [by_id[i] for i in sorted(summaries)]
                writes = _planned(_changes(changed), loaded, now, postgres=postgres)
            inserted = clean.frame.height
        except _bulk.UniqueViolation:
            # The careful path starts from the stored state: the fold above was for nothing.
            loaded = _load(session, actor, Shipment.reference, references)
            touched = loaded.touched
            by_id = {t.id: t for t in touched.values()}
            check = _Check(actor, numbers, touched, sites, source, now)
    if inserted is None:
        if parsed is None:
            parsed = _parse(rows, numbers)
        try:
            with session.begin_nested(), _bulk.Appender(
                    session, DeliveryEvent.__tablename__, _COLUMNS, _TYPES) as out:
                check.run(parsed, lambda e: out.write((*e, batch_id, now)))
            stored = check.events
        except _bulk.UniqueViolation:
            stored, resent = _store_new(session, check.events, check.row_of, batch.id, now)
        fingerprint = digest(stored)
        _fold(touched, stored)
        changed = [by_id[i] for i in sorted({e.shipment_id for e in stored})]
        writes = _planned(_changes(changed), loaded, now, postgres=postgres)
        inserted = len(stored)
    allocations, transitions = _write(session, actor, writes, now,
                                      reason=f"delivery events batch {batch.id}")
    batch.inserted = inserted
    batch.duplicates = check.duplicates + resent
    batch.shipments_touched = len(changed)
    batch.digest = fingerprint
    session.flush()
    audit.record(session, actor=actor, action="delivery_events.ingest", target=batch)
    return BatchResult(batch_id=batch.id, rows=batch.rows, inserted=batch.inserted,
                       duplicates=batch.duplicates, shipments_touched=batch.shipments_touched,
                       allocations_changed=allocations, pledge_transitions=transitions,
                       digest=batch.digest)


def _fold(touched: Mapping[Any, _Touched], events: Iterable[Event]) -> None:
    """The events folded into the state of their shipments; commutative, so unsorted."""
    by_shipment: dict[int, list[Event]] = {t.id: [] for t in touched.values()}
    for event in events:
        by_shipment[event.shipment_id].append(event)
    for t in touched.values():
        if by_shipment[t.id]:
            t.state.fold(by_shipment[t.id])


@dataclass
class _Loaded:
    touched: dict[Any, _Touched]
    links: dict[int, rollup.Link]
    # What each stored time was read from (SQLite), to write the unchanged ones back as is.
    times: dict[dt.datetime, str]


def _load(session: Session, actor: Actor, key: Any, keys: Collection[Any]) -> _Loaded:
    """The shipments with the given keys, locked, with lines, route hubs and stored state, and
    the pledge and requirement of each line's allocation."""
    time = _bulk.time_reader(session)
    stmt = (
        select(Shipment.id, Shipment.reference, Shipment.donor_id, Shipment.recipient_id,
               Shipment.format_id, visibility_clause(actor, Shipment).label("visible"),
               time.column(Shipment.dispatched_at), time.column(Shipment.handed_over_at),
               time.column(Shipment.first_received_at), time.column(Shipment.last_received_at),
               time.column(Shipment.cancelled_at), Shipment.position_site_id,
               Shipment.position_kind, time.column(Shipment.position_at),
               Shipment.position_event, time.column(Shipment.last_event_at),
               Shipment.event_count)
        .order_by(Shipment.id).with_for_update(of=Shipment))
    rows = _bulk.fetch_in(session, stmt, key, keys)
    read = time.value
    ids = [r[0] for r in rows]
    lines: dict[int, dict[int, LineState]] = {i: {} for i in ids}
    cancelled: dict[int, set[int]] = {}
    links: dict[int, rollup.Link] = {}
    for (line_id, shipment_id, allocation_id, quantity, received, damaged, missing, status,
         pledge_id, requirement_id) in _bulk.fetch_in(session, select(
            ShipmentLine.id, ShipmentLine.shipment_id, ShipmentLine.allocation_id,
            ShipmentLine.quantity, ShipmentLine.quantity_received, ShipmentLine.quantity_damaged,
            ShipmentLine.quantity_missing, Allocation.status, Allocation.pledge_id,
            Allocation.requirement_id)
            .join(Allocation, Allocation.id == ShipmentLine.allocation_id),
            ShipmentLine.shipment_id, ids):
        lines[shipment_id][allocation_id] = LineState(
            line_id, allocation_id, quantity, received, damaged, missing)
        links[allocation_id] = rollup.Link(pledge_id, requirement_id)
        if status is AllocationStatus.CANCELLED:
            cancelled.setdefault(shipment_id, set()).add(allocation_id)
    legs: dict[int, list[tuple[int, int]]] = {}
    for shipment_id, seq, to_site_id in _bulk.fetch_in(
            session, select(ShipmentLeg.shipment_id, ShipmentLeg.seq, ShipmentLeg.to_site_id),
            ShipmentLeg.shipment_id, ids):
        legs.setdefault(shipment_id, []).append((seq, to_site_id))
    out: dict[Any, _Touched] = {}
    by_reference = key is Shipment.reference
    none: frozenset[int] = frozenset()
    for (shipment_id, reference, donor_id, recipient_id, format_id, visible, dispatched_at,
         handed_over_at, first_received_at, last_received_at, cancelled_at, position_site_id,
         position_kind, position_at, position_event, last_event_at, event_count) in rows:
        route = legs.get(shipment_id)
        # Every leg but the last ends at a hub; the last ends at the destination.
        route_hubs = (frozenset(site for _, site in route) - {max(route)[1]} if route
                      else none)
        shipment_lines = lines[shipment_id]
        state = ShipmentState(
            read(dispatched_at), read(handed_over_at), read(first_received_at),
            read(last_received_at), read(cancelled_at), position_site_id, position_kind,
            read(position_at), position_event, read(last_event_at), event_count, shipment_lines)
        current = state.status
        moving = current in MOVING
        out[reference if by_reference else shipment_id] = _Touched(
            id=shipment_id, reference=reference, donor_id=donor_id, recipient_id=recipient_id,
            format_id=format_id, visible=bool(visible), hubs=route_hubs,
            cancelled_allocations=frozenset(cancelled.get(shipment_id, none)), state=state,
            cancelled=current is ShipmentStatus.CANCELLED,
            before={a: ((x.quantity, min(x.received, x.quantity)) if moving else (0, 0))
                    for a, x in shipment_lines.items()},
            before_lines={a: (x.received, x.damaged, x.missing)
                          for a, x in shipment_lines.items()})
    return _Loaded(out, links, time.texts)


def _may_record(actor: Actor, shipment: _Touched) -> bool:
    """The secretariat of the shipment's format, the donor nation (its shipment) and the
    recipient (its deliveries)."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is Role.COORDINATOR:
        return shipment.format_id in actor.coordinated_format_ids
    return actor.participant_id in (shipment.donor_id, shipment.recipient_id)


class _Check:
    """Resolves every row or reports every bad one; drops exact repeats within the batch and
    hands each good event to a sink as soon as it is resolved."""

    def __init__(self, actor: Actor, numbers: list[int], touched: dict[Any, _Touched],
                 sites: dict[str, tuple[int, SiteKind]], source: str | None,
                 now: dt.datetime) -> None:
        self.actor = actor
        self.numbers = numbers
        self.touched = touched
        self.sites = sites
        self.source = source
        self.latest = now + _CLOCK_SKEW
        self.events: list[Event] = []
        self.row_of: dict[str, int] = {}
        self.duplicates = 0

    def prepare(self, parsed: _columns.Parsed | None) -> _columns.Clean | None:
        """The batch resolved column by column (`_columns.resolve`) when every row is good
        and no id repeats; None when some row needs `run` to say what is wrong with it."""
        if parsed is None:
            return None
        shipments: dict[str, int] = {}
        blocked: set[int] = set()
        route: list[tuple[int, int]] = []
        lines: list[tuple[int, int, int]] = []
        for reference, shipment in self.touched.items():
            if not shipment.visible or not _may_record(self.actor, shipment):
                continue
            shipments[reference] = shipment.id
            if shipment.cancelled or shipment.cancelled_allocations:
                blocked.add(shipment.id)
            route.extend((shipment.id, hub) for hub in shipment.hubs)
            lines.extend((shipment.id, a, line.quantity)
                         for a, line in shipment.state.lines.items())
        hubs = {code: site_id for code, (site_id, kind) in self.sites.items()
                if kind is SiteKind.LOGISTICS_HUB}
        return _columns.resolve(parsed, _columns.Lookups(
            shipments, frozenset(blocked), route, lines, hubs, self.source, self.latest))

    def run(self, parsed: list[DeliveryEventIn], sink: Callable[[Event], None]) -> None:
        errors: list[FieldError] = []
        first: dict[str, Event] = {}
        allowed: dict[int, bool] = {}
        numbers, touched, row_of = self.numbers, self.touched, self.row_of
        for index, row in enumerate(parsed):
            if len(errors) >= _MAX_ERRORS:
                break
            number = numbers[index]
            reference = row["shipment"]
            shipment = touched.get(reference)
            if shipment is None or not shipment.visible:
                errors.append(FieldError("shipment", "no such shipment", number, reference))
                continue
            may = allowed.get(shipment.id)
            if may is None:
                may = allowed[shipment.id] = _may_record(self.actor, shipment)
            if not may:
                errors.append(FieldError("shipment", "only the secretariat, the donor and the "
                                         "recipient record its events", number, reference))
                continue
            resolved = _resolve(row, shipment, self.sites, self.source, self.latest)
            if type(resolved) is FieldError:
                errors.append(FieldError(resolved.field, resolved.message, number,
                                         resolved.value))
                continue
            assert isinstance(resolved, Event)
            seen = first.get(resolved.external_id)
            if seen is not None:
                if seen.fact() == resolved.fact():
                    self.duplicates += 1
                else:
                    errors.append(FieldError("external_id", f"repeats row "
                                             f"{row_of[resolved.external_id]} with different "
                                             "content", number, resolved.external_id))
                continue
            first[resolved.external_id] = resolved
            row_of[resolved.external_id] = number
            self.events.append(resolved)
            if not errors:
                sink(resolved)
        if errors:
            raise _rejected(errors, len(errors), len(parsed))


def _resolve(row: DeliveryEventIn, shipment: _Touched, sites: dict[str, tuple[int, SiteKind]],
             source: str | None, latest: dt.datetime) -> Event | FieldError:
    kind = row["kind"]
    text = row["occurred_at"]
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        return FieldError("occurred_at", "not an ISO 8601 date and time", value=text)
    if at.tzinfo is None:
        return FieldError("occurred_at", "needs a UTC offset, e.g. 2024-07-01T08:00:00Z",
                          value=text)
    at = at.astimezone(dt.UTC)
    if at > latest:
        return FieldError("occurred_at", "is in the future", value=text)
    origin = row.get("source") or source
    if origin is None:
        return FieldError("source", "required (per row, or as the batch's source)")
    hub = row.get("hub")
    hub_id = None
    if kind in HUB_EVENTS:
        if hub is None:
            return FieldError("hub", f"required for {kind.value}")
        site = sites.get(hub)
        if site is None or site[1] is not SiteKind.LOGISTICS_HUB:
            return FieldError("hub", "no such logistics hub", value=hub)
        if site[0] not in shipment.hubs:
            return FieldError("hub", f"not on the route of shipment {shipment.reference}",
                              value=hub)
        hub_id = site[0]
    elif hub is not None:
        return FieldError("hub", "only arrived_at_hub and departed_hub name a hub", value=hub)
    allocation_id = row.get("allocation_id")
    received = damaged = missing = None
    if kind is EventKind.RECEIVED:
        if allocation_id is None:
            return FieldError("allocation_id", "required for received: the line received")
        line = shipment.state.lines.get(allocation_id)
        if line is None:
            return FieldError("allocation_id", f"not a line of shipment {shipment.reference}",
                              value=str(allocation_id))
        received = row.get("quantity_received") or 0
        damaged = row.get("quantity_damaged") or 0
        missing = row.get("quantity_missing") or 0
        reported = received + damaged + missing
        if reported == 0:
            return FieldError("quantity_received", "a receipt reports a quantity received, "
                              "damaged or missing")
        if reported > line.quantity:
            return FieldError("quantity_received", f"reports {reported} of a line of "
                              f"{line.quantity}", value=str(reported))
    elif allocation_id is not None or row.get("quantity_received") is not None or (
            row.get("quantity_damaged") is not None or row.get("quantity_missing") is not None):
        return FieldError("allocation_id", "only received events name a line and quantities")
    if kind not in QUIET:
        if shipment.cancelled:
            # Its quantity may be on another shipment by now: moving both would ship twice.
            return FieldError("kind", f"shipment {shipment.reference} was cancelled; plan a "
                              "new shipment", value=kind.value)
        if shipment.cancelled_allocations:
            return FieldError("shipment", f"carries cancelled allocation(s) "
                              f"{sorted(shipment.cancelled_allocations)}: cancel the shipment",
                              value=shipment.reference)
    return Event(row["external_id"], shipment.id, kind, at, origin, hub_id, allocation_id,
                 received, damaged, missing, row.get("note") or "")


def _store_new(session: Session, events: list[Event], row_of: Mapping[str, int],
               batch_id: int, now: dt.datetime) -> tuple[list[Event], int]:
    """Appends the events not stored before; returns them and how many were resends."""
    stored = {e.external_id: e for e in _stored(session, [e.external_id for e in events])}
    fresh: list[Event] = []
    errors: list[FieldError] = []
    for event in events:
        old = stored.get(event.external_id)
        if old is None:
            fresh.append(event)
        elif old.fact() != event.fact():
            errors.append(FieldError(
                "external_id", f"already recorded with different content ({old.kind.value} "
                f"of shipment {old.shipment_id} at {old.occurred_at.isoformat()})",
                row_of[event.external_id], event.external_id))
    if errors:
        raise _rejected(errors[:_MAX_ERRORS], len(errors), len(events))
    try:
        _bulk.insert_rows(session, DeliveryEvent.__tablename__, _COLUMNS,
                          [(*e, batch_id, now) for e in fresh], _TYPES)
    except _bulk.UniqueViolation as exc:
        raise Conflict("external_id: a concurrent batch recorded some of these events "
                       "meanwhile; send the batch again (resent events are harmless)") from exc
    return fresh, len(events) - len(fresh)


def _event_query() -> Select[*tuple[Any, ...]]:
    return select(DeliveryEvent.external_id, DeliveryEvent.shipment_id, DeliveryEvent.kind,
                  DeliveryEvent.occurred_at, DeliveryEvent.source, DeliveryEvent.hub_id,
                  DeliveryEvent.allocation_id, DeliveryEvent.quantity_received,
                  DeliveryEvent.quantity_damaged, DeliveryEvent.quantity_missing,
                  DeliveryEvent.note)


def _event(row: Row[*tuple[Any, ...]]) -> Event:
    """The columns of `_event_query` are named like Event's fields."""
    return Event(**row._asdict())


def _stored(session: Session, external_ids: Collection[str]) -> list[Event]:
    rows = _bulk.fetch_in(session, _event_query(), DeliveryEvent.external_id, external_ids)
    return [_event(row) for row in rows]


@dataclass
class _Changes:
    """What the fold changed: shipment state rows, line sums, and (shipped, delivered) deltas
    by allocation."""

    shipments: list[tuple[Any, ...]]
    lines: list[tuple[int, int, int, int]]
    deltas: dict[int, tuple[int, int]]


def _changes(changed: Iterable[_Touched]) -> _Changes:
    states = []
    line_rows = []
    deltas: dict[int, tuple[int, int]] = {}
    for t in changed:
        s = t.state
        status = s.status
        states.append((t.id, status.value, s.dispatched_at, s.handed_over_at,
                       s.first_received_at, s.last_received_at, s.cancelled_at,
                       s.position_site_id, s.position_kind.value if s.position_kind else None,
                       s.position_at, s.position_event, s.last_event_at, s.event_count))
        moving = status in MOVING
        before, before_lines = t.before, t.before_lines
        for allocation_id, line in s.lines.items():
            received, quantity = line.received, line.quantity
            sums = (received, line.damaged, line.missing)
            if sums != before_lines[allocation_id]:
                line_rows.append((line.line_id, *sums))
            # What `ShipmentState.contributions` says, less what the stored state said.
            old_shipped, old_delivered = before[allocation_id]
            d_shipped = (quantity if moving else 0) - old_shipped
            d_delivered = (min(received, quantity) if moving else 0) - old_delivered
            if d_shipped or d_delivered:
                shipped, delivered = deltas.get(allocation_id, (0, 0))
                deltas[allocation_id] = (shipped + d_shipped, delivered + d_delivered)
    line_rows.sort()
    return _Changes(states, line_rows, deltas)


@dataclass(frozen=True)
class _Writes:
    """The writes of a batch, worked out while the connection may still be busy: the new
    derived state of the changed shipments and lines, and the rollup."""

    statements: list[_bulk.Statement | None]
    rollup: rollup.Plan


def _planned(changes: _Changes, loaded: _Loaded, now: dt.datetime, *,
             postgres: bool) -> _Writes:
    return _Writes([
        _bulk.planned_update(postgres, Shipment.__tablename__, _STATE_COLUMNS,
                             changes.shipments, _STATE_TYPES, known=loaded.times),
        _bulk.planned_update(postgres, ShipmentLine.__tablename__, _LINE_COLUMNS,
                             changes.lines, _LINE_TYPES)],
        rollup.plan(postgres=postgres, deltas=changes.deltas, links=loaded.links, now=now))


def _write(session: Session, actor: Actor, writes: _Writes, now: dt.datetime, *,
           reason: str) -> tuple[int, int]:
    """Writes the new derived state of the changed shipments and rolls the difference up."""
    _bulk.execute(session, writes.statements)
    return rollup.apply(session, actor=actor, plan=writes.rollup, reason=reason, now=now)


def digest(events: Iterable[Event]) -> str:
    """SHA-256 over the events sorted by external id, one line each of their stored fields
    separated by tabs (times in UTC ISO 8601, empty for none); `batch_digest` recomputes it
    from the stored rows."""
    fields: list[Sequence[Any]] = [list(c) for c in zip(*events, strict=True)]
    if not fields:
        return _digest([])
    fields[3] = list(map(dt.datetime.isoformat, fields[3]))
    return _digest(fields)


def _digest(fields: Sequence[Sequence[Any]]) -> str:
    """`digest` of events given field by field, `occurred_at` as UTC ISO 8601 text."""
    if not fields or not fields[0]:
        return hashlib.sha256(b"").hexdigest()
    (external_id, shipment_id, kind, occurred_at, source, hub_id, allocation_id, received,
     damaged, missing, note) = fields
    lines = list(map("\t".join, zip(
        external_id, map(str, shipment_id), kind, occurred_at, source, _texts(hub_id),
        _texts(allocation_id), _texts(received), _texts(damaged), _texts(missing), note,
        strict=True)))
    order = sorted(range(len(lines)), key=external_id.__getitem__)
    return hashlib.sha256("\n".join([lines[i] for i in order]).encode()).hexdigest()


def _texts(values: Iterable[int | None]) -> list[str]:
    return ["" if v is None else str(v) for v in values]


def batch_digest(session: Session, *, batch_id: int) -> str:
    """The digest of the events stored with `batch_id`, to compare with the audited one."""
    rows = session.execute(_event_query().where(DeliveryEvent.batch_id == batch_id))
    return digest(_event(row) for row in rows)


def rebuild(session: Session, *, actor: Actor, shipment_ids: Collection[int]) -> int:
    """Replays every event of the shipments sorted by (occurred_at, external_id) and repairs
    any stored state that differs, rolling the difference up; returns how many differed."""
    if not actor.is_admin:
        raise Forbidden("only an administrator rebuilds derived logistics state")
    session.flush()
    loaded = _load(session, actor, Shipment.id, shipment_ids)
    touched = loaded.touched
    events: dict[int, list[Event]] = {i: [] for i in touched}
    for row in _bulk.fetch_in(session, _event_query(), DeliveryEvent.shipment_id,
                              list(touched)):
        events[row.shipment_id].append(_event(row))
    differing = []
    for shipment_id, t in touched.items():
        fresh = replay(t.state, events[shipment_id])
        if fresh != t.state:
            t.state = fresh
            differing.append(t)
    if differing:
        now = utcnow()
        _write(session, actor, _planned(_changes(differing), loaded, now,
                                        postgres=_bulk.is_postgres(session)),
               now, reason="derived logistics state rebuilt")
        audit.record(session, actor=actor, action="shipments.rebuild", target_type="shipments",
                     target_id=",".join(str(t.id) for t in differing)[:80],
                     after={"repaired": [t.id for t in differing]})
        session.expire_all()
    return len(differing)
