"""The ingest's column path: a clean batch checked, resolved, digested and summed up by polars.

Nearly every batch is clean and new, so the rows are first taken column by column, in Rust:
each column's type and bounds come from `DeliveryEventIn` (the one definition of a row), the
references are resolved by joins against what the ingest holds locked, and the events are
summed up per shipment (`state.Summary`) rather than folded one by one. `check` accepts only
what the row path (pydantic, then `ingest._resolve`) accepts and reads it the same way; for
anything else — a wrong type, a doubtful time, an unknown reference, a repeated id — it
returns None and the row path gives the verdict and names the row and field. The tests hold
the two paths equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, cast

import annotated_types
import polars as pl

from coalition.logistics.models import EventKind
from coalition.logistics.schemas import DeliveryEventIn
from coalition.logistics.state import HUB_EVENTS, QUIET, Summary
from coalition.schemas_common import EDGE_BLANK

# The stored columns of an event, in table order, as `check` gives them.
STORED = ("external_id", "shipment_id", "kind", "occurred_at", "source", "hub_id",
          "allocation_id", "quantity_received", "quantity_damaged", "quantity_missing", "note")
_TIME = pl.Datetime("us", "UTC")
# What `datetime.fromisoformat` reads for sure and the same way polars does: a plain date and
# time to the second, no fraction or one of 3 or 6 digits, and Z or an offset in minutes.
# Everything else it may read is left to the row path.
_ISO = (r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
        r"(\.\d{3}|\.\d{6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$")
_QUIET = [k.value for k in QUIET]
_HUB_KINDS = [k.value for k in HUB_EVENTS]
_RECEIVED = EventKind.RECEIVED.value
_QUANTITIES = ("quantity_received", "quantity_damaged", "quantity_missing")


@dataclass(frozen=True)
class _Field:
    name: str
    dtype: type[pl.DataType]
    required: bool
    checks: tuple[pl.Expr, ...]


def _fields() -> tuple[_Field, ...]:
    """Each key of `DeliveryEventIn` with its polars type and the checks its annotations make."""
    out = []
    for name, hint in typing.get_type_hints(DeliveryEventIn, include_extras=True).items():
        required = typing.get_origin(hint) is not typing.NotRequired
        if not required:
            (hint,) = typing.get_args(hint)
        metadata: list[Any] = []
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            metadata = [m for extra in extras for m in getattr(extra, "metadata", [extra])]
        base = next(a for a in (typing.get_args(hint) or (hint,)) if a is not type(None))
        column = pl.col(name)
        checks: list[pl.Expr] = []
        if base is EventKind:
            checks.append(column.is_in([k.value for k in EventKind]))
        for m in metadata:
            if isinstance(m, annotated_types.MinLen):
                checks.append(column.str.len_chars() >= m.min_length)
            elif isinstance(m, annotated_types.MaxLen):
                checks.append(column.str.len_chars() <= m.max_length)
            elif isinstance(m, annotated_types.Gt):
                checks.append(column > cast(int, m.gt))
            elif isinstance(m, annotated_types.Ge):
                checks.append(column >= cast(int, m.ge))
            elif getattr(m, "pattern", None) is not None:
                # pydantic matches patterns with Rust's regex crate, as polars does.
                checks.append(column.str.contains(m.pattern))
            else:
                raise TypeError(f"{name}: no column check for {m!r}")
        if base not in (str, int, EventKind):
            raise TypeError(f"{name}: no column type for {base!r}")
        if base is not int:
            # The row's config strips texts: a text with blank at an edge is left to it.
            checks.append(~column.str.contains(EDGE_BLANK))
        out.append(_Field(name, pl.Int64 if base is int else pl.String, required,
                          tuple(checks)))
    return tuple(out)


_FIELDS = _fields()
# Other keys are refused by the row's config, so a row naming one goes the row path.
_KEYS = frozenset(f.name for f in _FIELDS)


@dataclass(frozen=True)
class Lookups:
    """What the rows are resolved against: the shipments this actor may record events for,
    by reference, and their hubs, lines and blocks; the hubs by code."""

    shipments: Mapping[str, int]
    blocked: frozenset[int]
    route: Sequence[tuple[int, int]]  # (shipment id, hub site id)
    lines: Sequence[tuple[int, int, int]]  # (shipment id, allocation id, quantity)
    hubs: Mapping[str, int]
    source: str | None
    latest: dt.datetime


@dataclass(frozen=True)
class Clean:
    """A clean batch: `frame` holds the `STORED` columns (`occurred_at` as the UTC ISO 8601
    text `datetime.isoformat` gives) and `at` the times."""

    frame: pl.DataFrame
    at: pl.Series

    def digest(self) -> str:
        """`ingest.digest` of these events."""
        c = pl.col
        line = self.frame.sort("external_id").select(pl.concat_str(
            [c("external_id"), c("shipment_id").cast(pl.String), c("kind"), c("occurred_at"),
             c("source"), *[c(name).cast(pl.String).fill_null("") for name in (
                 "hub_id", "allocation_id", *_QUANTITIES)], c("note")],
            separator="\t").str.join("\n")).item()
        return hashlib.sha256((line or "").encode()).hexdigest()

    def summaries(self) -> dict[int, Summary]:
        """`state.summarize` of each shipment's events, by shipment id."""
        frame = self.frame.with_columns(at=self.at)
        kind, at = pl.col("kind"), pl.col("at")

        def earliest(of: EventKind) -> pl.Expr:
            return at.filter(kind == of.value).min().alias(of.value)

        totals = frame.group_by("shipment_id").agg(
            pl.len().alias("events"), at.max().alias("last"), earliest(EventKind.DISPATCHED),
            earliest(EventKind.HANDED_OVER), at.filter(kind == _RECEIVED).min().alias("first"),
            at.filter(kind == _RECEIVED).max().alias("latest"), earliest(EventKind.CANCELLED))
        positions = (frame.filter(kind.is_in(_HUB_KINDS))
                     .sort("shipment_id", "at", "external_id")
                     .group_by("shipment_id").last()
                     .select("shipment_id", "at", "external_id", "hub_id", "kind"))
        position = {row[0]: (row[1], row[2], row[3], EventKind(row[4]))
                    for row in positions.iter_rows()}
        lines: dict[int, dict[int, tuple[int, int, int]]] = {}
        for shipment_id, allocation_id, received, damaged, missing in (
                frame.filter(kind == _RECEIVED)
                .group_by("shipment_id", "allocation_id")
                .agg(pl.col(c).sum() for c in _QUANTITIES).iter_rows()):
            lines.setdefault(shipment_id, {})[allocation_id] = (received, damaged, missing)
        return {shipment_id: Summary(events, last, dispatched, handed_over, first, latest,
                                     cancelled, position.get(shipment_id),
                                     lines.get(shipment_id, {}))
                for (shipment_id, events, last, dispatched, handed_over, first, latest,
                     cancelled) in totals.iter_rows()}


