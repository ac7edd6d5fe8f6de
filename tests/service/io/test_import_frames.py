"""The CSV fast path (polars chunks) against the row path: same checks, same records, same
messages; and the files it leaves to the row path."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from coalition.access.actor import SYSTEM
from coalition.io import importers
from coalition.io.frames import ROW, FrameValidator, vector_form
from coalition.io.importers import ImportFailed, _pledge_frames, _pledge_store, import_file
from coalition.io.importers import pledges as pledge_import
from coalition.io.rows import _checker
from coalition.io.specs import SPECS
from coalition.io.tabular import FileFormatError, FrameReadError
from coalition.pledges.models import Pledge, PledgeTransition
from coalition.schemas_common import EDGE_BLANK
from tests.factories import World
from tests.service.io.files import PLEDGE_HEADER, counts, pledge_row, pledges_csv, write_csv

# Cells near the edges of what each parser accepts.
_CELL = st.text(alphabet="0123456789.+-eE ,aZ_/\u00a0\u0663\x1c\t", max_size=24)
_VECTOR_COLUMNS = [(spec.name, column) for spec in SPECS.values() for column in spec.columns
                   if column.lookup is None and vector_form(column.parse) is not None]


@pytest.mark.parametrize(("spec", "column"), _VECTOR_COLUMNS,
                         ids=[f"{s}.{c.name}" for s, c in _VECTOR_COLUMNS])
@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_CELL, min_size=1, max_size=20))
def test_a_vector_check_accepts_only_what_the_parser_accepts(spec: str, column: Any,
                                                             texts: list[str]) -> None:
    form = vector_form(column.parse)
    assert form is not None
    raw = pl.col("t")
    valid, value = form(raw)
    checked = pl.DataFrame({"t": texts}).select(
        (valid & ~raw.str.contains(EDGE_BLANK)).alias("ok"), value.alias("v"))
    check = _checker(column, None)
    for text, ok, vector_value in zip(texts, checked["ok"], checked["v"], strict=True):
        if not ok or not text:
            continue
        python_value, reason, _ = check(text)
        assert reason is None, (text, reason)
        if isinstance(python_value, Decimal):
            # The same Decimal, digit for digit (what the row path builds records from).
            assert Decimal(vector_value).as_tuple() == python_value.as_tuple()
        else:
            assert vector_value == python_value


def test_every_blank_python_strips_is_left_to_the_row_validator() -> None:
    blanks = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    edge = pl.Series(["x" + b for b in blanks]).str.contains(EDGE_BLANK)
    assert edge.all()


def test_rules_run_once_per_combination_and_refuse_like_the_row_validator() -> None:
    spec = SPECS["pledges"]
    validator = FrameValidator(spec, lookups={k: lambda _: True for k in spec.lookups})
    rows = [pledge_row("A"), pledge_row("B", currency="USD"),
            pledge_row("C", parent_external_id="C", funding="joint_fund_contribution"),
            pledge_row("D", funding="joint_fund_purchase"),
            pledge_row("E", currency="USD", fx_rate_to_eur="0.9")]
    chunk = pl.DataFrame([dict(zip(PLEDGE_HEADER, r, strict=True)) for r in rows]).with_columns(
        pl.int_range(2, 7).alias(ROW))
    clean, rest = validator.split(chunk)
    assert clean[ROW].to_list() == [2, 6] and rest[ROW].to_list() == [3, 4, 5]
    assert clean.filter(pl.col(ROW) == 6)["fx_rate_to_eur"].item() == "0.9"


def _snapshot(session: Session) -> list[tuple[Any, ...]]:
    parent = aliased(Pledge)
    skip = {"id", "parent_pledge_id", "created_at", "updated_at"}
    columns = [c for c in Pledge.__table__.columns if c.name not in skip]
    rows = session.execute(
        select(*columns, parent.external_id).outerjoin(parent, Pledge.parent_pledge_id
                                                       == parent.id).order_by(Pledge.external_id))
    history = session.execute(
        select(Pledge.external_id, PledgeTransition.from_status, PledgeTransition.to_status,
               PledgeTransition.actor, PledgeTransition.reason)
        .join(PledgeTransition, PledgeTransition.pledge_id == Pledge.id)
        .order_by(Pledge.external_id, PledgeTransition.id))
    return [tuple(r) for r in rows] + [tuple(r) for r in history]


def _row_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise FrameReadError("row path")

    monkeypatch.setattr(importers, "_import_pledge_frames", refuse)


def _mixed_rows() -> list[list[str]]:
    rows = [
        pledge_row("M-1", amount="12.500", quantity="007", status="confirmed"),
        pledge_row("M-2", currency="USD", fx_rate_to_eur="0.92345678", amount="1234.56"),
        pledge_row("M-3", donor=" deu ", notes='says "hello", twice\nover two lines'),
        pledge_row("M-4", currency="usd", fx_rate_to_eur="1.10", status="Withdrawn"),
        pledge_row("", donor="AUS", notes="no id given"),
        pledge_row("M-5", funding="joint_fund_contribution", available_from=""),
        pledge_row("M-6", funding="joint_fund_purchase", parent_external_id="M-5"),
        pledge_row("M-7", funding="joint_fund_purchase", parent_external_id="M-9"),
        pledge_row("M-8", amount=" 99.99", releasability="nato", notes="  padded  "),
        pledge_row("M-9", donor="JPN", funding="joint_fund_contribution", amount="0"),
        # As many digits as SQLite's binary float keeps (it stores NUMERIC as one).
        pledge_row("M-10", amount="999999999999.99", currency="USD",
                   fx_rate_to_eur="0.50000000"),
    ]
    return rows + [pledge_row(f"N-{i}", quantity=i + 1, amount=f"{i}.{i % 100:02d}")
                   for i in range(300)]


@pytest.mark.parametrize("bulk", [False, True], ids=["batches", "bulk load"])
def test_the_fast_path_stores_what_the_row_path_stores(world: World, session: Session,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      bulk: bool) -> None:
    if bulk:
        # Indexes dropped, on PostgreSQL shared values as column defaults and the history by
        # COPY; into an empty table also without the unique key on external_id.
        monkeypatch.setattr(pledge_import, "BULK_MIN_ROWS", 1)
    path = pledges_csv(tmp_path / "mixed.csv", _mixed_rows())
    # Small chunks: records cut across chunks, quoted newlines at the edges.
    monkeypatch.setattr(importers, "CHUNK_BYTES", 512)
    ready = []
    prepare = _pledge_frames.prepare

    def spy(*args: Any) -> Any:
        found = prepare(*args)
        ready.append(found[0].height)
        return found

    monkeypatch.setattr(importers, "prepare", spy)
    snapshots, reports = [], []
    for row_path in (False, True):
        with monkeypatch.context() as patch:
            if row_path:
                _row_path_only(patch)
            attempt = session.begin_nested()
            report = import_file(session, actor=SYSTEM, resource="pledges", path=path)
            reports.append(report.to_dict())
            snapshots.append(_snapshot(session))
            attempt.rollback()
    assert reports[0] == reports[1]
    assert reports[0]["created"] == 311
    assert len(ready) > 20 and sum(ready) > 290, "most rows take the fast path"
    assert snapshots[0] == snapshots[1]


def test_the_fast_path_reports_what_the_row_path_reports(world: World, session: Session,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        *_mixed_rows(),
        pledge_row("X-1", donor="UKR"), pledge_row("X-2", quantity="0"),
        pledge_row("X-3", status="delivered"), pledge_row("X-4", available_from="2004-01-01"),
        pledge_row("X-5", currency="USD"), pledge_row("X-6", amount="1,5"),
        pledge_row("X-7", parent_external_id="X-7", funding="joint_fund_contribution"),
        pledge_row("X-8", item_type="nope"),
    ]
    path = pledges_csv(tmp_path / "bad.csv", rows)
    monkeypatch.setattr(importers, "CHUNK_BYTES", 700)
    found = []
    for row_path in (False, True):
        with monkeypatch.context() as patch:
            if row_path:
                _row_path_only(patch)
            before = counts(session)
            with pytest.raises(ImportFailed) as caught:
                import_file(session, actor=SYSTEM, resource="pledges", path=path)
            assert counts(session) == before
            found.append([str(e) for e in caught.value.row_errors])
    assert found[0] == found[1]
    assert len(found[0]) == 8
    # A key met again in a later chunk: the first one is stored, the database finds it.
    path = pledges_csv(tmp_path / "again.csv", [*_mixed_rows(), pledge_row("N-3")])
    found = []
    for row_path in (False, True):
        with monkeypatch.context() as patch:
            if row_path:
                _row_path_only(patch)
            with pytest.raises(ImportFailed) as caught:
                import_file(session, actor=SYSTEM, resource="pledges", path=path)
            found.append([str(e) for e in caught.value.row_errors])
    assert found[0] == found[1] == ["row 313, external_id: duplicate of row 16 (got 'N-3')"]


def test_a_bulk_load_names_keys_met_again_in_later_chunks(world: World, session: Session,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(pledge_import, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(importers, "CHUNK_BYTES", 700)
    assert session.scalar(select(func.count()).select_from(Pledge)) == 0
    mixed = _mixed_rows()
    # A key, and (PostgreSQL, which checks keys at the end) a row without one, again after
    # many chunks. SQLite keeps the unique key and stops at the first chunk that meets it.
    postgres = session.get_bind().dialect.name == "postgresql"
    again = [pledge_row("N-3"), mixed[4]] if postgres else [pledge_row("N-3")]
    path = pledges_csv(tmp_path / "again.csv", [*mixed, *again])
    found = []
    for row_path in (False, True):
        with monkeypatch.context() as patch:
            if row_path:
                _row_path_only(patch)
            before = counts(session)
            with pytest.raises(ImportFailed) as caught:
                import_file(session, actor=SYSTEM, resource="pledges", path=path)
            assert counts(session) == before
            found.append([str(e) for e in caught.value.row_errors])
    assert found[0] == found[1] == [
        "row 313, external_id: duplicate of row 16 (got 'N-3')",
        *(["row 314, external_id: duplicate of row 6"] if postgres else [])]
    # The unique key is back and the import still works.
    path = pledges_csv(tmp_path / "fine.csv", mixed)
    assert import_file(session, actor=SYSTEM, resource="pledges", path=path).created == 311


@pytest.mark.parametrize("damage", ["blank line", "extra cell"])
def test_files_polars_could_read_otherwise_go_the_row_path(world: World, session: Session,
                                                           tmp_path: Path, damage: str) -> None:
    rows: list[list[str]] = [pledge_row("B-1"), pledge_row("B-2"), pledge_row("B-3")]
    path = write_csv(tmp_path / "b.csv", PLEDGE_HEADER, rows)
    lines = path.read_text().splitlines(keepends=True)
    if damage == "blank line":
        lines.insert(2, "\n")
        lines[-1] = lines[-1].replace("B-3,POL", "B-3,XXX")
        path.write_text("".join(lines))
        with pytest.raises(ImportFailed) as caught:
            import_file(session, actor=SYSTEM, resource="pledges", path=path)
        # The blank line is row 3, as the csv module counts: the bad row is row 5.
        assert [(e.row, e.column) for e in caught.value.row_errors] == [(5, "donor")]
    else:
        lines[2] = lines[2].rstrip("\n") + ",\n"
        path.write_text("".join(lines))
        report = import_file(session, actor=SYSTEM, resource="pledges", path=path)
        assert report.created == 3


def test_a_reimport_compares_in_bulk_and_changes_what_the_row_path_changes(
        world: World, session: Session, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "CHUNK_BYTES", 2048)
    rows = _mixed_rows()
    first = pledges_csv(tmp_path / "v1.csv", rows)
    import_file(session, actor=SYSTEM, resource="pledges", path=first)
    compared = []
    compare = pledge_import.PledgeLoad._compare

    def spy(self: Any, candidate: Any, *args: Any) -> None:
        compared.append(candidate[1])
        compare(self, candidate, *args)

    monkeypatch.setattr(pledge_import.PledgeLoad, "_compare", spy)
    again = import_file(session, actor=SYSTEM, resource="pledges", path=first).to_dict()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 311)
    # Only the row without an id (its derived key is made on the row path) and the one with
    # blanks around a number are compared one by one; the others are found unchanged in bulk.
    assert len(compared) == 2 and "M-8" in compared
    changed = [list(r) for r in rows]
    changed[0][3] = "8"                                        # M-1 quantity
    changed[1][13] = "new notes"                               # M-2 notes
    changed[11][9] = "confirmed"                               # N-0 status
    changed[12][4] = "1.010"                                   # N-1 amount, the same value
    changed[20][12] = "NATO"                                   # N-9 releasability
    second = pledges_csv(tmp_path / "v2.csv", changed)
    found = []
    for row_path in (False, True):
        with monkeypatch.context() as patch:
            if row_path:
                _row_path_only(patch)
            attempt = session.begin_nested()
            report = import_file(session, actor=SYSTEM, resource="pledges", path=second)
            found.append((report.to_dict(), _snapshot(session)))
            attempt.rollback()
    assert found[0] == found[1]
    assert (found[0][0]["updated"], found[0][0]["unchanged"]) == (4, 307)


def test_a_reimport_that_inserts_nothing_keeps_the_indexes(world: World, session: Session,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr(pledge_import, "BULK_MIN_ROWS", 1)
    path = pledges_csv(tmp_path / "p.csv", [pledge_row(f"K-{i}") for i in range(5)])
    dropped = []
    begin = _pledge_store.PledgeStore.begin_bulk

    def spy(self: Any) -> None:
        dropped.append(True)
        begin(self)

    monkeypatch.setattr(_pledge_store.PledgeStore, "begin_bulk", spy)
    assert import_file(session, actor=SYSTEM, resource="pledges", path=path).created == 5
    assert dropped == [True]
    assert import_file(session, actor=SYSTEM, resource="pledges", path=path).unchanged == 5
    assert dropped == [True]


def test_keys_that_differ_only_in_blanks_are_duplicates_in_file_order(
        world: World, session: Session, tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "p.csv", [pledge_row("D-1"), pledge_row("D-1\x1c"),
                                            pledge_row(""), pledge_row("")])
    with pytest.raises(ImportFailed) as caught:
        import_file(session, actor=SYSTEM, resource="pledges", path=path)
    assert str(caught.value.row_errors[0]) == (
        "row 3, external_id: duplicate of row 2 (got 'D-1')")


def test_a_file_polars_cannot_finish_is_imported_again_row_by_row(
        world: World, session: Session, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "CHUNK_BYTES", 512)
    monkeypatch.setattr(pledge_import, "BULK_MIN_ROWS", 1)
    rows = [pledge_row(f"U-{i}") for i in range(400)]
    path = pledges_csv(tmp_path / "u.csv", rows)
    # Bad UTF-8 near the end (after the part the csv module decodes to read the header):
    # many chunks are stored before polars meets it.
    path.write_bytes(path.read_bytes().replace(b"U-355,", b"U-355\xff,"))
    stored = []
    insert = _pledge_store.PledgeStore.history_range

    def spy(self: Any, first: int, last: int, **options: Any) -> None:
        stored.append(last - first + 1)
        insert(self, first, last, **options)

    for store in (_pledge_store.PostgresStore, _pledge_store.SqliteStore):
        monkeypatch.setattr(store, "history_range", spy, raising=False)
    before = counts(session)
    with pytest.raises(FileFormatError, match="not UTF-8 text"):
        import_file(session, actor=SYSTEM, resource="pledges", path=path)
    assert sum(stored) > 20, "chunks were stored before polars met the bad bytes"
    assert counts(session) == before
