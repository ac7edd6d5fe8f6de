"""Imports one record at a time through the domain services (participants, catalog,
requirements): small files, where every created or changed record gets its own audit entry.

A handler says how one validated row meets the database: create the record, update the
columns the file carries, or leave it alone. Any refusal (a service's domain error, a column
that may not change) becomes an error of that row; after the first one nothing more is
written, the rest of the file is only validated, and the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from sqlalchemy.orm import Session

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.errors import DomainError, Forbidden
from coalition.io.importers._common import (
    ErrorLimit,
    ImportFailed,
    ImportReport,
    Progress,
    row_errors_from,
)
from coalition.io.rows import Column, Lookup, ResourceSpec, RowError, RowValidator, Text
from coalition.io.specs import EXPORT_ONLY
from coalition.io.tabular import open_cells

R = TypeVar("R")
R_contra = TypeVar("R_contra", contravariant=True)
Outcome = Literal["created", "updated", "unchanged"]
_PROGRESS_EVERY = 1000


class Refused(Exception):
    """The row may not be applied; `errors` say why (raised by handlers)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class Handler(Protocol[R_contra]):
    permission: policy.Permission

    def lookups(self) -> Mapping[str, Lookup]: ...

    def apply(self, number: int, record: R_contra, present: frozenset[str], *,
              write: bool) -> Outcome:
        """Compare the row with the stored record and, with `write`, create or update it
        through the service; raise `Refused` for a row that may not be applied."""
        ...


def unchangeable(number: int, column: str, now: object, wanted: object,
                 what: str) -> RowError:
    return RowError(number, column, None if wanted is None else str(wanted),
                    f"cannot change the {column} of an existing {what} (it is {now})")


def declared_columns(spec: ResourceSpec[Any]) -> tuple[Column, ...]:
    """The spec's columns plus the read-only ones exports add, so an export re-imports."""
    extra = tuple(Column(name, Text(10_000)) for name in EXPORT_ONLY.get(spec.name, ()))
    return spec.columns + extra


class RecordImport(Generic[R]):
    """Validates every row and applies each through its handler, in one savepoint."""

    def __init__(self, session: Session, *, actor: Actor, spec: ResourceSpec[R],
                 handler: Handler[R], max_errors: int, progress: Progress | None) -> None:
        self.session = session
        self.actor = actor
        self.spec = spec
        self.handler = handler
        self.max_errors = max_errors
        self.progress = progress

    def run(self, path: Path, report: ImportReport, *, format: str | None) -> ImportReport:
        policy.ensure(self.actor, self.handler.permission)
        spec = self.spec
        limit = ErrorLimit(self.max_errors)
        validator = RowValidator(spec, lookups=self.handler.lookups(),
                                 max_errors=self.max_errors)
        columns = declared_columns(spec)
        pending = 0
        with open_cells(path, columns, format=format) as table:
            present = table.present
            rows = validator.validate_cells(table.rows, table.positions[:len(spec.columns)],
                                            width=table.width)
            for number, record in rows:
                pending += 1
                if pending >= _PROGRESS_EVERY and self.progress is not None:
                    self.progress(pending)
                    pending = 0
                # After the first refusal the rest is checked, not written.
                write = not (limit or validator.errors)
                try:
                    outcome = self.handler.apply(number, record, present, write=write)
                except Refused as refused:
                    limit.extend(refused.errors)
                except Forbidden:
                    raise
                except DomainError as exc:
                    limit.extend(row_errors_from(exc, number, (c.name for c in spec.columns),
                                                 spec.key or spec.columns[0].name))
                else:
                    if write:
                        report.created += outcome == "created"
                        report.updated += outcome == "updated"
                        report.unchanged += outcome == "unchanged"
                if len(limit.errors) + len(validator.errors) >= self.max_errors:
                    break
        if self.progress is not None and pending:
            self.progress(pending)
        report.rows_read = validator.rows_read
        errors = (validator.errors + limit.errors)[: self.max_errors]
        if errors:
            raise ImportFailed(spec.name, report.file, errors, rows_read=validator.rows_read,
                               stopped_early=validator.stopped_early or
                               len(errors) >= self.max_errors)
        return report
