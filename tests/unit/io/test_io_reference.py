"""The packaged ISO country table."""

from __future__ import annotations

import pytest

from coalition.io import reference


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("Denmark", "DNK"),
        ("  denmark ", "DNK"),
        ("Czechia", "CZE"),
        ("Türkiye", "TUR"),
        ("Turkiye", "TUR"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
        ("Kosovo", "XKX"),
        ("Atlantis", None),
    ],
)
def test_iso3_for_name(name: str, iso3: str | None) -> None:
    assert reference.iso3_for_name(name) == iso3


def test_table_holds_every_country_once() -> None:
    table = reference.countries()
    assert len(table) == 250  # 249 ISO entries and Kosovo's user-assigned XKX
    assert table["UKR"].name == "Ukraine"
    assert reference.is_iso3("UKR")
    assert not reference.is_iso3("ukr")
