"""Delivery events at volume: 1,000,000 events for 100,000 pledges, SQLite and PostgreSQL.

For each database: a fresh schema with the demo plus `--pledges` synthetic pledges
(`coalition.demo.loader.load`), each fully allocated and put on one shipment (depot, two hubs,
recipient depot) in bulk; then `--events` delivery events (planned, dispatched, hubs, handed
over, partial receipts, some damage) arriving roughly in time order but shuffled within windows
of 5,000, ingested through the bulk path (`logistics.ingest.ingest_events`, one transaction per
batch of `--batch` rows, as `POST /api/v1/delivery-events:batch` would). Printed next to it, in
the same run, the same rows in the same batches into a bare table without keys or indexes:
PostgreSQL binary COPY, SQLite executemany. Then the "pledged vs delivered by donor" query.

Targets: PostgreSQL >= 100,000 events/s and within 2x of raw COPY; SQLite >= 50,000 events/s;
the query < 200 ms with 100,000 pledges.

    .venv/bin/python benchmarks/delivery_events.py                  # the full run
    .venv/bin/python benchmarks/delivery_events.py --pledges 5000 --events 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text, update

from coalition import migrate
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.catalog.models import ItemType
from coalition.db import make_engine, session_scope, utcnow
from coalition.demo import loader
from coalition.logistics import ingest, queries
from coalition.logistics import service as logistics_service
from coalition.logistics.models import (
    DeliveryEvent,
    Shipment,
    ShipmentLeg,
    ShipmentLine,
    ShipmentStatus,
    Site,
    SiteKind,
    TransportMode,
)
from coalition.logistics.schemas import SiteCreate
from coalition.pledges.models import Allocation, AllocationStatus, Pledge, PledgeStatus
from coalition.registry.models import Format, Participant
from coalition.requirements.models import Requirement, RequirementStatus

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
START = dt.datetime(2023, 1, 2, 6, 0, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=730)
WINDOW = 5_000
# Hours after the start of a journey at which its fixed milestones happen.
MILESTONES = [("planned", 0, None), ("dispatched", 2, None), ("arrived_at_hub", 10, 1),
              ("departed_hub", 20, 1), ("arrived_at_hub", 30, 2), ("departed_hub", 40, 2),
              ("handed_over", 50, None)]
SITES = [("BENCH-DEPOT", "Benchmark donor depot", SiteKind.DONOR_DEPOT, "POL", "52.2297",
          "21.0122"),
         ("BENCH-HUB-1", "Benchmark hub 1", SiteKind.LOGISTICS_HUB, "POL", "50.1100", "22.0190"),
         ("BENCH-HUB-2", "Benchmark hub 2", SiteKind.LOGISTICS_HUB, "ROU", "47.6875", "26.3541"),
         ("BENCH-UKR", "Benchmark recipient depot", SiteKind.RECIPIENT_DEPOT, "UKR", "49.8397",
          "24.0297")]
BARE = ("CREATE TABLE bench_bare_events (external_id text, shipment_id bigint, kind text, "
        "occurred_at {ts}, source text, hub_id bigint, allocation_id bigint, "
        "quantity_received bigint, quantity_damaged bigint, quantity_missing bigint, "
        "note text, batch_id bigint, recorded_at {ts})")


@dataclass(frozen=True)
class Ev:
    """One generated event in compact form; rows for the API and the baseline derive from it."""

    external_id: str
    shipment: int  # index into the shipment list
    kind: str
    at: dt.datetime
    hub: int | None
    received: int | None = None
    damaged: int | None = None


@dataclass(frozen=True)
class Fleet:
    references: list[str]
    shipment_ids: list[int]
    allocation_ids: list[int]
    quantities: list[int]
    hubs: dict[int, tuple[str, int]]


def _engines(tmp: Path, only: str | None) -> Iterator[tuple[str, Engine, Engine | None, str]]:
    """Fresh databases. PostgreSQL gets a database of its own, not a schema in a shared one:
    the audit chain's advisory lock is per database, and other users of it would queue us."""
    if only in (None, "sqlite"):
        yield "sqlite", make_engine(f"sqlite:///{tmp / 'bench.db'}"), None, ""
    if only in (None, "postgresql"):
        name = f"coalition_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield "postgresql", make_engine(PG_URL.rsplit("/", 1)[0] + "/" + name), admin, name


