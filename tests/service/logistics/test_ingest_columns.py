"""The ingest's column path (`logistics._columns`): it takes only what the row path takes, and
stores and derives exactly what the row path does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.errors import ValidationFailed
from coalition.logistics import _columns, ingest
from coalition.logistics.models import EventKind
from coalition.logistics.state import Event, summarize
from tests.factories import World
from tests.service.logistics import kit

K = EventKind
T0 = kit.T0
_OMIT = object()  # a key left out of the row


@pytest.fixture
def sites(world: World, session: Session) -> None:
    kit.make_sites(session)


# --- Both paths through the whole ingest, for perturbed journeys --------------------------

@dataclasses.dataclass(frozen=True)
class _Time:
    """How a row writes its time: offset, fraction digits, separator, or a whole other form
    that `datetime.fromisoformat` reads. `fast` forms are ones the column path takes."""

    offset: str = "+00:00"
    digits: int = 0
    separator: str = "T"
    other: str | None = None  # a strftime pattern for the UTC time, instead of the above

    @property
    def fast(self) -> bool:
        return (self.other is None and self.separator == "T" and self.digits in (0, 3, 6)
                and self.offset in ("Z", "+00:00", "+02:00", "-05:30"))

    def write(self, at: dt.datetime) -> str:
        if self.other is not None:
            return at.strftime(self.other)
        hours, minutes = {"Z": (0, 0), "+00:00": (0, 0), "+02:00": (2, 0), "-05:30": (-5, -30),
                          "+0200": (2, 0)}[self.offset]
        local = at.astimezone(dt.timezone(dt.timedelta(hours=hours, minutes=minutes)))
        fraction = f"{local.microsecond:06d}000"[:self.digits]
        return (local.strftime(f"%Y-%m-%d{self.separator}%H:%M:%S")
                + (f".{fraction}" if fraction else "") + self.offset)


_TIMES = st.sampled_from([
    _Time(), _Time("Z"), _Time("+02:00"), _Time("-05:30"), _Time("Z", 3), _Time("+02:00", 6),
    _Time("-05:30", 3), _Time("+00:00", 6),
    # What Python reads and the column path leaves to the row path.
    _Time("Z", 1), _Time("+02:00", 2), _Time("Z", 4), _Time("-05:30", 9), _Time("+0200"),
    _Time("Z", separator="t"), _Time("+02:00", 3, separator=" "),
    _Time(other="%Y-%m-%d"), _Time(other="%Y%m%dT%H%M%SZ"), _Time(other="%Y-%m-%dT%H:%MZ"),
    _Time(other="%Y-%m-%dT%H:%M:%S,%fZ"), _Time(other="%G-W%V-%uT%H:%M:%SZ"),
])
_MICROSECONDS = st.sampled_from([250_000, 123_456, 999_999, 1, 0])
_NOTES = st.one_of(
    st.sampled_from([_OMIT, None, "", "tab\there", "line\nbreak", "cr\rlf\r\nend",
                     'say "hi", twice', "a,b;c|d", "ünïcødé ☃ 😀", "back\\slash", "\\.",
                     "x\n\\.\ny", "x" * 500, "x" * 501]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20))
_SOURCES = st.sampled_from([_OMIT, "test", None, 'sys, "v2"', ""])
# (field, before, after): pydantic strips white space from each end of a text, not an enum.
_PADDING = st.tuples(
    st.sampled_from(["external_id", "source", "hub", "note", "shipment", "kind"]),
    st.sampled_from([" ", "\t", ""]), st.sampled_from([" \t\n", "", "\u00a0"])).filter(
        lambda padding: bool(padding[1] + padding[2]))
_INTS = st.sampled_from(["str", "float", "bool"])
_EXTRAS = st.sampled_from([("extra", 1), ("Source", "x")])


@dataclasses.dataclass(frozen=True)
class _Variant:
    """One row's perturbation."""

    time: _Time = _Time()
    microsecond: int = 0
    note: Any = _OMIT
    source: Any = "test"
    padding: tuple[str, str, str] | None = None
    ints: str = "int"
    hub_none: bool = False
    kind_enum: bool = False
    extra: tuple[str, Any] | None = None

    @property
    def fast(self) -> bool:
        """The column path must take a batch of rows perturbed only like this (and given a
        source for the batch)."""
        note_ok = self.note is _OMIT or self.note is None or (
            len(self.note) <= 500 and self.note == self.note.strip())
        return (self.time.fast and note_ok and self.source != "" and self.padding is None
                and self.ints == "int" and self.extra is None)

    def apply(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(row)
        at = dt.datetime.fromisoformat(out["occurred_at"]).replace(
            microsecond=self.microsecond)
        out["occurred_at"] = self.time.write(at)
        for key, value in (("note", self.note), ("source", self.source)):
            if value is _OMIT:
                out.pop(key, None)
            else:
                out[key] = value
        if self.hub_none and "hub" not in out:
            out["hub"] = None
        if self.kind_enum:
            out["kind"] = EventKind(out["kind"])
        for key in ("allocation_id", "quantity_received", "quantity_damaged",
                    "quantity_missing"):
            value = out.get(key)
            if isinstance(value, int):
                out[key] = {"int": value, "str": str(value), "float": float(value),
                            "bool": bool(value)}[self.ints]
        if self.padding is not None:
            key, before, after = self.padding
            if isinstance(out.get(key), str):
                out[key] = before + out[key] + after
        if self.extra is not None:
            out[self.extra[0]] = self.extra[1]
        return out


_PLAIN = _Variant()
# Each row changes in a dimension or two, so that most batches stay good.
_DIMENSIONS: dict[str, st.SearchStrategy[Any]] = {
    "time": _TIMES, "microsecond": _MICROSECONDS, "note": _NOTES, "source": _SOURCES,
    "padding": _PADDING, "ints": _INTS, "hub_none": st.just(True), "kind_enum": st.just(True),
    "extra": _EXTRAS}


@st.composite
def _variants(draw: st.DrawFn) -> _Variant:
    changed = draw(st.lists(st.sampled_from(sorted(_DIMENSIONS)), max_size=2, unique=True))
    return dataclasses.replace(_PLAIN, **{name: draw(_DIMENSIONS[name]) for name in changed})


class _BothPaths:
    """Runs a batch down the normal way (column path first) and forced down the row path,
    each in a savepoint rolled back, and holds the outcomes equal."""

    def __init__(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
        self.session = session
        self.force_rows = False
        self.taken: list[bool] = []
        real = ingest._Check.prepare

        def prepare(check: ingest._Check, parsed: _columns.Parsed | None
                    ) -> _columns.Clean | None:
            if self.force_rows:
                return None
            clean = real(check, parsed)
            self.taken.append(clean is not None)
            return clean

        monkeypatch.setattr(ingest._Check, "prepare", prepare)

    def outcome(self, rows: Sequence[Mapping[str, Any]], source: str | None
                ) -> tuple[Any, ...]:
        session = self.session
        with session.begin_nested() as attempt:
            try:
                result = ingest.ingest_events(session, actor=SYSTEM, rows=rows, source=source)
            except ValidationFailed as exc:
                out: tuple[Any, ...] = ("refused", [(e.row, e.field, e.message, e.value)
                                                    for e in exc.errors])
            else:
                assert ingest.batch_digest(session, batch_id=result.batch_id) == result.digest
                out = (result.model_dump(exclude={"batch_id"}), kit.snapshot(session),
                       kit.stored_events(session))
            attempt.rollback()
        return out

    def compare(self, rows: Sequence[Mapping[str, Any]], source: str | None
                ) -> tuple[bool, tuple[Any, ...]]:
        """Whether the column path was taken, and the (same) outcome of both paths."""
        del self.taken[:]
        self.force_rows = False
        by_columns = self.outcome(rows, source)
        self.force_rows = True
        by_rows = self.outcome(rows, source)
        assert by_columns == by_rows, rows
        # Rows that name no shipment as text go the row path before `prepare`.
        assert len(self.taken) <= 1
        return self.taken == [True], by_columns


def _journey(session: Session) -> list[dict[str, Any]]:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    journey = kit.journey("SHP-1", a.id, 60)
    journey[-1]["quantity_damaged"] = 5
    session.flush()
    return journey


def test_perturbed_journeys_give_the_same_outcome_on_both_paths(
        sites: None, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the form of times, texts and numbers: the column path refuses (and the row
    path decides) or stores, digests and derives exactly what the row path does."""
    journey = _journey(session)
    paths = _BothPaths(session, monkeypatch)
    assert paths.compare(journey, "batch")[0]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(variants=st.lists(_variants(), min_size=len(journey), max_size=len(journey)),
           source=st.sampled_from(["batch", "batch", None]))
    def perturbed(variants: list[_Variant], source: str | None) -> None:
        rows = [v.apply(row) for v, row in zip(variants, journey, strict=True)]
        taken, outcome = paths.compare(rows, source)
        if source is not None and all(v.fast for v in variants):
            assert taken, rows
            assert outcome[0] != "refused", rows

    perturbed()


@pytest.mark.parametrize("occurred_at", [
    "1000-01-01T00:00:00+01:00",  # a year of three digits in UTC
    "2024-02-29T23:59:59.999999+23:59",
    "2024-12-31T23:59:59-23:59",
    "2024-07-01T08:00:00-00:00",
    "1999-12-31T23:59:59.999-00:01",
    "2024-07-01T08:00:00.000000Z",
])
def test_edge_times_are_stored_alike_on_both_paths(sites: None, session: Session,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   occurred_at: str) -> None:
    journey = _journey(session)
    journey[0]["occurred_at"] = occurred_at
    taken, outcome = _BothPaths(session, monkeypatch).compare(journey, None)
    assert taken
    stored = {row[0]: row for row in outcome[2]}
    assert stored[journey[0]["external_id"]][3] == dt.datetime.fromisoformat(occurred_at)


# --- `_columns.check` on its own ---------------------------------------------------------

_LOOKUPS = _columns.Lookups(
    shipments={"SHP-1": 1, "SHP-2": 2},
    blocked=frozenset(),
    route=[(1, 10), (2, 10), (2, 11)],
    lines=[(1, 7, 100), (2, 8, 30), (2, 9, 20)],
    hubs={"POL-RZE": 10, "DEU-RMS": 11},
    source="batch",
    latest=T0 + dt.timedelta(days=10),
)


def _clean_rows() -> list[dict[str, Any]]:
    return [
        {"external_id": "A-1", "shipment": "SHP-1", "kind": "planned",
         "occurred_at": "2024-07-01T08:00:00Z", "source": "test"},
        {"external_id": "A-2", "shipment": "SHP-1", "kind": "dispatched",
         "occurred_at": "2024-07-01T12:00:00.250+02:00", "note": 'tab\t"q", x\ny ☃'},
        {"external_id": "A-3", "shipment": "SHP-1", "kind": "arrived_at_hub",
         "occurred_at": "2024-07-01T10:00:00Z", "hub": "POL-RZE", "source": None},
        {"external_id": "A-4", "shipment": "SHP-1", "kind": "departed_hub",
         "occurred_at": "2024-07-01T05:00:00.000001-05:30", "hub": "POL-RZE", "note": None},
        {"external_id": "A-5", "shipment": "SHP-1", "kind": "received",
         "occurred_at": "2024-07-02T08:00:00Z", "allocation_id": 7, "quantity_received": 90,
         "quantity_damaged": 10, "hub": None},
        {"external_id": "B-2", "shipment": "SHP-2", "kind": "arrived_at_hub",
         "occurred_at": "2024-07-01T09:00:00Z", "hub": "DEU-RMS"},
        # At the same time as B-2 and before it by external id: B-2 is the position.
        {"external_id": "B-1", "shipment": "SHP-2", "kind": "departed_hub",
         "occurred_at": "2024-07-01T09:00:00Z", "hub": "POL-RZE"},
        {"external_id": "B-3", "shipment": "SHP-2", "kind": "received",
         "occurred_at": "2024-07-03T00:00:00Z", "allocation_id": 8, "quantity_missing": 30},
        {"external_id": "B-4", "shipment": "SHP-2", "kind": "received",
         "occurred_at": "2024-07-02T00:00:00Z", "allocation_id": 9, "quantity_received": 4,
         "quantity_damaged": None},
        {"external_id": "B-5", "shipment": "SHP-2", "kind": "cancelled",
         "occurred_at": "2024-07-01T07:00:00Z", "source": "other"},
        {"external_id": "B-6", "shipment": "SHP-2", "kind": "handed_over",
         "occurred_at": "2024-07-01T23:00:00Z"},
    ]


def _at(hours: float, microseconds: int = 0) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours, microseconds=microseconds)


_CLEAN_EVENTS = [
    Event("A-1", 1, K.PLANNED, _at(0), "test"),
    Event("A-2", 1, K.DISPATCHED, _at(2, 250_000), "batch", note='tab\t"q", x\ny ☃'),
    Event("A-3", 1, K.ARRIVED_AT_HUB, _at(2), "batch", hub_id=10),
    Event("A-4", 1, K.DEPARTED_HUB, _at(2.5, 1), "batch", hub_id=10),
    Event("A-5", 1, K.RECEIVED, _at(24), "batch", allocation_id=7, quantity_received=90,
          quantity_damaged=10, quantity_missing=0),
    Event("B-2", 2, K.ARRIVED_AT_HUB, _at(1), "batch", hub_id=11),
    Event("B-1", 2, K.DEPARTED_HUB, _at(1), "batch", hub_id=10),
    Event("B-3", 2, K.RECEIVED, _at(40), "batch", allocation_id=8, quantity_received=0,
          quantity_damaged=0, quantity_missing=30),
    Event("B-4", 2, K.RECEIVED, _at(16), "batch", allocation_id=9, quantity_received=4,
          quantity_damaged=0, quantity_missing=0),
    Event("B-5", 2, K.CANCELLED, _at(-1), "other"),
    Event("B-6", 2, K.HANDED_OVER, _at(15), "batch"),
]


def test_clean_batch_is_read_summed_up_and_digested_like_the_events() -> None:
    clean = _columns.check(_clean_rows(), _LOOKUPS)
    assert clean is not None
    assert clean.frame.columns == list(_columns.STORED)
    assert clean.frame.rows() == [(*e[:3], e.occurred_at.isoformat(), *e[4:])
                                  for e in _CLEAN_EVENTS]
    assert clean.at.to_list() == [e.occurred_at for e in _CLEAN_EVENTS]
    assert clean.summaries() == {
        shipment_id: summarize([e for e in _CLEAN_EVENTS if e.shipment_id == shipment_id])
        for shipment_id in (1, 2)}
    assert clean.summaries()[2].position == (_at(1), "B-2", 11, K.ARRIVED_AT_HUB)
    assert clean.digest() == ingest.digest(_CLEAN_EVENTS)


def test_whole_numbers_as_plain_digits_read_as_the_numbers() -> None:
    """CSV files give every cell as text; pydantic reads "42" as 42, and so does the column
    path (ASCII digits only)."""
    rows = _clean_rows()
    texts = [{k: str(v) if type(v) is int else v for k, v in row.items()} for row in rows]
    assert any(isinstance(v, str) and v.isdigit() for row in texts for v in row.values())
    clean, as_text = _columns.check(rows, _LOOKUPS), _columns.check(texts, _LOOKUPS)
    assert clean is not None and as_text is not None
    assert as_text.frame.equals(clean.frame)
    for odd in ("+7", " 7", "7.0", "٧", "1" * 19, ""):
        changed = [dict(row) for row in texts]
        changed[4]["allocation_id"] = odd
        assert _columns.check(changed, _LOOKUPS) is None, odd


def test_quiet_events_of_a_blocked_shipment_are_clean() -> None:
    rows = [row for row in _clean_rows() if row["kind"] in ("planned", "cancelled")]
    lookups = dataclasses.replace(_LOOKUPS, blocked=frozenset({1, 2}))
    assert _columns.check(rows, lookups) is not None


def test_an_event_at_the_latest_time_allowed_is_clean() -> None:
    rows = _clean_rows()
    rows[0]["occurred_at"] = _LOOKUPS.latest.isoformat()
    assert _columns.check(rows, _LOOKUPS) is not None


_Change = Callable[[list[dict[str, Any]], _columns.Lookups],
                   tuple[Sequence[Mapping[str, Any]], _columns.Lookups]]


def _edit(index: int, **fields: Any) -> _Change:
    def change(rows: list[dict[str, Any]], lookups: _columns.Lookups
               ) -> tuple[Sequence[Mapping[str, Any]], _columns.Lookups]:
        rows[index].update(fields)
        return rows, lookups
    return change


def _row_as(index: int, kind: Callable[[dict[str, Any]], Any]) -> _Change:
    def change(rows: list[dict[str, Any]], lookups: _columns.Lookups
               ) -> tuple[Sequence[Mapping[str, Any]], _columns.Lookups]:
        return [*rows[:index], kind(rows[index]), *rows[index + 1:]], lookups
    return change


def _repeat(rows: list[dict[str, Any]], lookups: _columns.Lookups
            ) -> tuple[Sequence[Mapping[str, Any]], _columns.Lookups]:
    return [*rows, dict(rows[0])], lookups


def _blocked(rows: list[dict[str, Any]], lookups: _columns.Lookups
             ) -> tuple[Sequence[Mapping[str, Any]], _columns.Lookups]:
    return rows, dataclasses.replace(lookups, blocked=frozenset({1}))


def _no_batch_source(rows: list[dict[str, Any]], lookups: _columns.Lookups
                     ) -> tuple[Sequence[Mapping[str, Any]], _columns.Lookups]:
    return rows, dataclasses.replace(lookups, source=None)


@pytest.mark.parametrize("change", [
    pytest.param(_row_as(2, types.MappingProxyType), id="row-not-a-dict"),
    pytest.param(_row_as(2, OrderedDict), id="row-a-dict-subclass"),
    pytest.param(_row_as(2, lambda row: list(row.items())), id="row-a-list"),
    pytest.param(_edit(1, extra="x"), id="unknown-key"),
    pytest.param(_repeat, id="repeated-external-id"),
    pytest.param(_edit(0, shipment="SHP-404"), id="shipment-not-in-lookups"),
    pytest.param(_edit(2, hub="DEU-RMS"), id="hub-not-on-route"),
    pytest.param(_edit(2, hub="UKR-LWO"), id="hub-unknown"),
    pytest.param(_edit(2, hub=None), id="hub-missing"),
    pytest.param(_edit(0, hub="POL-RZE"), id="hub-on-a-non-hub-row"),
    pytest.param(_edit(0, hub=""), id="empty-hub-on-a-non-hub-row"),
    pytest.param(_edit(4, quantity_received=91), id="receipt-over-line-quantity"),
    pytest.param(_edit(8, quantity_received=21), id="receipt-over-other-line-quantity"),
    pytest.param(_edit(4, quantity_received=0, quantity_damaged=0), id="receipt-of-nothing"),
    pytest.param(_edit(4, allocation_id=8), id="line-of-another-shipment"),
    pytest.param(_edit(4, allocation_id=None), id="receipt-without-line"),
    pytest.param(_edit(0, quantity_missing=0), id="quantity-on-a-non-receipt"),
    pytest.param(_edit(
        0, occurred_at=(_LOOKUPS.latest + dt.timedelta(microseconds=1)).isoformat()),
        id="event-in-the-future"),
    pytest.param(_blocked, id="movement-of-a-blocked-shipment"),
    pytest.param(_no_batch_source, id="no-source-at-all"),
    pytest.param(_edit(0, occurred_at="2024-07-01T08:00:00"), id="time-without-offset"),
    pytest.param(_edit(0, occurred_at="2023-02-29T08:00:00Z"), id="time-not-a-day"),
    pytest.param(_edit(0, occurred_at="2024-07-01T08:00:00.1Z"), id="time-odd-fraction"),
    pytest.param(_edit(0, external_id=" A-1"), id="text-to-strip"),
    pytest.param(_edit(4, quantity_received="90"), id="number-as-text"),
    pytest.param(_edit(4, quantity_received=90.0), id="number-as-float"),
    pytest.param(_edit(4, quantity_received=2**63), id="number-too-big"),
    pytest.param(_edit(0, kind="lost"), id="unknown-kind"),
])
def test_check_leaves_to_the_row_path(change: _Change) -> None:
    rows, lookups = change(_clean_rows(), _LOOKUPS)
    assert _columns.check(rows, lookups) is None
