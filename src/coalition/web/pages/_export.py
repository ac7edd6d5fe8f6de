"""Downloads of the current view: the same filtered service query the page lists, all rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response
from sqlalchemy import Select
from sqlalchemy.orm import Session

from coalition.errors import ValidationFailed
from coalition.money import from_cents
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge

PLEDGE_COLUMNS = ("id", "external_id", "donor", "donor_name", "item_type", "item_name",
                  "quantity", "amount", "currency", "fx_rate_to_eur", "value_eur", "funding",
                  "announced_on", "available_from", "status", "quantity_allocated",
                  "quantity_shipped", "quantity_delivered", "releasability")
FORMATS = ("csv",)


def _pledge_row(p: Pledge) -> tuple[Any, ...]:
    return (p.id, p.external_id or "", p.donor.code, p.donor.name, p.item_type.code,
            p.item_type.name, p.quantity, p.amount, p.currency, p.fx_rate_to_eur,
            from_cents(p.value_eur_cents), p.funding.value, p.announced_on, p.available_from,
            p.status.value, p.quantity_allocated, p.quantity_shipped, p.quantity_delivered,
            p.releasability.value)


def _ordered(stmt: Select[Any], sort: str) -> Select[Any]:
    key = sort.lstrip("-")
    column = pledge_service.SORTS.get(key)
    if column is None:
        raise ValidationFailed.single("sort", "not a column the list can be sorted by", sort)
    if sort.startswith("-"):
        return stmt.order_by(column.desc(), Pledge.id.desc())
    return stmt.order_by(column.asc(), Pledge.id.asc())


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM so spreadsheet programs read the UTF-8 names (e.g. Türkiye) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def pledges(session: Session, stmt: Select[Any], *, sort: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise ValidationFailed.single("format", f"must be one of {', '.join(FORMATS)}", fmt)
    rows = (_pledge_row(p) for p in session.scalars(_ordered(stmt, sort)).unique())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(csv_bytes(PLEDGE_COLUMNS, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="pledges-{stamp}.csv"'})
