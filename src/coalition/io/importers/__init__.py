"""Imports of participants, catalog item types, requirements and pledges from CSV, XLSX or
JSON files: every row validated, nothing written unless all are valid, re-imports idempotent.

>>> with session_scope() as session:
...     report = import_file(session, actor=SYSTEM, resource="pledges", path="pledges.csv")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.io.importers._common import (
    ErrorLimit,
    ImportFailed,
    ImportReport,
    Progress,
    estimate_rows,
    file_digest,
)
from coalition.io.importers._records import RecordImport, declared_columns
from coalition.io.importers.pledges import PledgeLoad
from coalition.io.importers.records import CatalogHandler, ParticipantHandler, RequirementHandler
from coalition.io.rows import DEFAULT_MAX_ERRORS, RowValidator
from coalition.io.specs import CATALOG, PARTICIPANTS, PLEDGES, REQUIREMENTS, get_spec
from coalition.io.tabular import open_cells

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
    savepoint = session.begin_nested()
    try:
        if resource == "pledges":
            _import_pledges(session, actor, path, report, format, max_errors, progress)
        else:
            _record_import(session, actor, resource, max_errors, progress).run(
                path, report, format=format)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
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
    errors = (validator.errors + limit.errors)[:max_errors]
    if errors:
        raise ImportFailed("pledges", report.file, errors, rows_read=validator.rows_read,
                           stopped_early=validator.stopped_early or len(errors) >= max_errors)
    report.created, report.updated, report.unchanged = (result.created, result.updated,
                                                        result.unchanged)
    report.extra["statuses"] = dict(sorted(result.statuses.items()))
