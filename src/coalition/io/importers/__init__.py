"""Imports of participants, catalog item types, requirements and pledges from CSV, XLSX or
JSON files: every row validated, nothing written unless all are valid, re-imports idempotent.

>>> with session_scope() as session:
...     report = import_file(session, actor=SYSTEM, resource="pledges", path="pledges.csv")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.io.frames import ROW, FrameValidator
from coalition.io.importers._common import (
    ErrorLimit,
    ImportFailed,
    ImportReport,
    Progress,
    all_or_nothing,
    estimate_rows,
    file_digest,
)
from coalition.io.importers._pledge_frames import prepare
from coalition.io.importers._records import RecordImport, declared_columns
from coalition.io.importers.pledges import PledgeLoad, PledgeLoadResult
from coalition.io.importers.records import CatalogHandler, ParticipantHandler, RequirementHandler
from coalition.io.rows import DEFAULT_MAX_ERRORS, RowValidator
from coalition.io.specs import CATALOG, PARTICIPANTS, PLEDGES, REQUIREMENTS, get_spec
from coalition.io.tabular import FrameReadError, detect_format, open_cells, open_frames

RESOURCES = ("participants", "catalog", "requirements", "pledges")

__all__ = ["RESOURCES", "ImportFailed", "ImportReport", "Progress", "import_file"]


def import_file(
    session: Session,
    *,
    actor: Actor,
    resource: str,
    path: Path | str,
    format: str | None = None,
    dry_run: bool = False,
    max_errors: int = DEFAULT_MAX_ERRORS,
    progress: Progress | None = None,
    name: str | None = None,
) -> ImportReport:
    """Import one file of `resource` in one savepoint of the caller's transaction.

    Every row is validated; if any is refused, `ImportFailed` lists the row errors (up to
    `max_errors`) and nothing stays written. A dry run does all the work, then rolls back.
    `name` is how the file is called in reports and the audit log (an upload's own name).
    """
    path = Path(path)
    get_spec(resource)
    report = ImportReport(resource=resource, file=name or path.name,
                          sha256=file_digest(path), dry_run=dry_run)
    with all_or_nothing(session, dry_run=dry_run):
        if resource == "pledges":
            _import_pledges(session, actor, path, report, format, max_errors, progress)
        else:
            _record_import(session, actor, resource, max_errors, progress).run(
                path, report, format=format)
    return report


_PROGRESS_EVERY = 10_000


def _record_import(session: Session, actor: Actor, resource: str, max_errors: int,
                   progress: Progress | None) -> RecordImport[Any]:
    if resource == "participants":
        return RecordImport(session, actor=actor, spec=PARTICIPANTS,
                            handler=ParticipantHandler(session, actor), max_errors=max_errors,
                            progress=progress)
    if resource == "catalog":
        return RecordImport(session, actor=actor, spec=CATALOG,
                            handler=CatalogHandler(session, actor), max_errors=max_errors,
                            progress=progress)
    return RecordImport(session, actor=actor, spec=REQUIREMENTS,
                        handler=RequirementHandler(session, actor), max_errors=max_errors,
                        progress=progress)


def _import_pledges(session: Session, actor: Actor, path: Path, report: ImportReport,
                    format: str | None, max_errors: int, progress: Progress | None) -> None:
    if detect_format(path, format) == "csv":
        attempt = session.begin_nested()
        try:
            _import_pledge_frames(session, actor, path, report, max_errors, progress)
        except FrameReadError:
            # polars and the csv module might read this file differently: start again, row by
            # row (which also reports what is wrong with it, if anything).
            attempt.rollback()
        except BaseException:
            attempt.rollback()
            raise
        else:
            attempt.commit()
            return
    _import_pledge_rows(session, actor, path, report, format, max_errors, progress)


# polars reads a CSV file in chunks of this many bytes (about 15,000 pledge rows): large
# enough that per-chunk work is negligible, small enough that memory stays flat (polars
# holds several times a chunk while it parses and checks it).
CHUNK_BYTES = 2 << 20


def _import_pledge_frames(session: Session, actor: Actor, path: Path, report: ImportReport,
                          max_errors: int, progress: Progress | None) -> None:
    """A CSV file in chunks: the rows `FrameValidator` proves valid are stored as frames, the
    others go through `RowValidator` and `PledgeLoad.add`, which give the messages."""
    table = open_frames(path, declared_columns(PLEDGES), [c.name for c in PLEDGES.columns])
    limit = ErrorLimit(max_errors)
    load = PledgeLoad(session, actor=actor, source=report.file, errors=limit,
                      present=table.present, audit_facts={"sha256": report.sha256},
                      expected_rows=estimate_rows(path, "csv"))
    lookups = load.lookups()
    validator = RowValidator(PLEDGES, lookups=lookups, max_errors=max_errors,
                             check_duplicate_keys=False)
    frames = FrameValidator(PLEDGES, lookups=lookups)
    names = [c.name for c in PLEDGES.columns if c.name in table.present]
    positions = tuple(names.index(c.name) if c.name in table.present else None
                      for c in PLEDGES.columns)
    fast = 0
    batches = table.batches(CHUNK_BYTES)
    try:
        for chunk in batches:
            clean, rest = frames.split(chunk)
            ready, routed = prepare(load, clean)
            if "external_id" in names and _repeats_a_key(chunk.get_column("external_id")):
                # The row path names the row each duplicate repeats, in file order.
                slow = chunk
                ready = ready.clear()
            else:
                slow = pl.concat([rest.select(ROW, *names),
                                  chunk.filter(pl.col(ROW).is_in(routed.implode()))
                                  .select(ROW, *names)]).sort(ROW)
            cells = zip(slow.get_column(ROW), slow.select(names).iter_rows(), strict=True)
            for number, row in validator.validate_cells(cells, positions):
                load.add(number, row)
                if limit.full:
                    break
            fast += ready.height
            load.add_frame(ready)
            if progress is not None:
                progress(chunk.height)
            if len(limit.errors) + len(validator.errors) >= max_errors:
                break
        result = load.finish()
    except BaseException:
        load.abort()
        raise
    finally:
        batches.close()
    report.rows_read = validator.rows_read + fast
    _finish(report, result, validator, limit, max_errors)


def _repeats_a_key(cells: pl.Series) -> bool:
    """Whether two cells hold the same key once stripped as Python strips them."""
    keys = cells.str.replace_all(_EDGE_BLANKS, "")
    return bool(keys.filter(keys != "").is_duplicated().any())


# What str.strip() removes (see `schemas_common.EDGE_BLANK`), as a pattern for all of it.
_EDGE_BLANKS = r"^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"


def _finish(report: ImportReport, result: PledgeLoadResult, validator: RowValidator[Any],
            limit: ErrorLimit, max_errors: int) -> None:
    errors = (validator.errors + limit.errors)[:max_errors]
    if errors:
        raise ImportFailed("pledges", report.file, errors, rows_read=report.rows_read,
                           stopped_early=validator.stopped_early or len(errors) >= max_errors)
    report.created, report.updated, report.unchanged = (result.created, result.updated,
                                                        result.unchanged)
    report.extra["statuses"] = dict(sorted(result.statuses.items()))


def _import_pledge_rows(session: Session, actor: Actor, path: Path, report: ImportReport,
                        format: str | None, max_errors: int, progress: Progress | None) -> None:
    limit = ErrorLimit(max_errors)
    with open_cells(path, declared_columns(PLEDGES), format=format) as table:
        load = PledgeLoad(session, actor=actor, source=report.file, errors=limit,
                          present=table.present, audit_facts={"sha256": report.sha256},
                          expected_rows=estimate_rows(path, format))
        validator = RowValidator(PLEDGES, lookups=load.lookups(), max_errors=max_errors,
                                 check_duplicate_keys=False)
        rows = validator.validate_cells(table.rows, table.positions[:len(PLEDGES.columns)],
                                        width=table.width)
        try:
            add = load.add
            pending = 0
            for number, row in rows:
                add(number, row)
                pending += 1
                if pending == _PROGRESS_EVERY:
                    if progress is not None:
                        progress(pending)
                    pending = 0
                    if len(limit.errors) + len(validator.errors) >= max_errors:
                        break
            if progress is not None and pending:
                progress(pending)
            result = load.finish()
        except BaseException:
            load.abort()
            raise
    report.rows_read = validator.rows_read
    _finish(report, result, validator, limit, max_errors)