def _columns(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame | None:
    """The rows as typed columns, or None when a row is not a dict or a value is not
    exactly of its column's type (pydantic may still accept it, converted) — except that
    a whole number column may be given as text of plain digits, as CSV files give it."""
    if set(map(type, rows)) != {dict}:
        return None
    dicts = cast(list[dict[str, Any]], rows)
    if not _KEYS.issuperset(set().union(*dicts)):
        return None
    series = []
    for field in _FIELDS:
        values = list(map(dict.get, dicts, repeat(field.name)))
        try:
            series.append(pl.Series(field.name, values, dtype=field.dtype, strict=True))
        except (TypeError, OverflowError, ValueError, pl.exceptions.PolarsError):
            digits = _digits(field, values)
            if digits is None:
                return None
            series.append(digits)
    return pl.DataFrame(series)


def _digits(field: _Field, values: list[Any]) -> pl.Series | None:
    """A whole number column given as text: pydantic reads "42" as 42, and so does this,
    for ASCII digits only (18 at most: any such number fits in 64 bits)."""
    if field.dtype is not pl.Int64:
        return None
    try:
        text = pl.Series(field.name, values, dtype=pl.String, strict=True)
    except (TypeError, OverflowError, ValueError, pl.exceptions.PolarsError):
        return None
    if not text.str.contains("^[0-9]{1,18}$").fill_null(True).all():
        return None
    return text.cast(pl.Int64)


@dataclass(frozen=True)
class Parsed:
    """Rows whose every value has its column's type and bounds, ids distinct, times read
    (`at`): what can be known of a batch before looking anything up."""

    frame: pl.DataFrame


def check(rows: Sequence[Mapping[str, Any]], lookups: Lookups) -> Clean | None:
    """The batch resolved column by column when every row is good and no id repeats; None
    when some row needs the row path to say what is wrong with it (or is a repeat)."""
    parsed = parse(rows)
    return None if parsed is None else resolve(parsed, lookups)


def parse(rows: Sequence[Mapping[str, Any]]) -> Parsed | None:
    """The first half of `check`, which needs no lookups (the ingest runs it while the
    shipments are read)."""
    raw = _columns(rows)
    if raw is None:
        return None
    valid = pl.all_horizontal(
        *[pl.col(f.name).is_not_null() for f in _FIELDS if f.required],
        *[(c | pl.col(f.name).is_null()) for f in _FIELDS for c in f.checks],
        pl.col("occurred_at").str.contains(_ISO))
    if not raw.select(valid.all()).item():
        return None
    if raw.get_column("external_id").n_unique() != raw.height:
        return None
    return Parsed(raw.with_columns(at=pl.col("occurred_at").str.replace("Z$", "+00:00")
                                   .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z",
                                                    time_zone="UTC", strict=False)
                                   .cast(_TIME)))


