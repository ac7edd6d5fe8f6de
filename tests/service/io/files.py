"""Writing small import files in each format, and reading what a table holds, for the io tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.models import AuditEntry
from coalition.pledges.models import Pledge, PledgeTransition

PLEDGE_HEADER = ["external_id", "donor", "item_type", "quantity", "amount", "currency",
                 "fx_rate_to_eur", "announced_on", "available_from", "status", "funding",
                 "parent_external_id", "releasability", "notes"]


def pledge_row(external_id: str, donor: str = "POL", item_type: str = "155-a",
               quantity: int | str = 10, amount: str = "30000.00", currency: str = "EUR",
               fx_rate_to_eur: str = "", announced_on: str = "2024-06-13",
               available_from: str = "2024-07-13", status: str = "",
               funding: str = "stock_donation", parent_external_id: str = "",
               releasability: str = "COALITION", notes: str = "") -> list[str]:
    return [external_id, donor, item_type, str(quantity), amount, currency, fx_rate_to_eur,
            announced_on, available_from, status, funding, parent_external_id, releasability,
            notes]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append([None if v == "" else v for v in row])
    workbook.save(path)
    return path


def write_json(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    items = [{k: v for k, v in zip(header, row, strict=True) if v != ""} for row in rows]
    path.write_text(json.dumps(items, indent=1), encoding="utf-8")
    return path


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}


def pledges_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    return write_csv(path, PLEDGE_HEADER, rows)


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> tuple[int, int, int]:
    """(pledges, history rows, audit entries): what an import may add."""
    return count(session, Pledge), count(session, PledgeTransition), count(session, AuditEntry)
