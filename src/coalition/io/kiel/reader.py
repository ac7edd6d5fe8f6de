"""Reads a Kiel Support Tracker workbook into canonical records, skips and a reconciliation.

One workbook row becomes one `KielRecord`. Kiel groups rows into packages sharing an id
(AUM3 has five items); the package value sits on its first row only, so summing the EUR
columns over records counts every package once. `external_id` ("kiel:AUM3:2") numbers the
rows of a package in sheet order, so reading the same workbook twice gives the same ids.
"""

from __future__ import annotations

import datetime as dt
import enum
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from coalition.io.kiel._cells import Cells
from coalition.io.kiel.donors import DonorKind, resolve_donor
from coalition.io.kiel.layout import RELEASE_7, AidType, KielLayout
from coalition.io.tabular import FileFormatError

ZERO = Decimal(0)


class SkipReason(enum.StrEnum):
    AGGREGATE = "aggregate row"
    NO_ID = "no kiel id"
    NO_DONOR = "no donor"
    UNKNOWN_DONOR = "unknown donor"
    UNKNOWN_AID_TYPE = "unknown aid type"
    NO_VALUE = "no value and no units"


@dataclass(frozen=True, slots=True)
class KielRecord:
    row: int
    release: str
    kiel_id: str
    package_line: int
    donor_name: str
    donor_code: str
    donor_kind: DonorKind
    announced_on: dt.date | None
    # The cell's text when it held words rather than a date ("until 7/27/2022").
    announced_text: str | None
    aid_type: AidType
    aid_type_specific: str | None
    item: str | None
    item_type: str | None
    item_subtype: str | None
    soviet_origin: bool | None
    explanation: str | None
    # Units can be fractional: Kiel counts humanitarian goods in tons (7.725).
    units_committed: Decimal | None
    units_delivered: Decimal | None
    units_allocated: Decimal | None
    unit_price_usd: Decimal | None
    value_committed_usd: Decimal | None
    value_delivered_usd: Decimal | None
    value_committed_eur: Decimal | None
    value_delivered_eur: Decimal | None
    value_allocated_eur: Decimal | None
    original_currency: str | None
    original_amount: Decimal | None
    sources: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def external_id(self) -> str:
        return f"kiel:{self.kiel_id}:{self.package_line}"


@dataclass(frozen=True, slots=True)
class KielSkip:
    row: int
    kiel_id: str | None
    donor_name: str | None
    reason: SkipReason
    detail: str
    # Money the skipped row carried, so the reconciliation can show nothing vanished.
    value_committed_eur: Decimal | None


@dataclass
class Amounts:
    rows: int = 0
    committed_eur: Decimal = ZERO
    delivered_eur: Decimal = ZERO
    allocated_eur: Decimal = ZERO

    def add(self, record: KielRecord) -> None:
        self.rows += 1
        self.committed_eur += record.value_committed_eur or ZERO
        self.delivered_eur += record.value_delivered_eur or ZERO
        self.allocated_eur += record.value_allocated_eur or ZERO

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "committed_eur": str(self.committed_eur),
            "delivered_eur": str(self.delivered_eur),
            "allocated_eur": str(self.allocated_eur),
        }