def resolve(parsed: Parsed, lookups: Lookups) -> Clean | None:
    """The second half of `check`: references resolved and the rules between columns."""
    kind = pl.col("kind")
    receipt = kind == _RECEIVED
    frame = parsed.frame.with_columns(
        shipment_id=pl.col("shipment").replace_strict(
            dict(lookups.shipments), default=None, return_dtype=pl.Int64),
        hub_id=pl.col("hub").replace_strict(dict(lookups.hubs), default=None,
                                            return_dtype=pl.Int64),
        source=pl.col("source").fill_null(pl.lit(lookups.source, pl.String)),
        note=pl.col("note").fill_null(""),
        # Read before the quantities of receipts are filled in below (same input frame).
        named=pl.any_horizontal(*[pl.col(c).is_not_null() for c in ("allocation_id",
                                                                     *_QUANTITIES)]),
        **{c: pl.when(receipt).then(pl.col(c).fill_null(0)) for c in _QUANTITIES})
    frame = frame.join(pl.DataFrame(list(lookups.lines), orient="row", schema={
        "shipment_id": pl.Int64, "allocation_id": pl.Int64, "line_quantity": pl.Int64}),
        on=["shipment_id", "allocation_id"], how="left", maintain_order="left")
    frame = frame.join(pl.DataFrame(list(lookups.route), orient="row", schema={
        "shipment_id": pl.Int64, "hub_id": pl.Int64}).with_columns(on_route=pl.lit(True)),
        on=["shipment_id", "hub_id"], how="left", maintain_order="left")
    hub_row = kind.is_in(_HUB_KINDS)
    reported = pl.sum_horizontal(*_QUANTITIES)
    good = pl.all_horizontal(
        pl.col("shipment_id").is_not_null(),
        pl.col("at").is_not_null(),
        pl.col("source").is_not_null(),
        # Rows of other kinds name no hub; hub rows name a hub on the shipment's route.
        pl.when(hub_row).then(pl.col("on_route").fill_null(False))
        .otherwise(pl.col("hub").is_null()),
        # Only receipts name a line and quantities, and a receipt names its shipment's line.
        pl.when(receipt).then(pl.col("line_quantity").is_not_null()
                              & (reported > 0) & (reported <= pl.col("line_quantity")))
        .otherwise(~pl.col("named")),
        kind.is_in(_QUIET) | ~pl.col("shipment_id").is_in(list(lookups.blocked)))
    verdict = frame.select(good.all(), pl.col("at").max())
    if not verdict.item(0, 0):
        return None
    latest = verdict.item(0, 1)
    if latest is not None and latest > lookups.latest:
        return None
    at = frame.get_column("at")
    iso = pl.when(pl.col("at").dt.microsecond() == 0).then(
        pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")).otherwise(
        pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
    return Clean(frame.with_columns(occurred_at=iso).select(STORED), at)
