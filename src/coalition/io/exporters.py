"""Exports of every list as CSV, XLSX or JSON: the list's filters, the caller's view.

Rows come from the same queries as the lists (`filtered_query` of pledges and requirements,
the paged list services of the others), so an export never shows a record the caller could
not open. Importable resources export their import columns first, in template order, then
read-only facts (`specs.EXPORT_ONLY`): an exported file imports as it is.

>>> with open("pledges.xlsx", "wb") as out:
...     export(session, actor=actor, resource="pledges", format="xlsx", out=out,
...            filters=PledgeFilter(donor="DEU"))
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import BaseModel
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from coalition.access.actor import Actor
from coalition.access.visibility import visibility_clause
from coalition.catalog import service as catalog_service
from coalition.db import utcnow
from coalition.errors import ValidationFailed
from coalition.io.schemas import ExportFormat, ItemTypeFilter, MeetingFilter, ParticipantFilter
from coalition.io.specs import EXPORT_ONLY, SPECS
from coalition.io.tabular import detect_format
from coalition.meetings import service as meeting_service
from coalition.money import from_cents
from coalition.paging import MAX_LIMIT, Page
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge
from coalition.pledges.schemas import PledgeFilter
from coalition.registry import service as registry_service
from coalition.registry.models import Format
from coalition.requirements import service as requirement_service
from coalition.requirements.schemas import RequirementFilter

EXPORTABLE = ("pledges", "requirements", "participants", "catalog", "meetings")
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "json")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
MEETING_COLUMNS = ("id", "format", "title", "held_on", "place", "is_virtual", "chair",
                   "releasability", "attendees", "announced_pledges", "agenda")
_STREAM_ROWS = 2000
# Excel keeps 15 significant digits; a longer number is written as text to stay exact.
_EXCEL_DIGITS = 15

Filters = PledgeFilter | RequirementFilter | ParticipantFilter | ItemTypeFilter | MeetingFilter
Rows = Iterator[list[Any]]


def export_format(path: Path, format: str | None) -> ExportFormat:
    """The explicit format, else the file name's extension (csv, xlsx, json)."""
    kind = detect_format(path, format)
    if kind not in FORMATS:
        raise ValidationFailed.single("format", "must be one of csv, xlsx, json", kind)
    return kind


def columns(resource: str) -> tuple[str, ...]:
    if resource == "meetings":
        return MEETING_COLUMNS
    return tuple(c.name for c in SPECS[resource].columns) + EXPORT_ONLY[resource]


def export(session: Session, *, actor: Actor, resource: str, format: str, out: BinaryIO,
           filters: BaseModel | None = None) -> int:
    """Write what `actor` may see of `resource`, filtered, to `out`; return the row count."""
    if resource not in EXPORTABLE:
        raise ValidationFailed.single("resource", f"must be one of {', '.join(EXPORTABLE)}",
                                      resource)
    if format not in FORMATS:
        raise ValidationFailed.single("format", "must be one of csv, xlsx, json", format)
    rows = _ROWS[resource](session, actor, filters)
    header = columns(resource)
    about = {"resource": resource, "exported_at": utcnow().isoformat(timespec="seconds"),
             "exported_by": actor.label,
             "filters": (filters.model_dump(mode="json", exclude_none=True)
                         if filters is not None else {})}
    return _WRITERS[format](out, header, rows, about)


# --- rows ---------------------------------------------------------------------------------


def _formats(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Format.id, Format.code)).all())


def _pledges(session: Session, actor: Actor, filters: BaseModel | None) -> Rows:
    assert filters is None or isinstance(filters, PledgeFilter)
    formats = _formats(session)
    parent = aliased(Pledge)
    # A parent the caller may not see is left blank: its external id would reveal it.
    stmt = (pledge_service.filtered_query(session, actor=actor, filters=filters)
            .outerjoin(parent, and_(parent.id == Pledge.parent_pledge_id,
                                    visibility_clause(actor, parent)))
            .add_columns(parent.external_id).order_by(Pledge.id))
    for pledge, parent_external_id in _stream(session, stmt):
        yield [pledge.external_id, pledge.donor.code, pledge.item_type.code, pledge.quantity,
               pledge.amount, pledge.currency, pledge.fx_rate_to_eur, pledge.fx_date,
               pledge.funding, pledge.available_from, pledge.releasability, pledge.status,
               pledge.announced_on, formats.get(pledge.format_id or 0), parent_external_id,
               pledge.notes, pledge.id, from_cents(pledge.value_eur_cents),
               pledge.quantity_allocated, pledge.quantity_shipped, pledge.quantity_delivered]