@dataclass
class Reconciliation:
    """What a read found: rows read = mapped + skipped; EUR totals of mapped rows."""

    release: str
    rows_read: int = 0
    rows_mapped: int = 0
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    skipped_committed_eur: Decimal = ZERO
    # Mapped rows with an amount in the original currency but no EUR value in the workbook.
    mapped_without_eur: int = 0
    total: Amounts = field(default_factory=Amounts)
    by_donor: dict[str, Amounts] = field(default_factory=dict)
    by_aid_type: dict[AidType, Amounts] = field(default_factory=dict)
    donor_names: dict[str, str] = field(default_factory=dict)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def add(self, item: KielRecord | KielSkip) -> None:
        self.rows_read += 1
        if isinstance(item, KielSkip):
            self.skipped[item.reason] += 1
            self.skipped_committed_eur += item.value_committed_eur or ZERO
            return
        self.rows_mapped += 1
        if item.value_committed_eur is None and item.original_amount is not None:
            self.mapped_without_eur += 1
        self.total.add(item)
        self.by_donor.setdefault(item.donor_code, Amounts()).add(item)
        self.by_aid_type.setdefault(item.aid_type, Amounts()).add(item)
        self.donor_names.setdefault(item.donor_code, item.donor_name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, donors sorted by committed value (largest first)."""
        donors = sorted(self.by_donor.items(), key=lambda kv: (-kv[1].committed_eur, kv[0]))
        return {
            "release": self.release,
            "rows_read": self.rows_read,
            "rows_mapped": self.rows_mapped,
            "rows_skipped": self.rows_skipped,
            "skipped": {reason.value: n for reason, n in sorted(self.skipped.items())},
            "skipped_committed_eur": str(self.skipped_committed_eur),
            "mapped_without_eur": self.mapped_without_eur,
            "total": self.total.to_dict(),
            "by_donor": {
                code: {"name": self.donor_names[code], **amounts.to_dict()}
                for code, amounts in donors
            },
            "by_aid_type": {
                aid.value: amounts.to_dict() for aid, amounts in sorted(self.by_aid_type.items())
            },
        }


class KielReader:
    """Iterate to get records and skips in sheet order; `reconciliation` sums them up.

    >>> reader = KielReader(path)
    >>> records = [r for r in reader if isinstance(r, KielRecord)]
    >>> reader.reconciliation.rows_read
    """

    def __init__(self, path: Path | str, layout: KielLayout = RELEASE_7) -> None:
        self.path = Path(path)
        self.layout = layout
        self.reconciliation = Reconciliation(layout.release)

    def __iter__(self) -> Iterator[KielRecord | KielSkip]:
        self.reconciliation = Reconciliation(self.layout.release)
        for item in self._rows():
            self.reconciliation.add(item)
            yield item

    def _rows(self) -> Iterator[KielRecord | KielSkip]:
        layout = self.layout
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
            raise FileFormatError(self.path, f"not a readable XLSX workbook: {exc}") from exc
        try:
            if layout.sheet not in workbook.sheetnames:
                raise FileFormatError(
                    self.path,
                    f"no sheet {layout.sheet!r} (release {layout.release} layout); sheets: "
                    f"{', '.join(workbook.sheetnames)}",
                )
            rows = workbook[layout.sheet].iter_rows(min_row=layout.header_row, values_only=True)
            try:
                yield from self._sheet_rows(rows)
            finally:
                # openpyxl closes the sheet's stream only at its end; free it now.
                rows.close()
        finally:
            workbook.close()

    def _sheet_rows(
        self, rows: Iterator[tuple[object, ...]]
    ) -> Iterator[KielRecord | KielSkip]:
        layout = self.layout
        header = next(rows, None)
        if header is None:
            raise FileFormatError(self.path, f"sheet {layout.sheet!r} is empty")
        columns = layout.locate(self.path, header)
        lines: Counter[str] = Counter()
        for number, values in enumerate(rows, start=layout.header_row + 1):
            raw: dict[str, list[object]] = {
                name: [values[i] if i < len(values) else None for i in indexes]
                for name, indexes in columns.items()
            }
            if all(v is None or (isinstance(v, str) and not v.strip())
                   for group in raw.values() for v in group):
                # Trailing formatted-but-empty rows are not data.
                continue
            yield self._convert(number, raw, lines)

    def _convert(
        self, number: int, raw: dict[str, list[object]], lines: Counter[str]
    ) -> KielRecord | KielSkip:
        layout = self.layout
        cells = Cells(layout)

        def one(name: str) -> object:
            group = raw.get(name)
            return group[0] if group else None

        kiel_id = cells.text("id", one("kiel_id"))
        donor_name = cells.text("donor", one("donor"))
        value_committed_eur = cells.money("value committed EUR", one("value_committed_eur"))

        def skip(reason: SkipReason, detail: str = "") -> KielSkip:
            return KielSkip(number, kiel_id, donor_name, reason, detail, value_committed_eur)

        if kiel_id is not None:
            lines[kiel_id] += 1
        for text in (kiel_id, donor_name):
            if text is not None and _is_aggregate(text, layout.aggregate_prefixes):
                return skip(SkipReason.AGGREGATE, text)
        if kiel_id is None:
            return skip(SkipReason.NO_ID)
        if donor_name is None:
            return skip(SkipReason.NO_DONOR)
        donor = resolve_donor(donor_name, layout.donor_codes)
        if donor is None:
            return skip(SkipReason.UNKNOWN_DONOR, donor_name)
        aid_text = cells.text("aid type", one("aid_type"))
        aid_type = layout.aid_types.get(aid_text.casefold()) if aid_text else None
        if aid_type is None:
            return skip(SkipReason.UNKNOWN_AID_TYPE, aid_text or "")

        units_committed = cells.number("units committed", one("units_committed"))
        units_delivered = cells.number("units delivered", one("units_delivered"))
        units_allocated = cells.number("units allocated", one("units_allocated"))
        value_delivered_eur = cells.money("value delivered EUR", one("value_delivered_eur"))
        value_allocated_eur = cells.money("value allocated EUR", one("value_allocated_eur"))
        original_amount = cells.money("original amount", one("original_amount"))
        measurable = (
            value_committed_eur, value_delivered_eur, value_allocated_eur, original_amount,
            units_committed, units_delivered, units_allocated,
        )
        if all(v is None for v in measurable):
            return skip(SkipReason.NO_VALUE)

        announced_on, announced_text = cells.date(one("announced_on"))
        sources = tuple(dict.fromkeys(
            _source(text) for value in raw.get("sources", [])
            if (text := cells.text("source", value)) is not None
        ))
        return KielRecord(
            row=number,
            release=layout.release,
            kiel_id=kiel_id,
            package_line=lines[kiel_id],
            donor_name=donor_name,
            donor_code=donor[0],
            donor_kind=donor[1],
            announced_on=announced_on,
            announced_text=announced_text,
            aid_type=aid_type,
            aid_type_specific=cells.text("aid type specific", one("aid_type_specific")),
            item=cells.text("item", one("item")),
            item_type=cells.text("item type", one("item_type")),
            item_subtype=cells.text("item sub-type", one("item_subtype")),
            soviet_origin=cells.flag("soviet origin", one("soviet_origin")),
            explanation=cells.text("explanation", one("explanation")),
            units_committed=units_committed,
            units_delivered=units_delivered,
            units_allocated=units_allocated,
            unit_price_usd=cells.number("unit price USD", one("unit_price_usd")),
            value_committed_usd=cells.money("value committed USD", one("value_committed_usd")),
            value_delivered_usd=cells.money("value delivered USD", one("value_delivered_usd")),
            value_committed_eur=value_committed_eur,
            value_delivered_eur=value_delivered_eur,
            value_allocated_eur=value_allocated_eur,
            original_currency=cells.text("original currency", one("original_currency")),
            original_amount=original_amount,
            sources=sources,
            notes=tuple(cells.notes),
        )


def _is_aggregate(text: str, prefixes: tuple[str, ...]) -> bool:
    # Whole words only: "Total Europe" sums rows, "Totalis" would be a name.
    folded = text.casefold()
    return any(
        folded == p or (folded.startswith(p) and not folded[len(p)].isalnum()) for p in prefixes
    )


def _source(text: str) -> str:
    # One release 7 cell reads ".https://..." - the missing-value dot typed before a URL.
    return text[1:] if text.startswith(".http") else text


def read_kiel(path: Path | str, layout: KielLayout = RELEASE_7) -> KielReader:
    """A reader over the workbook's main data sheet; nothing is read until you iterate."""
    return KielReader(path, layout)


def reconcile_kiel(path: Path | str, layout: KielLayout = RELEASE_7) -> Reconciliation:
    """Read the whole workbook and return only the reconciliation."""
    reader = KielReader(path, layout)
    for _ in reader:
        pass
    return reader.reconciliation