def _setup(engine: Engine, pledges: int) -> Fleet:
    """The demo plus synthetic pledges, each allocated in full and on one planned shipment."""
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    loader.load(scale_pledges=pledges, engine=engine, show_progress=False)
    now = utcnow()
    with session_scope(engine) as s:
        for code, name, kind, country, lat, lon in SITES:
            logistics_service.create_site(s, actor=SYSTEM, data=SiteCreate(
                code=code, name=name, kind=kind, country=country, latitude=Decimal(lat),
                longitude=Decimal(lon)))
    with session_scope(engine) as s:
        site = {code: s.scalars(select(Site.id).where(Site.code == code)).one()
                for code, *_ in SITES}
        ukr = s.scalar(select(Participant.id).where(Participant.code == "UKR"))
        udcg = s.scalar(select(Format.id).where(Format.code == "UDCG"))
        rows = s.execute(select(Pledge.id, Pledge.item_type_id, Pledge.quantity, Pledge.donor_id)
                         .where(Pledge.external_id.like("SYN-%")).order_by(Pledge.id)).all()
        need: dict[int, int] = {}
        for _, item, qty, _ in rows:
            need[item] = need.get(item, 0) + qty
        areas = dict(s.execute(select(ItemType.id, ItemType.capability_area)
                               .where(ItemType.id.in_(need))).all())
        s.execute(insert(Requirement), [
            {"reference": f"BENCH-REQ-{item}", "recipient_id": ukr, "item_type_id": item,
             "quantity": qty, "priority": 1, "needed_by": dt.date(2026, 12, 31),
             "capability_area": areas[item], "status": RequirementStatus.MET, "notes": "",
             "format_id": udcg, "releasability": Releasability.COALITION,
             "quantity_committed": qty, "quantity_in_transit": 0, "quantity_delivered": 0,
             "created_at": now, "updated_at": now} for item, qty in need.items()])
        req = dict(s.execute(select(Requirement.item_type_id, Requirement.id)
                             .where(Requirement.reference.like("BENCH-REQ-%"))).all())
        s.execute(insert(Allocation), [
            {"pledge_id": pid, "requirement_id": req[item], "quantity": qty,
             "quantity_shipped": 0, "quantity_delivered": 0, "status": AllocationStatus.ACTIVE,
             "approved_by": "benchmark", "created_at": now} for pid, item, qty, _ in rows])
        s.execute(update(Pledge).where(Pledge.external_id.like("SYN-%"))
                  .values(quantity_allocated=Pledge.quantity, status=PledgeStatus.ALLOCATED))
        allocation_of = dict(s.execute(select(Allocation.pledge_id, Allocation.id)
                                       .where(Allocation.approved_by == "benchmark")).all())
        step = SPAN / max(1, len(rows))
        references = [f"BSHP-{n:07d}" for n in range(len(rows))]
        s.execute(insert(Shipment), [
            {"reference": references[n], "donor_id": donor, "recipient_id": ukr,
             "origin_site_id": site["BENCH-DEPOT"], "destination_site_id": site["BENCH-UKR"],
             "planned_departure": START + step * n,
             "planned_arrival": START + step * n + dt.timedelta(days=3),
             "format_id": udcg, "releasability": Releasability.COALITION, "notes": "",
             "created_by": "benchmark", "created_at": now, "status": ShipmentStatus.PLANNED,
             "event_count": 0} for n, (_, _, _, donor) in enumerate(rows)])
        shipment_of = dict(s.execute(select(Shipment.reference, Shipment.id)
                                     .where(Shipment.reference.like("BSHP-%"))).all())
        ids = [shipment_of[r] for r in references]
        route = [("BENCH-DEPOT", "BENCH-HUB-1"), ("BENCH-HUB-1", "BENCH-HUB-2"),
                 ("BENCH-HUB-2", "BENCH-UKR")]
        s.execute(insert(ShipmentLeg), [
            {"shipment_id": sid, "seq": seq, "from_site_id": site[a], "to_site_id": site[b],
             "mode": TransportMode.ROAD, "reference": ""}
            for sid in ids for seq, (a, b) in enumerate(route, start=1)])
        s.execute(insert(ShipmentLine), [
            {"shipment_id": sid, "allocation_id": allocation_of[pid], "quantity": qty,
             "quantity_received": 0, "quantity_damaged": 0, "quantity_missing": 0}
            for sid, (pid, _, qty, _) in zip(ids, rows, strict=True)])
    return Fleet(references=references, shipment_ids=ids,
                 allocation_ids=[allocation_of[pid] for pid, *_ in rows],
                 quantities=[qty for _, _, qty, _ in rows],
                 hubs={1: ("BENCH-HUB-1", site["BENCH-HUB-1"]),
                       2: ("BENCH-HUB-2", site["BENCH-HUB-2"])})


