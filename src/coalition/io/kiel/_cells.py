"""Reading Kiel cells as typed values; anything odd is kept as a note on the record."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from coalition.io.kiel.layout import KielLayout

CENT = Decimal("0.01")
_FULL_DATE = re.compile(r"(?<![\d.])(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d.])")
_MONTH = re.compile(r"(?<![\d/])(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
# "15.000.00": thousands grouped with points and two zero decimals, as typed in a few rows.
_DOTTED_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+\.00")


class Cells:
    """Converts the raw values of one row, collecting notes about what had to be dropped."""

    def __init__(self, layout: KielLayout) -> None:
        self.layout = layout
        self.notes: list[str] = []

    def is_missing(self, value: object) -> bool:
        if value is None:
            return True
        if isinstance(value, str):
            text = value.strip()
            return text in ("", self.layout.missing_marker) or (
                text.casefold() in self.layout.not_available
            )
        return False

    def text(self, label: str, value: object) -> str | None:
        if self.is_missing(value):
            return None
        if isinstance(value, str):
            return value.strip()
        self.notes.append(f"{label}: ignored non-text value {value!r}")
        return None

    def number(self, label: str, value: object) -> Decimal | None:
        """An exact decimal from a numeric cell or a numeric text; None when there is none."""
        if self.is_missing(value):
            return None
        if isinstance(value, bool):
            self.notes.append(f"{label}: ignored {value!r}")
            return None
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            # repr() is the shortest text that reads back as the same float: no binary noise.
            return Decimal(repr(value))
        if isinstance(value, str):
            text = value.strip()
            if _DOTTED_THOUSANDS.fullmatch(text):
                number = Decimal(text[:-3].replace(".", ""))
                self.notes.append(f"{label}: read {text!r} as {number}")
                return number
            try:
                parsed = Decimal(text)
            except InvalidOperation:
                parsed = None
            if parsed is not None and parsed.is_finite():
                return parsed
        self.notes.append(f"{label}: {value!r} is not a number")
        return None

    def money(self, label: str, value: object) -> Decimal | None:
        number = self.number(label, value)
        return None if number is None else number.quantize(CENT, rounding=ROUND_HALF_UP)

    def flag(self, label: str, value: object) -> bool | None:
        number = self.number(label, value)
        if number is None:
            return None
        if number in (0, 1):
            return number == 1
        self.notes.append(f"{label}: {number} is not 0 or 1")
        return None

    def date(self, value: object) -> tuple[dt.date | None, str | None]:
        """(announcement date, the text it came from when the cell was not a date)."""
        if self.is_missing(value):
            text = value.strip() if isinstance(value, str) else None
            return None, text or None
        if isinstance(value, dt.datetime):
            return self._within_coverage(value.date()), None
        if isinstance(value, dt.date):
            return self._within_coverage(value), None
        if not isinstance(value, str):
            self.notes.append(f"announcement date: ignored {value!r}")
            return None, None
        text = " ".join(value.split())
        # "until 7/27/2022", "between 3/4/22 & 3/11/22": the last date given is the latest
        # the announcement can have been made.
        full = _FULL_DATE.findall(text)
        if full:
            first, _, second, year = full[-1]
            return self._within_coverage(self._ymd(first, second, year, text=text)), text
        # "not specified, 03/22": only the month is known; use its first day.
        month = _MONTH.findall(text)
        if month:
            number, year = month[-1]
            day = self._ymd(number, "1", year, text=text, month_only=True)
            return self._within_coverage(day), text
        self.notes.append(f"announcement date: no date in {text!r}")
        return None, text

    def _ymd(
        self, first: str, second: str, year: str, *, text: str, month_only: bool = False
    ) -> dt.date | None:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        month, day = (int(first), int(second))
        if not month_only and self.layout.text_date_order == "dmy":
            month, day = day, month
        try:
            return dt.date(full_year, month, day)
        except ValueError:
            self.notes.append(f"announcement date: {text!r} is not a valid date")
            return None

    def _within_coverage(self, day: dt.date | None) -> dt.date | None:
        coverage = self.layout.coverage
        if day is None or coverage is None or coverage[0] <= day <= coverage[1]:
            return day
        self.notes.append(
            f"announcement date {day.isoformat()} is outside release {self.layout.release}'s "
            f"coverage ({coverage[0].isoformat()} to {coverage[1].isoformat()}); dropped"
        )
        return None
