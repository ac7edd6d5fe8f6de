"""Keyset pagination (limit + opaque cursor) and whitelisted sorting for every list."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from coalition.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None
    total: int


def _encode(value: Any, row_id: int) -> str:
    if isinstance(value, dt.date | dt.datetime | Decimal):
        value = str(value)
    elif hasattr(value, "value"):
        value = value.value
    raw = json.dumps([value, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, column: Any) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        python_type = column.type.python_type
        if python_type is dt.date:
            value = dt.date.fromisoformat(value)
        elif python_type is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif python_type is Decimal:
            value = Decimal(value)
        return value, int(row_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed.single("cursor", "not a cursor this list handed out") from exc


def paginate(
    session: Session,
    stmt: Select[T],
    *,
    id_column: InstrumentedAttribute[int],
    sortable: Mapping[str, InstrumentedAttribute[Any]],
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """`sort` is a field name, `-name` for descending; ties break on id so pages never overlap."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in sortable:
        raise ValidationFailed.single(
            "sort", f"must be one of {', '.join(sorted(sortable))} (prefix - to reverse)", sort
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"must be between 1 and {MAX_LIMIT}", limit)
    column = sortable[key]
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if cursor:
        value, row_id = _decode(cursor, column)
        pair: ColumnElement[Any] = tuple_(column, id_column)
        stmt = stmt.where(pair < tuple_(value, row_id) if descending
                          else pair > tuple_(value, row_id))
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode(getattr(last, column.key), getattr(last, id_column.key))
    return Page(items=rows, next_cursor=next_cursor, total=total)
