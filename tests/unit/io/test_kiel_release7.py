"""The real release 7 workbook: counts, hand-checked totals, and Kiel's own summary sheet."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coalition.io.kiel import AidType, KielReader, KielRecord, KielSkip, SkipReason, resolve_donor

WORKBOOK = (Path(__file__).resolve().parents[3].parent / "shared" / "data" / "kiel"
            / "ukraine_support_tracker_release7.xlsx")

pytestmark = pytest.mark.skipif(not WORKBOOK.exists(), reason=f"{WORKBOOK} is not present")


@pytest.fixture(scope="module")
def release7() -> tuple[list[KielRecord], list[KielSkip], KielReader]:
    reader = KielReader(WORKBOOK)
    items = list(reader)
    return ([i for i in items if isinstance(i, KielRecord)],
            [i for i in items if isinstance(i, KielSkip)], reader)


def test_row_counts(release7: tuple[list[KielRecord], list[KielSkip], KielReader]) -> None:
    records, _, reader = release7
    summary = reader.reconciliation
    assert (summary.rows_read, summary.rows_mapped, summary.rows_skipped) == (1032, 761, 271)
    assert summary.skipped == {SkipReason.NO_VALUE: 271}
    assert summary.skipped_committed_eur == 0
    # CAF6 (3,850,000 CAD) and ESM7 (3,800,000 USD) have no EUR value in the workbook.
    assert summary.mapped_without_eur == 2
    assert len({r.external_id for r in records}) == 761
    assert len(summary.by_donor) == 43


def test_hand_checked_totals(release7: tuple[list[KielRecord], list[KielSkip], KielReader]) -> None:
    summary = release7[2].reconciliation
    assert summary.total.committed_eur == Decimal("93942559020.33")
    assert summary.total.delivered_eur == Decimal("9184132249.97")
    assert {aid: a.committed_eur for aid, a in summary.by_aid_type.items()} == {
        AidType.MILITARY: Decimal("41501875310.78"),
        AidType.FINANCIAL: Decimal("38076451697.78"),
        AidType.HUMANITARIAN: Decimal("14364232011.77"),
    }
    assert {aid: a.rows for aid, a in summary.by_aid_type.items()} == {
        AidType.MILITARY: 459, AidType.FINANCIAL: 58, AidType.HUMANITARIAN: 244,
    }
    committed = {code: a.committed_eur for code, a in summary.by_donor.items()}
    assert committed["USA"] == Decimal("52310711034.70")
    assert committed["GBR"] == Decimal("6650197490.11")
    assert committed["DEU"] == Decimal("3300000000.00")
    assert committed["EU"] == Decimal("11740000000.00")
    assert committed["EPF"] == Decimal("2500000000.00")
    assert committed["EIB"] == Decimal("2002500000.00")
    assert summary.by_donor["USA"].rows == 131


def test_bushmaster_row_as_read_by_hand(
    release7: tuple[list[KielRecord], list[KielSkip], KielReader],
) -> None:
    record = next(r for r in release7[0] if r.row == 12)
    assert (record.external_id, record.donor_code, record.announced_on) == (
        "kiel:AUM4:1", "AUS", dt.date(2022, 4, 8))
    assert (record.item, record.item_type, record.item_subtype) == (
        "Bushmaster Protected Mobility Vehicles", "Heavy weapon",
        "Armoured Utility Vehicle (AUV)")
    assert (record.units_committed, record.units_delivered, record.unit_price_usd) == (
        Decimal(20), Decimal(20), Decimal(1650000))
    assert (record.original_currency, record.original_amount) == ("AUD", Decimal("49000000.00"))
    assert record.value_committed_eur == record.value_delivered_eur == Decimal("32839622.01")


def test_totals_agree_with_kiels_country_summary_sheet(
    release7: tuple[list[KielRecord], list[KielSkip], KielReader],
) -> None:
    records, _, reader = release7
    ours: dict[tuple[str, AidType], Decimal] = defaultdict(Decimal)
    for record in records:
        ours[record.donor_code, record.aid_type] += record.value_committed_eur or Decimal(0)
    workbook = load_workbook(WORKBOOK, read_only=True, data_only=True)
    try:
        rows = list(workbook["Country Summary"].iter_rows(min_row=6, max_row=47, max_col=7,
                                                          values_only=True))
    finally:
        workbook.close()
    checked = 0
    for _, name, _, financial, humanitarian, military, total in rows:
        assert isinstance(name, str)
        if name == "Total":
            continue
        donor = resolve_donor(name)
        assert donor is not None, name
        code = donor[0]
        # Kiel sums floats in EUR billions; we sum values rounded to cents.
        tolerance = Decimal("0.01") * reader.reconciliation.by_donor[code].rows + 1
        for aid, theirs in ((AidType.FINANCIAL, financial), (AidType.HUMANITARIAN, humanitarian),
                            (AidType.MILITARY, military), (None, total)):
            assert isinstance(theirs, int | float)
            mine = (reader.reconciliation.by_donor[code].committed_eur if aid is None
                    else ours[code, aid])
            assert abs(mine - Decimal(repr(theirs)) * 10**9) <= tolerance, (name, aid)
            checked += 1
    assert checked == 41 * 4
    # The sheet's "bilateral" total leaves out the EU's Peace Facility and Investment Bank.
    total_row = rows[-1]
    bilateral = Decimal(repr(total_row[6])) * 10**9
    outside = ours["EPF", AidType.MILITARY] + ours["EIB", AidType.FINANCIAL]
    assert abs(reader.reconciliation.total.committed_eur - outside - bilateral) < 100
