"""Pure arithmetic of the reports: HHI, shares, concentration bands, GDP conversion."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.analytics.queries import median_of_counts
from coalition.analytics.reports import (
    concentration_level,
    gdp_eur_cents,
    hhi,
    share_pct,
)
from coalition.analytics.schemas import ConcentrationLevel


@pytest.mark.parametrize(("values", "expected"), [
    ([100], "10000.00"),                      # one donor: a monopoly
    ([50, 50], "5000.00"),
    ([1, 1, 1], "3333.33"),                   # 10,000 / 3
    ([2, 1], "5555.56"),                      # (66.67² + 33.33²), 5555.555... rounds up
    ([25, 25, 25, 25], "2500.00"),
    ([1] * 100, "100.00"),
    ([700, 300, 125], "4706.17"),             # the ledger's artillery
    ([60, 20, 10, 10], "4200.00"),            # 3600 + 400 + 100 + 100
    ([10**15, 10**15], "5000.00"),            # no overflow or float error at large cents
    ([], "0"),
    ([0, 0], "0"),
    ([5, 0], "10000.00"),                     # zero suppliers do not count
])
def test_hhi(values: list[int], expected: str) -> None:
    assert hhi(values) == Decimal(expected)


@given(st.lists(st.integers(min_value=1, max_value=10**13), min_size=1, max_size=30))
def test_hhi_is_between_10000_over_n_and_10000(values: list[int]) -> None:
    index = hhi(values)
    assert Decimal(10_000) / len(values) - Decimal("0.01") <= index <= Decimal(10_000)


@pytest.mark.parametrize(("index", "level"), [
    (Decimal("0"), ConcentrationLevel.LOW), (Decimal("1499.99"), ConcentrationLevel.LOW),
    (Decimal("1500"), ConcentrationLevel.MODERATE),
    (Decimal("2500"), ConcentrationLevel.MODERATE),
    (Decimal("2500.01"), ConcentrationLevel.HIGH), (Decimal("10000"), ConcentrationLevel.HIGH),
])
def test_concentration_bands(index: Decimal, level: ConcentrationLevel) -> None:
    assert concentration_level(index) is level


@pytest.mark.parametrize(("part", "whole", "places", "expected"), [
    (1, 3, 2, "33.33"), (2, 3, 2, "66.67"), (1, 8, 2, "12.50"), (1, 200, 1, "0.5"),
    (5, 0, 2, "0"), (3, 30_000_000, 4, "0.0000"), (3, 20_000, 4, "0.0150"),
])
def test_share_pct_rounds_half_up(part: int, whole: int, places: int, expected: str) -> None:
    assert share_pct(part, whole, places) == Decimal(expected)


def test_gdp_conversion_uses_the_rate_of_its_year() -> None:
    assert gdp_eur_cents(1_182_700_000, 2021) == 10**11   # 1.1827 USD per EUR
    assert gdp_eur_cents(1_053_000_000, 2022) == 10**11   # 1.0530


@pytest.mark.parametrize(("counts", "expected"), [
    ({}, None),
    ({7: 1}, "7.0"),
    ({30: 1, 90: 1}, "60.0"),
    ({30: 1, 90: 1, 200: 1}, "90.0"),
    ({5: 3, 9: 1}, "5.0"),                    # 5 5 5 9
    ({5: 2, 9: 2}, "7.0"),                    # 5 5 9 9
    ({1: 1, 2: 1, 3: 1, 4: 1}, "2.5"),
    ({-2: 1, 4: 2}, "4.0"),                   # a delivery recorded before the announcement
])
def test_median_of_counts(counts: dict[int, int], expected: str | None) -> None:
    assert median_of_counts(counts) == (None if expected is None else Decimal(expected))


@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=60))
def test_median_of_counts_matches_statistics(values: list[int]) -> None:
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    expected = Decimal(str(statistics.median(values))).quantize(Decimal("0.1"))
    assert median_of_counts(counts) == expected
