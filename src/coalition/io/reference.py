"""ISO 3166 country codes and names shipped with the package (data/reference/country_codes.csv)."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Codes in use that ISO 3166 does not assign: the World Bank and NATO documents use XKX.
_USER_ASSIGNED = {"XKX": ("XK", "Kosovo")}


@dataclass(frozen=True, slots=True)
class Country:
    iso2: str
    iso3: str
    name: str
    official_name: str


@cache
def countries() -> dict[str, Country]:
    """Every country of the reference table, keyed by ISO alpha-3 code."""
    text = (
        resources.files("coalition")
        .joinpath("data", "reference", "country_codes.csv")
        .read_text(encoding="utf-8")
    )
    table = {
        row["iso3"]: Country(row["iso2"], row["iso3"], row["name"], row["official_name_en"])
        for row in csv.DictReader(io.StringIO(text))
        if row["iso3"]
    }
    for iso3, (iso2, name) in _USER_ASSIGNED.items():
        table.setdefault(iso3, Country(iso2, iso3, name, name))
    return table


def is_iso3(code: str) -> bool:
    return code in countries()


def name_key(name: str) -> str:
    """Compare names ignoring case, accents and spacing: 'Türkiye' == 'turkiye '."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def _by_name() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in countries().values():
        index.setdefault(name_key(country.official_name), country.iso3)
        # The short name wins over an official name that happens to collide with it.
        index[name_key(country.name)] = country.iso3
    return index


def iso3_for_name(name: str) -> str | None:
    """ISO alpha-3 code for a country's short or official English name, or None."""
    return _by_name().get(name_key(name))
