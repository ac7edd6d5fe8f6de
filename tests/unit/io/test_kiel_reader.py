"""The Kiel tracker reader on small workbooks laid out like release 7 (and a later one)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from coalition.errors import ValidationFailed
from coalition.io.kiel import (
    RELEASE_7,
    AidType,
    DonorKind,
    KielLayout,
    KielReader,
    KielRecord,
    KielSkip,
    SkipReason,
    read_kiel,
    reconcile_kiel,
    resolve_donor,
)
from coalition.io.tabular import FileFormatError, HeaderError

# Release 7's header row as published, including the blank column I and the second
# "Sub-type of item" (AO).
HEADER_R7: list[str | None] = [
    "ID", "countries", "Announcement Date", "Type of Aid General", "Type of Aid Specific",
    "Explanation", "Original Currency", "Monetary Value as Given by Source", None,
    "Type of item", "Sub-type of item", "Soviet origin (1)", "No. of Units",
    "No. of Units delivered (in-kind military aid)", "Unit Price in USD",
    "Value committed (own estimate, in USD)", "Value delivered (own estimate, in USD)",
    "Total ", "Converted Value in EUR", "Total monetary value delivered in EUR",
    "Official Source", "Source of Aid 1", "Source of Aid 2", "Source of Aid 3",
    "Source of Aid 4", "Bilateral loan/grant made through IMF or WB?",
    "Updated/newly added entry", "Source for Delivery", "Working/debug >>>",
    "Total_value_dummy (1 is first row in the package)", "value_source_commitments",
    "value_source_deliveries", "MonthCoding2", "Month3", "BeforeWar4",
    "Ukraine Asked for it dummy (=1)", "Heavy_but_undisclosed_commitments",
    "Heavy_but_undisclosed_deliveries", "Ammunition_dummy(=1)", "Source of item",
    "Sub-type of item", "Items (short version)",
    "Relative importance(2=very imporant, 1=important, 0=less important)", " ",
]
COLUMN = {
    "id": 0, "donor": 1, "date": 2, "general": 3, "specific": 4, "explanation": 5,
    "currency": 6, "given": 7, "item": 8, "item_type": 9, "subtype": 10, "soviet": 11,
    "units": 12, "units_delivered": 13, "unit_price": 14, "usd_committed": 15,
    "usd_delivered": 16, "total": 17, "eur": 18, "eur_delivered": 19, "src1": 21, "src2": 22,
    "src3": 23, "src4": 24, "src_delivery": 27, "subtype_copy": 40,
}
SHEET = "Bilateral assistance, MAIN DATA"


def kiel_row(**cells: object) -> list[object]:
    """A row as Kiel fills it: '.' in the data columns, None in the package totals."""
    row: list[object] = ["."] * len(HEADER_R7)
    for name in ("total", "eur", "eur_delivered"):
        row[COLUMN[name]] = None
    row[COLUMN["soviet"]] = 0
    row[COLUMN["subtype_copy"]] = "working copy"
    for name, value in cells.items():
        row[COLUMN[name]] = value
    return row


ROWS: list[list[object]] = [
    # A package of one item with everything known (AUM4 in release 7).
    kiel_row(id="AUM4", donor="Australia", date=dt.datetime(2022, 4, 8), general="Military",
             specific="Military Equipment", explanation="20 Bushmasters", currency="AUD",
             given=49000000, item="Bushmaster Protected Mobility Vehicles",
             item_type="Heavy weapon", subtype="Armoured Utility Vehicle (AUV)", units=20,
             units_delivered=20, unit_price=1650000, usd_committed=33000000,
             usd_delivered=33000000, total=49000000, eur=32839622.00924871,
             eur_delivered=32839622.00924871, src1="https://a.example/1",
             src2="https://a.example/2", src_delivery="https://a.example/1"),
    # A package of three items: the value sits on its first row only.
    kiel_row(id="AUM3", donor="Australia", date=dt.datetime(2022, 3, 31), general="Military",
             currency="AUD", item="tactical decoy", units="undisclosed", total=25000000,
             eur=16754909.1883922),
    kiel_row(id="AUM3", donor="Australia", date=dt.datetime(2022, 3, 31), general="Military",
             currency="AUD", item="unmanned aerial system", units="undisclosed"),
    kiel_row(id="AUM3", donor="Australia", date=dt.datetime(2022, 3, 31), general="Military",
             currency="AUD", item="field ration", units=8, unit_price=".", soviet=None),
    kiel_row(id="CZM1", donor="Czech Republic", date="until 3/10/2022", general="Military",
             currency="EUR", units="1.000.00", total=1000000, eur=1000000, soviet=1),
    kiel_row(id="TRH1", donor="Turkey", date="not specified, 03/22", general="Humanitarian",
             currency="EUR", total=1234.565, eur=1234.565, src1=".https://t.example"),
    kiel_row(id="KRF1", donor="South Korea", date=dt.datetime(2022, 5, 2), general="financial",
             currency="USD", total=2000000, eur=2000000, eur_delivered=1000000),
    kiel_row(id="EUF1", donor="EU (Commission and Council)", date=dt.datetime(2022, 2, 21),
             general="Financial", currency="EUR", total=1200000000, eur=1200000000),
    kiel_row(id="EUM1", donor="European Peace Facility", date=dt.datetime(2022, 2, 27),
             general="Military", currency="EUR", total=500000000, eur=500000000),
    kiel_row(id="EIF1", donor="European Investment Bank", date=dt.datetime(2022, 3, 4),
             general="Financial", currency="EUR", total=2000000000, eur=2000000000),
    kiel_row(id="XXM1", donor="Atlantis", general="Military", total=5, eur=5),
    kiel_row(id="YYM1", donor=None, general="Military", total=7, eur=7),
    kiel_row(id=None, donor="Total", general=".", total=9999, eur=9999),
    kiel_row(id="DKC1", donor="Denmark", general="Cyber", total=3, eur=3),
    kiel_row(id="EEM3", donor="Estonia", date=dt.datetime(2922, 2, 9), general="Military",
             currency="EUR", units=1, total=5300000, eur=5300000),
    [None] * len(HEADER_R7),
    # An amount in the original currency that Kiel did not convert (CAF6 in release 7).
    kiel_row(id="NOF1", donor="Norway", date=dt.datetime(2022, 6, 1), general="Financial",
             currency="NOK", total=3850000, eur=None),
    kiel_row(id="FIM2", donor="Finland", date=dt.datetime(2022, 3, 1), general="Military",
             currency=".", given="Not given"),
    kiel_row(id="ITM3", donor="Italy", date="unspecified", general="Military", units=5,
             units_delivered="partially", item_type=0),
]


def write_workbook(path: Path, rows: list[list[object]], header: list[str | None] = HEADER_R7,
                   sheet: str = SHEET, title_rows: int = 0) -> Path:
    workbook = Workbook()
    readme = workbook.active
    assert readme is not None
    readme.title = "ReadMe"
    readme.append(["not data"])
    data = workbook.create_sheet(sheet)
    for _ in range(title_rows):
        data.append(["A title above the table"])
    data.append(header)
    for row in rows:
        data.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "kiel.xlsx", ROWS)


def read_all(path: Path, layout: KielLayout = RELEASE_7) -> tuple[
        list[KielRecord], list[KielSkip], KielReader]:
    reader = read_kiel(path, layout)
    items = list(reader)
    records = [i for i in items if isinstance(i, KielRecord)]
    skips = [i for i in items if isinstance(i, KielSkip)]
    return records, skips, reader


def by_id(records: list[KielRecord]) -> dict[str, KielRecord]:
    return {r.external_id: r for r in records}


def test_a_full_row_becomes_a_canonical_record(sample: Path) -> None:
    record = by_id(read_all(sample)[0])["kiel:AUM4:1"]
    assert record.row == 2
    assert record.release == "7"
    assert (record.donor_name, record.donor_code, record.donor_kind) == (
        "Australia", "AUS", DonorKind.STATE)
    assert record.announced_on == dt.date(2022, 4, 8)
    assert record.announced_text is None
    assert record.aid_type is AidType.MILITARY
    assert record.aid_type_specific == "Military Equipment"
    assert (record.item, record.item_type, record.item_subtype) == (
        "Bushmaster Protected Mobility Vehicles", "Heavy weapon",
        "Armoured Utility Vehicle (AUV)")
    assert record.soviet_origin is False
    assert record.explanation == "20 Bushmasters"
    assert (record.units_committed, record.units_delivered) == (Decimal(20), Decimal(20))
    assert record.unit_price_usd == Decimal(1650000)
    assert record.value_committed_usd == record.value_delivered_usd == Decimal("33000000.00")
    assert record.value_committed_eur == record.value_delivered_eur == Decimal("32839622.01")
    assert (record.original_currency, record.original_amount) == ("AUD", Decimal("49000000.00"))
    assert record.sources == ("https://a.example/1", "https://a.example/2")
    assert record.units_allocated is None
    assert record.value_allocated_eur is None
    assert record.notes == ()


def test_package_rows_are_numbered_and_only_the_first_carries_the_value(sample: Path) -> None:
    records, skips, _ = read_all(sample)
    package = [r for r in records if r.kiel_id == "AUM3"]
    assert [(r.external_id, r.item, r.value_committed_eur, r.units_committed)
            for r in package] == [
        ("kiel:AUM3:1", "tactical decoy", Decimal("16754909.19"), None),
        ("kiel:AUM3:3", "field ration", None, Decimal(8)),
    ]
    # The middle item has neither a value nor a unit count: nothing to import.
    assert [(s.row, s.kiel_id, s.reason) for s in skips if s.kiel_id == "AUM3"] == [
        (4, "AUM3", SkipReason.NO_VALUE),
    ]
    assert package[1].soviet_origin is None


def test_donor_names_map_to_iso_and_organisation_codes(sample: Path) -> None:
    records = read_all(sample)[0]
    assert {(r.donor_name, r.donor_code, r.donor_kind.value) for r in records} >= {
        ("Czech Republic", "CZE", "state"),
        ("Turkey", "TUR", "state"),
        ("South Korea", "KOR", "state"),
        ("EU (Commission and Council)", "EU", "organisation"),
        ("European Peace Facility", "EPF", "organisation"),
        ("European Investment Bank", "EIB", "organisation"),
    }


def test_dates_written_as_words_keep_their_text(sample: Path) -> None:
    records = by_id(read_all(sample)[0])
    assert (records["kiel:CZM1:1"].announced_on, records["kiel:CZM1:1"].announced_text) == (
        dt.date(2022, 3, 10), "until 3/10/2022")
    assert records["kiel:TRH1:1"].announced_on == dt.date(2022, 3, 1)
    assert (records["kiel:ITM3:1"].announced_on, records["kiel:ITM3:1"].announced_text) == (
        None, "unspecified")


def test_oddities_are_kept_as_notes(sample: Path) -> None:
    records = by_id(read_all(sample)[0])
    assert records["kiel:CZM1:1"].units_committed == Decimal(1000)
    assert records["kiel:CZM1:1"].notes == ("units committed: read '1.000.00' as 1000",)
    assert records["kiel:CZM1:1"].soviet_origin is True
    assert records["kiel:EEM3:1"].announced_on is None
    assert records["kiel:EEM3:1"].notes == (
        "announcement date 2922-02-09 is outside release 7's coverage "
        "(2022-01-24 to 2022-10-03); dropped",
    )
    assert records["kiel:ITM3:1"].notes == (
        "units delivered: 'partially' is not a number",
        "item type: ignored non-text value 0",
    )


def test_money_is_rounded_half_up_to_cents(sample: Path) -> None:
    record = by_id(read_all(sample)[0])["kiel:TRH1:1"]
    assert record.value_committed_eur == Decimal("1234.57")
    assert record.sources == ("https://t.example",)


def test_rows_that_cannot_be_mapped_are_skipped_with_a_reason(sample: Path) -> None:
    skips = read_all(sample)[1]
    assert [(s.row, s.reason, s.detail, s.value_committed_eur) for s in skips] == [
        (4, SkipReason.NO_VALUE, "", None),
        (12, SkipReason.UNKNOWN_DONOR, "Atlantis", Decimal("5.00")),
        (13, SkipReason.NO_DONOR, "", Decimal("7.00")),
        (14, SkipReason.AGGREGATE, "Total", Decimal("9999.00")),
        (15, SkipReason.UNKNOWN_AID_TYPE, "Cyber", Decimal("3.00")),
        (19, SkipReason.NO_VALUE, "", None),
    ]


def test_reconciliation_adds_up(sample: Path) -> None:
    records, skips, reader = read_all(sample)
    summary = reader.reconciliation
    # The blank row 17 is not data and is not counted.
    assert summary.rows_read == 18 == len(records) + len(skips)
    assert summary.rows_mapped == 12
    assert summary.skipped == {
        SkipReason.NO_VALUE: 2, SkipReason.UNKNOWN_DONOR: 1, SkipReason.NO_DONOR: 1,
        SkipReason.AGGREGATE: 1, SkipReason.UNKNOWN_AID_TYPE: 1,
    }
    assert summary.skipped_committed_eur == Decimal("10014.00")
    assert summary.mapped_without_eur == 1
    assert summary.by_donor["AUS"].committed_eur == Decimal("49594531.20")
    assert summary.by_donor["AUS"].delivered_eur == Decimal("32839622.01")
    assert summary.by_donor["AUS"].rows == 3
    assert summary.by_donor["EU"].committed_eur == Decimal("1200000000.00")
    assert summary.by_donor["KOR"].delivered_eur == Decimal("1000000.00")
    assert summary.by_aid_type[AidType.FINANCIAL].committed_eur == Decimal("3202000000.00")
    assert summary.by_aid_type[AidType.HUMANITARIAN].committed_eur == Decimal("1234.57")
    assert summary.by_aid_type[AidType.MILITARY].committed_eur == Decimal("555894531.20")
    assert summary.total.committed_eur == sum(
        (a.committed_eur for a in summary.by_donor.values()), Decimal(0))
    assert summary.total.committed_eur == Decimal("3757895765.77")


def test_reconciliation_as_json_lists_donors_by_value(sample: Path) -> None:
    data = reconcile_kiel(sample).to_dict()
    assert list(data["by_donor"])[:3] == ["EIB", "EU", "EPF"]
    assert data["by_donor"]["EU"] == {
        "name": "EU (Commission and Council)", "rows": 1, "committed_eur": "1200000000.00",
        "delivered_eur": "0", "allocated_eur": "0",
    }
    assert data["skipped"]["unknown donor"] == 1
    assert data["rows_read"] == data["rows_mapped"] + data["rows_skipped"]


def test_reading_twice_gives_the_same_records_and_totals(sample: Path) -> None:
    reader = read_kiel(sample)
    first = list(reader)
    summary = reader.reconciliation.to_dict()
    assert list(reader) == first
    assert reader.reconciliation.to_dict() == summary
    ids = [r.external_id for r in first if isinstance(r, KielRecord)]
    assert len(ids) == len(set(ids))


def test_a_missing_column_is_named_with_what_was_looked_for(tmp_path: Path) -> None:
    header = [h if h != "Converted Value in EUR" else "EUR" for h in HEADER_R7]
    path = write_workbook(tmp_path / "k.xlsx", ROWS[:1], header=header)
    with pytest.raises(HeaderError) as caught:
        list(read_kiel(path))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("value_committed_eur",
         "no column found for release 7 (looked for 'Converted Value in EUR')"),
    ]


def test_a_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "k.xlsx", ROWS[:1], sheet="Main")
    with pytest.raises(FileFormatError, match=r"no sheet 'Bilateral assistance, MAIN DATA'.*"
                                              r"sheets: ReadMe, Main"):
        list(read_kiel(path))


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationFailed, match="not a readable XLSX workbook"):
        reconcile_kiel(path)


def test_a_later_release_is_read_by_a_new_layout_not_new_code(tmp_path: Path) -> None:
    header: list[str | None] = [
        "Entry ID", "Donor", "Announcement date", "Aid type", "Item", "Units committed",
        "Units allocated", "Value committed (EUR)", "Value allocated (EUR)", "Source 1",
    ]
    rows: list[list[object]] = [
        ["USM1", "United States", dt.datetime(2023, 1, 6), "Military", "Bradley IFV", 50, 30,
         "1200000000", 700000000.5, "https://u.example"],
        ["GBM1", "United Kingdom", "06.01.2023", "military", "Challenger 2", 14, ".", ".",
         120000000, "."],
        ["Total", "All donors", None, "Military", None, None, None, 1, 1, None],
    ]
    path = write_workbook(tmp_path / "r13.xlsx", rows, header=header, sheet="Main Data",
                          title_rows=2)
    layout = KielLayout(
        release="13",
        sheet="Main Data",
        header_row=3,
        text_date_order="dmy",
        columns={
            "kiel_id": ("Entry ID",),
            "donor": ("Donor",),
            "announced_on": ("Announcement date",),
            "aid_type": ("Aid type",),
            "item": ("Item",),
            "units_committed": ("Units committed",),
            "units_allocated": ("Units allocated",),
            "value_committed_eur": ("Value committed (EUR)",),
            "value_allocated_eur": ("Value allocated (EUR)",),
            "sources": ("Source 1",),
        },
    )
    records, skips, reader = read_all(path, layout)
    assert [(r.row, r.external_id, r.donor_code, r.announced_on, r.units_allocated,
             r.value_allocated_eur, r.value_committed_eur) for r in records] == [
        (4, "kiel:USM1:1", "USA", dt.date(2023, 1, 6), Decimal(30), Decimal("700000000.50"),
         Decimal("1200000000.00")),
        (5, "kiel:GBM1:1", "GBR", dt.date(2023, 1, 6), None, Decimal("120000000.00"), None),
    ]
    assert [s.reason for s in skips] == [SkipReason.AGGREGATE]
    assert reader.reconciliation.total.allocated_eur == Decimal("820000000.50")
    assert records[0].release == "13"


def test_a_release_can_add_donor_spellings(tmp_path: Path) -> None:
    rows = [kiel_row(id="EUX1", donor="EU Commission", general="Financial", total=1, eur=1)]
    path = write_workbook(tmp_path / "k.xlsx", rows)
    assert read_all(path)[1][0].reason is SkipReason.UNKNOWN_DONOR
    layout = KielLayout(
        release="7b", sheet=SHEET, columns=RELEASE_7.columns,
        fixed_columns=RELEASE_7.fixed_columns,
        donor_codes={"EU Commission": ("EU", "organisation")},
    )
    assert read_all(path, layout)[0][0].donor_code == "EU"


def test_layout_refuses_unknown_fields_and_must_locate_the_essentials() -> None:
    with pytest.raises(ValueError, match=r"unknown fields \['colour'\]"):
        KielLayout(release="x", sheet="s", columns={"colour": ("Colour",), "kiel_id": ("ID",),
                                                     "donor": ("D",), "aid_type": ("A",)})
    with pytest.raises(ValueError, match=r"must map \['aid_type'\]"):
        KielLayout(release="x", sheet="s", columns={"kiel_id": ("ID",), "donor": ("D",)})


RELEASE_7_DONORS = {
    "Australia": "AUS", "Austria": "AUT", "Belgium": "BEL", "Bulgaria": "BGR", "Canada": "CAN",
    "China": "CHN", "Croatia": "HRV", "Cyprus": "CYP", "Czech Republic": "CZE",
    "Denmark": "DNK", "EU (Commission and Council)": "EU", "Estonia": "EST",
    "European Investment Bank": "EIB", "European Peace Facility": "EPF", "Finland": "FIN",
    "France": "FRA", "Germany": "DEU", "Greece": "GRC", "Hungary": "HUN", "India": "IND",
    "Ireland": "IRL", "Italy": "ITA", "Japan": "JPN", "Latvia": "LVA", "Lithuania": "LTU",
    "Luxembourg": "LUX", "Malta": "MLT", "Netherlands": "NLD", "New Zealand": "NZL",
    "Norway": "NOR", "Poland": "POL", "Portugal": "PRT", "Romania": "ROU", "Slovakia": "SVK",
    "Slovenia": "SVN", "South Korea": "KOR", "Spain": "ESP", "Sweden": "SWE",
    "Switzerland": "CHE", "Taiwan": "TWN", "Turkey": "TUR", "United Kingdom": "GBR",
    "United States": "USA",
}


@pytest.mark.parametrize(("name", "code"), sorted(RELEASE_7_DONORS.items()))
def test_every_release_7_donor_resolves(name: str, code: str) -> None:
    resolved = resolve_donor(name)
    assert resolved is not None
    assert resolved[0] == code
    assert resolved[1] is (DonorKind.ORGANISATION if len(code) < 3 or code in {"EPF", "EIB"}
                           else DonorKind.STATE)
