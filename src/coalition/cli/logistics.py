"""`coalition hubs ...`, `coalition shipments ...` and `coalition events import FILE`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.cli._run import (
    JsonOption,
    console,
    fail,
    money,
    print_json,
    print_record,
    print_table,
    service_call,
)
from coalition.errors import DomainError, ValidationFailed
from coalition.io import tabular
from coalition.logistics import ingest, queries
from coalition.logistics import service as logistics_service
from coalition.logistics.models import ShipmentStatus, SiteKind, TransportMode
from coalition.logistics.schemas import (
    BatchResult,
    LegIn,
    LineIn,
    ShipmentCreate,
    ShipmentRead,
    SiteCreate,
    SiteRead,
)

hubs = typer.Typer(help="Logistics hubs and depots.", no_args_is_help=True)
shipments = typer.Typer(help="Shipments of allocated pledges and where they are.",
                        no_args_is_help=True)
events = typer.Typer(help="Delivery events.", no_args_is_help=True)

ISO = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%z"]


@dataclass(frozen=True)
class _Column:
    name: str
    required: bool = False


EVENT_COLUMNS = [_Column("external_id", True), _Column("shipment", True), _Column("kind", True),
                 _Column("occurred_at", True), _Column("source"), _Column("hub"),
                 _Column("allocation_id"), _Column("quantity_received"),
                 _Column("quantity_damaged"), _Column("quantity_missing"), _Column("note")]


# --- hubs -----------------------------------------------------------------------------------


@hubs.command("list")
def list_sites(kind: SiteKind | None = typer.Option(None, help="Only sites of this kind."),
               as_json: bool = JsonOption) -> None:
    """List sites, with how many shipments on the way route through each hub."""
    rows = service_call(lambda s: (
        [SiteRead.model_validate(site) for site in logistics_service.list_sites(s, kind=kind)],
        {hub.code: n for hub, n in queries.hubs_with_traffic(s, actor=SYSTEM)}))
    sites, traffic = rows
    if as_json:
        print_json(sites)
        return
    print_table("Sites", ["code", "kind", "name", "country", "lat", "lon", "on the way"],
                [(s.code, s.kind.value, s.name, s.participant.code, s.latitude, s.longitude,
                  traffic.get(s.code, "")) for s in sites], numeric=["on the way"])


@hubs.command("add")
def add_site(code: str, name: str = typer.Option(...), kind: SiteKind = typer.Option(...),
             country: str = typer.Option(..., help="Participant code, e.g. POL."),
             lat: Decimal = typer.Option(..., help="Latitude, decimal degrees."),
             lon: Decimal = typer.Option(..., help="Longitude, decimal degrees.")) -> None:
    """Record a hub or depot."""
    site = service_call(lambda s: SiteRead.model_validate(logistics_service.create_site(
        s, actor=SYSTEM, data=SiteCreate(code=code, name=name, kind=kind, country=country,
                                         latitude=lat, longitude=lon))))
    typer.echo(f"site {site.code} recorded ({site.kind.value}, {site.participant.code})")


@hubs.command("traffic")
def hub_traffic(code: str, as_json: bool = JsonOption) -> None:
    """Shipments on the way whose route passes the hub: inbound, at the hub, or past it."""
    rows = service_call(lambda s: queries.through_hub(s, actor=SYSTEM, hub=code))
    if as_json:
        print_json(rows)
        return
    print_table(f"In transit through {code.upper()}", ["shipment", "donor", "status", "where",
                                                      "last seen", "at", "planned arrival",
                                                      "qty"],
                [(t.shipment, t.donor, t.status.value, t.where, t.position or "",
                  _when(t.position_at), _when(t.planned_arrival), t.quantity) for t in rows],
                numeric=["qty"])


# --- shipments ------------------------------------------------------------------------------


@shipments.command("list")
def list_shipments(status: ShipmentStatus | None = typer.Option(None),
                   donor: str | None = typer.Option(None, help="Donor code."),
                   hub: str | None = typer.Option(None, help="Routed through this hub."),
                   limit: int = typer.Option(100, min=1, max=500),
                   as_json: bool = JsonOption) -> None:
    """List shipments, newest first."""
    page = service_call(lambda s: logistics_service.list_shipments(
        s, actor=SYSTEM, status=status, donor=donor, hub=hub, limit=limit))
    rows = [ShipmentRead.model_validate(x) for x in page.items]
    if as_json:
        print_json(rows)
        return
    print_table("Shipments", ["id", "reference", "donor", "from", "to", "status",
                              "planned arrival", "events"],
                [(x.id, x.reference, x.donor.code, x.origin.code, x.destination.code,
                  x.status.value, _when(x.planned_arrival), x.event_count) for x in rows],
                numeric=["events"], caption=f"{len(rows)} of {page.total}")


@shipments.command("show")
def show_shipment(shipment_id: int, as_json: bool = JsonOption) -> None:
    """One shipment: route, lines and its events in the order they happened."""
    shipment, legs, lines, history = service_call(lambda s: _shipment_parts(s, shipment_id))
    if as_json:
        print_json({"shipment": shipment, "legs": legs, "lines": lines, "events": history})
        return
    print_record(f"Shipment {shipment.reference}", shipment)
    print_table("Route", ["leg", "from", "to", "mode", "reference"], legs)
    print_table("Lines", ["allocation", "sent", "received", "damaged", "missing"], lines,
                numeric=["sent", "received", "damaged", "missing"])
    print_table("Events", ["occurred", "kind", "hub", "line", "received", "damaged", "missing",
                           "source", "external id"], history)


def _shipment_parts(session: Session, shipment_id: int) -> tuple[ShipmentRead, list[Any],
                                                             list[Any], list[Any]]:
    shipment = logistics_service.get_shipment(session, actor=SYSTEM, shipment_id=shipment_id)
    codes = {leg.to_site_id: leg.to_site.code for leg in shipment.legs}
    legs = [(leg.seq, leg.from_site.code, leg.to_site.code, leg.mode.value, leg.reference)
            for leg in shipment.legs]
    lines = [(line.allocation_id, line.quantity, line.quantity_received, line.quantity_damaged,
              line.quantity_missing) for line in shipment.lines]
    history = [(_when(e.occurred_at), e.kind.value, codes.get(e.hub_id or 0, ""),
                e.allocation_id or "", e.quantity_received, e.quantity_damaged,
                e.quantity_missing, e.source, e.external_id)
               for e in logistics_service.shipment_events(session, actor=SYSTEM,
                                                          shipment_id=shipment_id)]
    return ShipmentRead.model_validate(shipment), legs, lines, history


@shipments.command("create")
def create_shipment(
    reference: str = typer.Option(...),
    origin: str = typer.Option(..., "--from", help="Donor depot code."),
    legs: list[str] = typer.Option(..., "--leg", help="SITE:MODE[:REFERENCE], in order; the "
                                   "last ends at the recipient depot."),
    lines: list[str] = typer.Option(..., "--line", help="ALLOCATION_ID:QUANTITY"),
    depart: dt.datetime = typer.Option(..., formats=ISO, help="Planned departure, with "
                                       "offset, e.g. 2026-12-01T06:00+0000."),
    arrive: dt.datetime = typer.Option(..., formats=ISO, help="Planned arrival."),
    as_json: bool = JsonOption,
) -> None:
    """Plan a shipment of allocations along a route."""
    try:
        data = ShipmentCreate(reference=reference, origin=origin, legs=[_leg(x) for x in legs],
                              lines=[_line(x) for x in lines], planned_departure=depart,
                              planned_arrival=arrive)
    except (ValueError, IndexError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    shipment = service_call(lambda s: ShipmentRead.model_validate(
        logistics_service.create_shipment(s, actor=SYSTEM, data=data)))
    if as_json:
        print_json(shipment)
        return
    typer.echo(f"shipment {shipment.id} ({shipment.reference}) planned: {shipment.origin.code} "
               f"-> {shipment.destination.code}, arriving {_when(shipment.planned_arrival)}")


def _leg(text: str) -> LegIn:
    site, mode, *reference = text.split(":", 2)
    return LegIn(to=site, mode=TransportMode(mode), reference=reference[0] if reference else "")


def _line(text: str) -> LineIn:
    allocation_id, quantity = text.split(":")
    return LineIn(allocation_id=int(allocation_id), quantity=int(quantity))


@shipments.command("late")
def late(as_of: dt.datetime | None = typer.Option(None, "--as-of", formats=ISO,
                                                  help="Default: now."),
         as_json: bool = JsonOption) -> None:
    """Shipments late against their plan: not dispatched, overdue, or arrived late."""
    rows = service_call(lambda s: queries.late_shipments(s, actor=SYSTEM, as_of=as_of))
    if as_json:
        print_json(rows)
        return
    print_table("Late against the plan", ["shipment", "donor", "status", "why",
                                          "planned departure", "planned arrival", "hours"],
                [(r.shipment, r.donor, r.status.value, r.reason, _when(r.planned_departure),
                  _when(r.planned_arrival), f"{r.hours_late:,}") for r in rows],
                numeric=["hours"])


@shipments.command("discrepancies")
def discrepancies(as_json: bool = JsonOption) -> None:
    """Receipts that do not match what was sent, for follow-up."""
    rows = service_call(lambda s: queries.discrepancies(s, actor=SYSTEM))
    if as_json:
        print_json(rows)
        return
    print_table("Discrepancies", ["shipment", "donor", "allocation", "sent", "received",
                                  "damaged", "missing", "unaccounted", "last receipt"],
                [(d.shipment, d.donor, d.allocation_id, d.sent, d.received, d.damaged,
                  d.missing, d.unaccounted, _when(d.last_received_at)) for d in rows],
                numeric=["sent", "received", "damaged", "missing", "unaccounted"])


@shipments.command("where")
def where_is(requirement_id: int, as_json: bool = JsonOption) -> None:
    """Where everything for a requirement is: its allocations and their shipments."""
    trace = service_call(lambda s: queries.where_is(s, actor=SYSTEM,
                                                    requirement_id=requirement_id))
    if as_json:
        print_json(trace)
        return
    console.print(f"[bold]{trace.reference}[/] {trace.item_type}: need {trace.quantity:,}, "
                  f"committed {trace.quantity_committed:,}, in transit "
                  f"{trace.quantity_in_transit:,}, delivered {trace.quantity_delivered:,}")
    print_table("Allocations and shipments", ["allocation", "donor", "qty", "shipment",
                                              "status", "last seen", "planned arrival",
                                              "sent", "received"],
                [(a.allocation_id, a.donor, a.quantity, s.shipment, s.status.value,
                  s.position or "", _when(s.planned_arrival), s.quantity, s.received)
                 for a in trace.allocations for s in a.shipments]
                + [(a.allocation_id, a.donor, a.quantity, "(not yet on a shipment)", "", "",
                    "", a.not_yet_on_a_shipment, "")
                   for a in trace.allocations if a.not_yet_on_a_shipment],
                numeric=["qty", "sent", "received"])


@shipments.command("by-donor")
def by_donor(as_json: bool = JsonOption) -> None:
    """Pledged against delivered, by donor."""
    rows = service_call(lambda s: queries.delivery_by_donor(s, actor=SYSTEM))
    if as_json:
        print_json(rows)
        return
    print_table("Pledged vs delivered by donor", ["donor", "pledges", "units pledged",
                                                  "units delivered", "EUR pledged",
                                                  "EUR delivered", "delivered"],
                [(r.donor, r.pledges, f"{r.quantity_pledged:,}", f"{r.quantity_delivered:,}",
                  money(r.value_pledged_eur), money(r.value_delivered_eur),
                  _share(r.value_delivered_eur_cents, r.value_pledged_eur_cents))
                 for r in rows],
                numeric=["pledges", "units pledged", "units delivered", "EUR pledged",
                         "EUR delivered", "delivered"])


@shipments.command("rebuild")
def rebuild(shipment_ids: list[int]) -> None:
    """Replay the events of shipments and repair any derived state that differs."""
    repaired = service_call(lambda s: ingest.rebuild(s, actor=SYSTEM, shipment_ids=shipment_ids))
    typer.echo(f"{repaired} of {len(shipment_ids)} shipment(s) differed and were repaired")


# --- events ---------------------------------------------------------------------------------


@events.command("import")
def import_events(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or JSON lines."),
    source: str | None = typer.Option(None, help="Source of rows that name none "
                                      "(default: the file name)."),
    batch_size: int = typer.Option(ingest.MAX_BATCH, min=1, max=100_000,
                                   help="Rows per transaction."),
    file_format: str | None = typer.Option(None, "--format", help="csv or json (default: "
                                           "from the extension)."),
    as_json: bool = JsonOption,
) -> None:
    """Import delivery events; each batch is all or nothing.

    A bad row stops the import, naming its row and field.
    Earlier batches stay recorded: fix the file and import it again,
    rows already recorded are skipped.
    """
    totals = {"rows": 0, "inserted": 0, "duplicates": 0, "batches": 0}
    expected = _count_rows(path, file_format)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=as_json) as bar:
            task = bar.add_task(f"importing {path.name}", total=expected)
            for numbers, rows in _batches(path, file_format, batch_size):
                result = service_call(_batch(rows, numbers, source or path.name))
                for key in ("rows", "inserted", "duplicates"):
                    totals[key] += getattr(result, key)
                totals["batches"] += 1
                bar.advance(task, len(rows))
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(totals)
        return
    typer.echo(f"{totals['rows']:,} rows in {totals['batches']} batch(es): "
               f"{totals['inserted']:,} new events, {totals['duplicates']:,} already recorded")


def _batch(rows: list[dict[str, Any]], numbers: list[int], source: str
           ) -> Callable[[Session], BatchResult]:
    return lambda s: ingest.ingest_events(s, actor=SYSTEM, rows=rows, source=source,
                                          row_numbers=numbers)


def _batches(path: Path, file_format: str | None, size: int
             ) -> Iterator[tuple[list[int], list[dict[str, Any]]]]:
    numbers: list[int] = []
    rows: list[dict[str, Any]] = []
    for number, row in tabular.read_rows(path, EVENT_COLUMNS, format=file_format):
        numbers.append(number)
        rows.append({k: v for k, v in row.items() if v is not None})
        if len(rows) == size:
            yield numbers, rows
            numbers, rows = [], []
    if rows:
        yield numbers, rows


def _count_rows(path: Path, file_format: str | None) -> int | None:
    """Lines of a CSV (less its header) or JSON lines file, for the progress bar."""
    try:
        kind = tabular.detect_format(path, file_format)
    except ValidationFailed:
        return None
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    if kind == "csv":
        return max(0, lines - 1)
    return lines if path.suffix.lower() in (".jsonl", ".ndjson") else None


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _share(part: int, whole: int) -> str:
    return f"{Decimal(part) * 100 / whole:.1f}%" if whole else ""
