"""Real reference data shipped in the package: states, memberships, GDP, UDCG participants."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("coalition.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class StateFacts:
    iso3: str
    name: str
    nato_since: int | None
    eu_since: int | None
    eu_until: int | None
    gdp_usd: int | None
    gdp_year: int | None


def states() -> dict[str, StateFacts]:
    """Every ISO 3166 state (plus Kosovo) with NATO/EU accession and latest World Bank GDP."""
    names = {r["iso3"]: r["name"] for r in _rows("reference/country_codes.csv") if r["iso3"]}
    names.setdefault("XKX", "Kosovo")
    nato = {r["iso3"]: int(r["accession_year"]) for r in _rows("reference/nato_members.csv")}
    eu: dict[str, tuple[int, int | None]] = {
        r["iso3"]: (int(r["accession_year"]), int(r["exit_year"]) if r["exit_year"] else None)
        for r in _rows("reference/eu_members.csv")
    }
    gdp: dict[str, tuple[int, int]] = {}
    for r in _rows("reference/gdp_worldbank_2021_2023.csv"):
        year = int(r["Year"])
        if r["Value"] and (r["Country Code"] not in gdp or year > gdp[r["Country Code"]][1]):
            gdp[r["Country Code"]] = (int(Decimal(r["Value"])), year)
    out = {}
    for iso3, name in names.items():
        eu_since, eu_until = eu.get(iso3, (None, None))
        value_year = gdp.get(iso3)
        out[iso3] = StateFacts(iso3, name, nato.get(iso3), eu_since, eu_until,
                               value_year[0] if value_year else None,
                               value_year[1] if value_year else None)
    return out


def udcg_participants() -> list[dict[str, Any]]:
    return [dict(r) for r in _rows("reference/udcg_participants.csv")]


def price_list() -> list[dict[str, str]]:
    return _rows("kiel/price_list_weapons_items.csv")