def _requirements(session: Session, actor: Actor, filters: BaseModel | None) -> Rows:
    assert filters is None or isinstance(filters, RequirementFilter)
    formats = _formats(session)
    stmt = requirement_service.filtered_query(session, actor=actor, filters=filters)
    for (requirement,) in _stream(session, stmt.order_by(requirement_service.SORTS["id"])):
        yield [requirement.reference, requirement.recipient.code, requirement.item_type.code,
               requirement.quantity, requirement.priority, requirement.needed_by,
               requirement.capability_area, formats.get(requirement.format_id or 0),
               requirement.releasability, requirement.notes, requirement.id,
               requirement.status, requirement.quantity_committed,
               requirement.quantity_in_transit, requirement.quantity_delivered]


def _participants(session: Session, actor: Actor, filters: BaseModel | None) -> Rows:
    f = filters if isinstance(filters, ParticipantFilter) else ParticipantFilter()
    for p in _pages(lambda cursor: registry_service.list_participants(
            session, kind=f.kind, donor=f.donor, nato=f.nato, search=f.search, sort="code",
            limit=MAX_LIMIT, cursor=cursor)):
        yield [p.code, p.kind, p.name, p.nato_member_since, p.eu_member_since,
               p.eu_member_until, p.gdp_usd, p.gdp_year, p.is_donor, p.is_recipient, p.id]


def _catalog(session: Session, actor: Actor, filters: BaseModel | None) -> Rows:
    f = filters if isinstance(filters, ItemTypeFilter) else ItemTypeFilter()
    for item in _pages(lambda cursor: catalog_service.list_item_types(
            session, category=f.category, capability_area=f.capability_area,
            compatibility_group=f.compatibility_group, search=f.search, sort="code",
            limit=MAX_LIMIT, cursor=cursor)):
        value = None if item.unit_value_eur_cents is None else from_cents(
            item.unit_value_eur_cents)
        yield [item.code, item.name, item.category.code, item.capability_area, item.unit,
               value, item.compatibility_group, item.soviet_origin, item.description, item.id]


def _meetings(session: Session, actor: Actor, filters: BaseModel | None) -> Rows:
    f = filters if isinstance(filters, MeetingFilter) else MeetingFilter()
    formats = _formats(session)
    for m in _pages(lambda cursor: meeting_service.list_meetings(
            session, actor=actor, format_code=f.format, sort="held_on", limit=MAX_LIMIT,
            cursor=cursor, with_attendees=True)):
        announced = meeting_service.announced_pledge_ids(session, actor=actor, meeting_id=m.id)
        yield [m.id, formats.get(m.format_id), m.title, m.held_on, m.place, m.is_virtual,
               m.chair.code if m.chair else None, m.releasability,
               " ".join(sorted(a.participant.code for a in m.attendees)), len(announced),
               m.agenda]


def _stream(session: Session, stmt: Any) -> Iterator[Any]:
    """Rows in chunks: a large export holds a few thousand objects at a time."""
    for chunk in session.execute(stmt.execution_options(yield_per=_STREAM_ROWS)).partitions():
        yield from chunk
        session.expunge_all()


def _pages(fetch: Callable[[str | None], Page[Any]]) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


_ROWS: dict[str, Callable[[Session, Actor, BaseModel | None], Rows]] = {
    "pledges": _pledges, "requirements": _requirements, "participants": _participants,
    "catalog": _catalog, "meetings": _meetings,
}


# --- writers ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    # Decimals as text: a JSON number would come back as a float in most readers.
    return _text(value)


def _write_csv(out: BinaryIO, header: Sequence[str], rows: Rows, about: dict[str, Any]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_text(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _write_json(out: BinaryIO, header: Sequence[str], rows: Rows, about: dict[str, Any]) -> int:
    out.write(b"[")
    count = 0
    for row in rows:
        item = {name: _json(value) for name, value in zip(header, row, strict=True)}
        out.write((",\n" if count else "\n").encode())
        out.write(json.dumps(item, ensure_ascii=False).encode("utf-8"))
        count += 1
    out.write(b"\n]\n")
    return count


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        if digits > _EXCEL_DIGITS:
            return str(value)
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        # A real date cell (sortable, filterable), shown without a time.
        cell = WriteOnlyCell(sheet, value=dt.datetime.combine(value, dt.time()))
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def _write_xlsx(out: BinaryIO, header: Sequence[str], rows: Rows, about: dict[str, Any]) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(about["resource"]))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
        count += 1
    # A second sheet says what this is; an import reads only the first.
    info = workbook.create_sheet("about")
    for key, value in {**about, "rows": count}.items():
        info.append([key, json.dumps(value) if isinstance(value, dict) else value])
    workbook.save(out)
    return count


_WRITERS: dict[str, Callable[[BinaryIO, Sequence[str], Rows, dict[str, Any]], int]] = {
    "csv": _write_csv, "xlsx": _write_xlsx, "json": _write_json,
}