def _settle(engine: Engine) -> None:
    """The set-up loaded a hundred thousand shipments in minutes; a live system would have
    vacuumed, analysed and checkpointed them long before their events arrive. Done here, so
    that autovacuum and the set-up's checkpoint do not run during the timed ingest (which
    still pays for its own WAL, checkpoints and dead rows)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
            conn.exec_driver_sql("CHECKPOINT")
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _events(fleet: Fleet, total: int, seed: int) -> list[Ev]:
    """`total` events: each shipment's journey, time-ordered, shuffled within windows."""
    rng = random.Random(seed)
    count = len(fleet.references)
    per = max(2, total // count)
    fixed = MILESTONES[:min(len(MILESTONES), per - 1)]
    receipts = per - len(fixed)
    step = SPAN / count
    out: list[Ev] = []
    for n in range(count):
        start = START + step * n
        for j, (kind, hours, hub) in enumerate(fixed):
            out.append(Ev(f"EV-{n:07d}-{j:02d}", n, kind, start + dt.timedelta(hours=hours),
                          hub))
        qty = fleet.quantities[n]
        parts = [qty // receipts] * receipts
        parts[-1] += qty - sum(parts)
        for r, part in enumerate(parts):
            at = start + dt.timedelta(hours=60 + 10 * r)
            ext = f"EV-{n:07d}-{len(fixed) + r:02d}"
            if part == 0:
                # A line too small to split this many ways: another hub sighting instead.
                out.append(Ev(ext, n, "arrived_at_hub", at, 2))
            elif r == receipts - 1 and n % 20 == 0 and part > 1:
                out.append(Ev(ext, n, "received", at, None, part - 1, 1))
            else:
                out.append(Ev(ext, n, "received", at, None, part))
    out = out[:total]
    out.sort(key=lambda e: e.at)
    for first in range(0, len(out), WINDOW):
        window = out[first:first + WINDOW]
        rng.shuffle(window)
        out[first:first + WINDOW] = window
    return out


def _api_row(e: Ev, fleet: Fleet) -> dict[str, Any]:
    row: dict[str, Any] = {"external_id": e.external_id, "shipment": fleet.references[e.shipment],
                           "kind": e.kind, "occurred_at": e.at.isoformat(), "source": "bench"}
    if e.hub is not None:
        row["hub"] = fleet.hubs[e.hub][0]
    if e.received is not None:
        row["allocation_id"] = fleet.allocation_ids[e.shipment]
        row["quantity_received"] = e.received
        if e.damaged:
            row["quantity_damaged"] = e.damaged
    return row


def _stored_row(e: Ev, fleet: Fleet, now: dt.datetime) -> tuple[Any, ...]:
    received = e.kind == "received"
    return (e.external_id, fleet.shipment_ids[e.shipment], e.kind, e.at, "bench",
            fleet.hubs[e.hub][1] if e.hub is not None else None,
            fleet.allocation_ids[e.shipment] if received else None,
            e.received if received else None, (e.damaged or 0) if received else None,
            0 if received else None, "", 0, now)


def _ingest(engine: Engine, events: list[Ev], fleet: Fleet, batch: int) -> float:
    elapsed = 0.0
    for offset in range(0, len(events), batch):
        rows = [_api_row(e, fleet) for e in events[offset:offset + batch]]
        start = time.perf_counter()
        with session_scope(engine) as s:
            ingest.ingest_events(s, actor=SYSTEM, rows=rows)
        elapsed += time.perf_counter() - start
    return elapsed


def _baseline(engine: Engine, events: list[Ev], fleet: Fleet, batch: int) -> float:
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.exec_driver_sql(BARE.format(ts="timestamptz" if postgres else "text"))
    now = utcnow()
    elapsed = 0.0
    for offset in range(0, len(events), batch):
        rows = [_stored_row(e, fleet, now) for e in events[offset:offset + batch]]
        if not postgres:
            rows = [(*r[:3], r[3].replace(tzinfo=None).isoformat(" ", "microseconds"), *r[4:12],
                     now.replace(tzinfo=None).isoformat(" ", "microseconds")) for r in rows]
        start = time.perf_counter()
        with engine.begin() as conn:
            if postgres:
                raw: Any = conn.connection.dbapi_connection
                with raw.cursor() as cursor, cursor.copy(
                        "COPY bench_bare_events FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["text", "int8", "text", "timestamptz", "text", "int8",
                                    "int8", "int8", "int8", "int8", "text", "int8",
                                    "timestamptz"])
                    for row in rows:
                        copy.write_row(row)
            else:
                conn.exec_driver_sql("INSERT INTO bench_bare_events VALUES "
                                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        elapsed += time.perf_counter() - start
    return elapsed


def _query(engine: Engine) -> tuple[float, float, int]:
    timings = []
    donors = 0
    for _ in range(6):
        with session_scope(engine) as s:
            start = time.perf_counter()
            donors = len(queries.delivery_by_donor(s, actor=SYSTEM))
            timings.append((time.perf_counter() - start) * 1000)
    return timings[0], statistics.median(timings[1:]), donors


def _check(engine: Engine, fleet: Fleet, expected: int) -> str:
    with session_scope(engine) as s:
        stored = s.scalar(select(func.count()).select_from(DeliveryEvent)
                          .where(DeliveryEvent.external_id.like("EV-%"))) or 0
        delivered = s.scalar(select(func.count()).select_from(Pledge).where(
            Pledge.external_id.like("SYN-%"), Pledge.status == PledgeStatus.DELIVERED)) or 0
        sample = fleet.shipment_ids[:: max(1, len(fleet.shipment_ids) // 200)]
        repaired = ingest.rebuild(s, actor=SYSTEM, shipment_ids=sample)
    if stored != expected or repaired:
        raise SystemExit(f"check failed: {stored} events stored of {expected}; "
                         f"{repaired} of {len(sample)} sampled shipments differed on replay")
    return (f"{stored:,} events stored, {delivered:,} pledges delivered, replay of "
            f"{len(sample)} sampled shipments matches")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=ingest.MAX_BATCH)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{args.events:,} events for {args.pledges:,} pledges, batches of {args.batch:,}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, engine, admin, database in _engines(Path(tmp), args.only):
            try:
                start = time.perf_counter()
                fleet = _setup(engine, args.pledges)
                events = _events(fleet, args.events, args.seed)
                _settle(engine)
                # A million generated events would otherwise be rescanned by every full
                # garbage collection the ingest triggers; a server holds no such heap.
                gc.collect()
                gc.freeze()
                print(f"{name}: set up {len(fleet.references):,} shipments and generated "
                      f"{len(events):,} events in {time.perf_counter() - start:.1f} s")
                seconds = _ingest(engine, events, fleet, args.batch)
                baseline = _baseline(engine, events, fleet, args.batch)
                first, median, donors = _query(engine)
                rate, raw = len(events) / seconds, len(events) / baseline
                target = 100_000 if name == "postgresql" else 50_000
                what = "binary COPY" if name == "postgresql" else "executemany"
                print(f"{name:10s} ingest {len(events):,} events in {seconds:6.2f} s = "
                      f"{rate:>9,.0f} events/s (target >= {target:,}) | bare {what} "
                      f"{raw:>9,.0f} rows/s | ratio {raw / rate:4.2f}x"
                      + (" (target <= 2x)" if name == "postgresql" else ""))
                print(f"{name:10s} pledged vs delivered by donor ({donors} donors): first "
                      f"{first:6.1f} ms, median of 5 more {median:6.1f} ms (target < 200 ms)")
                print(f"{name:10s} {_check(engine, fleet, len(events))}")
                del events
                gc.unfreeze()
            finally:
                engine.dispose()
                if admin is not None:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
                    admin.dispose()


if __name__ == "__main__":
    main()
