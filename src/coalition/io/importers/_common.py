"""What every importer shares: the report, the failure carrying row errors, file facts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from coalition.errors import DomainError, FieldError, ValidationFailed
from coalition.io.rows import RowError
from coalition.io.tabular import Format, detect_format


@contextmanager
def all_or_nothing(session: Session, *, dry_run: bool) -> Iterator[None]:
    """The import's writes in one savepoint: kept when the block ends, undone if it raises,
    and undone anyway on a dry run (which still reports what it would have done)."""
    savepoint = session.begin_nested()
    try:
        yield
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()


# Called with the number of rows handled since the last call (a progress bar's `advance`).
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would have done)."""

    resource: str
    file: str
    sha256: str
    dry_run: bool
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Records created around the rows: participants and item types the Kiel import adds.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "file": self.file,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            **self.extra,
        }


class ImportFailed(ValidationFailed):
    """Some rows are invalid: nothing was written. `row_errors` lists them in file order."""

    def __init__(self, resource: str, file: str, row_errors: list[RowError], *,
                 rows_read: int, stopped_early: bool) -> None:
        ordered = sorted(row_errors, key=lambda e: e.row)
        more = " (stopped at the error limit: there may be more)" if stopped_early else ""
        detail = (f"{file}: {len(ordered)} error(s) in {resource} after {rows_read} row(s)"
                  f"{more}; nothing was imported; first: {ordered[0]}")
        super().__init__([e.to_field_error() for e in ordered], detail)
        self.row_errors = ordered
        self.rows_read = rows_read
        self.stopped_early = stopped_early


class ErrorLimit:
    """Row errors up to a limit; an importer stops reading once it is reached."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.errors: list[RowError] = []

    def add(self, error: RowError) -> None:
        if len(self.errors) < self.limit:
            self.errors.append(error)

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    @property
    def full(self) -> bool:
        return len(self.errors) >= self.limit

    def __bool__(self) -> bool:
        return bool(self.errors)


def row_errors_from(exc: DomainError, row: int, columns: Iterable[str],
                    default_column: str) -> list[RowError]:
    """A service's refusal of one record, as errors of that row.

    Services name the field either in a `FieldError` or as "field: message" at the start of
    the detail; anything else is pinned on `default_column`.
    """
    known = set(columns)
    if isinstance(exc, ValidationFailed) and exc.errors:
        return [RowError(row, e.field if e.field in known else default_column, e.value,
                         e.message) for e in exc.errors]
    head, sep, tail = exc.detail.partition(": ")
    if sep and head in known:
        return [RowError(row, head, None, tail)]
    return [RowError(row, default_column, None, exc.detail)]


def file_digest(path: Path) -> str:
    """SHA-256 of the file, read in chunks (the audit entry of an import names it)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def estimate_rows(path: Path, format: str | None = None) -> int | None:
    """Rows the file holds, for a progress bar: lines of a CSV or JSON-lines file (a quoted
    cell spanning lines counts once per line), the sheet's dimension of a workbook."""
    try:
        kind: Format = detect_format(path, format)
        if kind == "xlsx":
            workbook = load_workbook(path, read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
            return max((rows or 1) - 1, 0)
        lines = 0
        with path.open("rb") as handle:
            first = handle.read(1)
            if kind == "json" and first.lstrip() == b"[":
                return None
            handle.seek(0)
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(lines - (1 if kind == "csv" else 0), 0)
    except (OSError, ValueError, KeyError, ValidationFailed):
        return None


def field_error_rows(errors: list[FieldError]) -> list[RowError]:
    return [RowError(e.row or 0, e.field, e.value, e.message) for e in errors]
