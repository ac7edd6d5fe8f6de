"""Where each canonical field sits in a release of the Kiel Ukraine Support Tracker workbook.

A release that moves, renames or adds columns gets a new `KielLayout`, not new code: the
reader finds every field by its header text (or, for a column without a header, by its
letter) and fails with a list of what it could not find.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from openpyxl.utils import column_index_from_string

from coalition.errors import FieldError
from coalition.io.tabular import HeaderError, normalise_header


class AidType(enum.StrEnum):
    MILITARY = "military"
    FINANCIAL = "financial"
    HUMANITARIAN = "humanitarian"


# Canonical fields; each is an attribute of `KielRecord` with the same name.
FIELDS = (
    "kiel_id",
    "donor",
    "announced_on",
    "aid_type",
    "aid_type_specific",
    "explanation",
    "original_currency",
    "original_amount",
    "item",
    "item_type",
    "item_subtype",
    "soviet_origin",
    "units_committed",
    "units_delivered",
    "units_allocated",
    "unit_price_usd",
    "value_committed_usd",
    "value_delivered_usd",
    "value_committed_eur",
    "value_delivered_eur",
    "value_allocated_eur",
    "sources",
)
# Fields gathered from every matching column rather than the first one.
MULTI_COLUMN_FIELDS = frozenset({"sources"})
# Without these a row cannot become a record, so every layout must locate them.
ESSENTIAL_FIELDS = frozenset({"kiel_id", "donor", "aid_type"})


def _frozen(mapping: Mapping[str, object]) -> MappingProxyType[str, object]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class KielLayout:
    """The shape of one release's main data sheet.

    `columns` maps a canonical field to header texts to look for (compared ignoring case
    and spacing; the first column whose header matches wins, so a later duplicate header is
    ignored). `fixed_columns` maps a field to a column letter for a column the workbook
    leaves without a header. Every field the layout names must be found; fields it does not
    name stay empty in the records.
    """

    release: str
    sheet: str
    columns: Mapping[str, Sequence[str]]
    fixed_columns: Mapping[str, str] = field(default_factory=dict)
    header_row: int = 1
    missing_marker: str = "."
    # Texts Kiel writes instead of a number when it has none; read as "no value".
    not_available: frozenset[str] = frozenset(
        {"not given", "no price", "undisclosed", "unspecified", "unknown", "n/a"}
    )
    # Dates typed as text ("until 7/27/2022") use this order.
    text_date_order: Literal["mdy", "dmy"] = "mdy"
    # Announcement dates outside this window are typing errors (2922-02-09) and are dropped.
    coverage: tuple[dt.date, dt.date] | None = None
    # Rows whose id or donor starts with one of these sum other rows; counting them would
    # count money twice.
    aggregate_prefixes: tuple[str, ...] = ("total", "grand total", "sum", "subtotal")
    # Donor names this release spells differently, on top of the built-in table.
    donor_codes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    aid_types: Mapping[str, AidType] = field(
        default_factory=lambda: {t.value: t for t in AidType}
    )

    def __post_init__(self) -> None:
        unknown = (set(self.columns) | set(self.fixed_columns)) - set(FIELDS)
        if unknown:
            raise ValueError(f"layout {self.release}: unknown fields {sorted(unknown)}")
        absent = ESSENTIAL_FIELDS - set(self.columns) - set(self.fixed_columns)
        if absent:
            raise ValueError(f"layout {self.release}: must map {sorted(absent)}")
        object.__setattr__(self, "columns", _frozen(self.columns))
        object.__setattr__(self, "fixed_columns", _frozen(self.fixed_columns))
        object.__setattr__(self, "donor_codes", _frozen(self.donor_codes))
        object.__setattr__(
            self, "aid_types", _frozen({k.casefold(): v for k, v in self.aid_types.items()})
        )

    def locate(self, path: Path, header: Sequence[object]) -> dict[str, tuple[int, ...]]:
        """Column positions (0-based) of every mapped field; raise listing what is missing."""
        positions: dict[str, list[int]] = {}
        for index, raw in enumerate(header):
            if not isinstance(raw, str) or not raw.strip():
                continue
            positions.setdefault(normalise_header(raw), []).append(index)
        found: dict[str, tuple[int, ...]] = {}
        errors: list[FieldError] = []
        for name, candidates in self.columns.items():
            matches = [positions.get(normalise_header(text), []) for text in candidates]
            if name in MULTI_COLUMN_FIELDS:
                indexes = tuple(sorted({i for group in matches for i in group}))
            else:
                indexes = next(((group[0],) for group in matches if group), ())
            if not indexes:
                tried = ", ".join(repr(t) for t in candidates)
                errors.append(FieldError(
                    name, f"no column found for release {self.release} (looked for {tried})",
                    row=self.header_row,
                ))
                continue
            found[name] = indexes
        for name, letter in self.fixed_columns.items():
            found[name] = (column_index_from_string(letter) - 1,)
        if errors:
            raise HeaderError(path, errors)
        return found


RELEASE_7 = KielLayout(
    release="7",
    sheet="Bilateral assistance, MAIN DATA",
    columns={
        "kiel_id": ("ID",),
        "donor": ("countries", "country", "donor"),
        "announced_on": ("Announcement Date",),
        "aid_type": ("Type of Aid General",),
        "aid_type_specific": ("Type of Aid Specific",),
        "explanation": ("Explanation",),
        "original_currency": ("Original Currency",),
        # "Total" is the amount in the original currency that "Converted Value in EUR"
        # converts; "Monetary Value as Given by Source" repeats on every row of a package.
        "original_amount": ("Total",),
        "item_type": ("Type of item",),
        # The sheet has "Sub-type of item" twice; the first (column K) is the data, the
        # second (AO) a working copy.
        "item_subtype": ("Sub-type of item",),
        "soviet_origin": ("Soviet origin (1)", "Soviet origin"),
        "units_committed": ("No. of Units",),
        "units_delivered": ("No. of Units delivered (in-kind military aid)",),
        "unit_price_usd": ("Unit Price in USD",),
        "value_committed_usd": ("Value committed (own estimate, in USD)",),
        "value_delivered_usd": ("Value delivered (own estimate, in USD)",),
        "value_committed_eur": ("Converted Value in EUR",),
        "value_delivered_eur": ("Total monetary value delivered in EUR",),
        "sources": (
            "Source of Aid 1", "Source of Aid 2", "Source of Aid 3", "Source of Aid 4",
            "Source for Delivery",
        ),
    },
    # The item name ("Bushmaster Protected Mobility Vehicles") sits in column I, which has
    # no header in this release.
    fixed_columns={"item": "I"},
    coverage=(dt.date(2022, 1, 24), dt.date(2022, 10, 3)),
)

# The releases a workbook can be read as, by `coalition import kiel --release`.
LAYOUTS: dict[str, KielLayout] = {RELEASE_7.release: RELEASE_7}
