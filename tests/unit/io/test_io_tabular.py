"""Streaming CSV/XLSX/JSON readers: header matching, cell text, row numbers and failures."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import json
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook

from coalition.errors import ValidationFailed
from coalition.io import tabular
from coalition.io.tabular import FileFormatError, HeaderError, detect_format, read_rows


@dataclass(frozen=True)
class Col:
    name: str
    required: bool = False


COLUMNS = (Col("donor", required=True), Col("item_type", required=True), Col("quantity"),
           Col("notes"))


def write_csv(
    path: Path, rows: list[list[object]], delimiter: str = ",", bom: bool = False
) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_csv_headers_match_ignoring_case_blanks_and_separators(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [
        [" DONOR ", "Item Type", "quantity", "notes"],
        ["DNK", " shell-155 ", "12", ""],
    ])
    assert list(read_rows(path, COLUMNS)) == [
        (2, {"donor": "DNK", "item_type": "shell-155", "quantity": "12", "notes": None}),
    ]


def test_csv_row_numbers_count_the_header_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("donor,item_type\nDNK,a\n\n,\nPOL,b\n", encoding="utf-8")
    assert [number for number, _ in read_rows(path, COLUMNS)] == [2, 5]


def test_csv_with_semicolons_and_byte_order_mark(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["donor", "item_type"], ["DNK", "a;b"]],
                     delimiter=";", bom=True)
    assert list(read_rows(path, COLUMNS)) == [(2, {"donor": "DNK", "item_type": "a;b"})]


def test_csv_short_rows_are_padded_and_long_rows_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("donor,item_type,quantity\nDNK,a\nPOL,b,1,surprise\n", encoding="utf-8")
    rows = read_rows(path, COLUMNS)
    assert next(rows) == (2, {"donor": "DNK", "item_type": "a", "quantity": None})
    with pytest.raises(FileFormatError, match=r"row 3.*4 values but only 3"):
        next(rows)


def test_without_declared_columns_keys_are_the_stripped_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [[" Any Name ", "other"], ["1", "2"]])
    assert list(read_rows(path)) == [(2, {"Any Name": "1", "other": "2"})]


def test_missing_required_columns_are_all_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["quantity"], ["1"]])
    with pytest.raises(HeaderError) as caught:
        list(read_rows(path, COLUMNS))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("donor", "required column is missing"),
        ("item_type", "required column is missing"),
    ]
    assert isinstance(caught.value, ValidationFailed)


def test_duplicated_headers_are_refused_even_when_spelt_differently(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["donor", "item_type", "Item Type"], ["D", "a", "b"]])
    with pytest.raises(HeaderError, match=r"item_type: column appears more than once "
                                          r"\(column 2 and column 3\)"):
        list(read_rows(path, COLUMNS))


def test_duplicated_headers_without_a_spec_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["a", "a"], ["1", "2"]])
    with pytest.raises(HeaderError, match="appears more than once"):
        list(read_rows(path))


def test_unknown_columns_are_errors_unless_ignored(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["donor", "item_type", "quantitiy"], ["D", "a", "3"]])
    with pytest.raises(HeaderError, match="quantitiy: unknown column"):
        list(read_rows(path, COLUMNS))
    assert list(read_rows(path, COLUMNS, extra="ignore")) == [
        (2, {"donor": "D", "item_type": "a"}),
    ]


def test_read_rows_is_a_lazy_generator(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("donor,item_type\nDNK,a\nPOL,b,c\n", encoding="utf-8")
    rows = read_rows(path, COLUMNS)
    # The broken third line is only reached when the caller asks for it.
    assert next(rows)[1]["donor"] == "DNK"
    assert inspect.isgenerator(rows)
    with pytest.raises(FileFormatError):
        next(rows)


def test_csv_streams_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["donor", "item_type", "quantity", "notes"])
        writer.writerows(["DNK", f"item-{i}", str(i), "some words here"] for i in range(100_000))
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_rows(path, COLUMNS))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # Holding the rows would take tens of MB; streaming stays within the read buffers.
    assert peak < 2_000_000


def test_xlsx_cells_read_as_the_text_a_person_sees(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [
        ["donor", "item_type", "quantity", "notes"],
        ["DNK", "a", 12, dt.datetime(2024, 3, 1)],
        ["POL", "b", 12.0, 0.1 + 0.2],
        [None, None, None, None],
        ["FRA", "c", 2.5, True],
    ])
    assert list(read_rows(path, COLUMNS)) == [
        (2, {"donor": "DNK", "item_type": "a", "quantity": "12", "notes": "2024-03-01"}),
        (3, {"donor": "POL", "item_type": "b", "quantity": "12", "notes": "0.3"}),
        (5, {"donor": "FRA", "item_type": "c", "quantity": "2.5", "notes": "true"}),
    ]


def test_xlsx_row_numbers_survive_gaps_in_the_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["donor", "item_type"])
    sheet["A2"], sheet["B2"] = "DNK", "a"
    sheet["A7"], sheet["B7"] = "POL", "b"
    workbook.save(tmp_path / "gap.xlsx")
    assert [n for n, _ in read_rows(tmp_path / "gap.xlsx", COLUMNS)] == [2, 7]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["ignored"])
    second = workbook.create_sheet("pledges")
    second.append(["donor", "item_type"])
    second.append(["DNK", "a"])
    workbook.save(tmp_path / "two.xlsx")
    assert list(read_rows(tmp_path / "two.xlsx", COLUMNS, sheet="pledges")) == [
        (2, {"donor": "DNK", "item_type": "a"}),
    ]
    with pytest.raises(FileFormatError, match="no sheet named 'nope'; sheets: Sheet, pledges"):
        list(read_rows(tmp_path / "two.xlsx", COLUMNS, sheet="nope"))


def test_xlsx_header_errors_are_reported_like_csv(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [["donor", "notes", "Notes"], ["D", "x", "y"]])
    with pytest.raises(HeaderError) as caught:
        list(read_rows(path, COLUMNS))
    assert {(e.field, e.message.split(" (")[0]) for e in caught.value.errors} == {
        ("notes", "column appears more than once"),
        ("item_type", "required column is missing"),
    }


def test_json_array_of_objects(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([
        {"Donor": "DNK", "item_type": "a", "quantity": 12, "notes": None},
        {"donor": "POL", "item_type": "b", "quantity": 2.50, "notes": "  x "},
    ]), encoding="utf-8")
    assert list(read_rows(path, COLUMNS)) == [
        (1, {"donor": "DNK", "item_type": "a", "quantity": "12", "notes": None}),
        (2, {"donor": "POL", "item_type": "b", "quantity": "2.5", "notes": "x"}),
    ]


def test_json_numbers_keep_their_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('[{"donor": "D", "item_type": "a", "quantity": 0.1000000000000000055511}]',
                    encoding="utf-8")
    assert next(read_rows(path, COLUMNS))[1]["quantity"] == "0.1000000000000000055511"


def test_json_lines_use_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"donor": "DNK", "item_type": "a"}\n\n{"donor": "POL", "item_type": "b"}\n',
                    encoding="utf-8")
    assert [(n, r["donor"]) for n, r in read_rows(path, COLUMNS)] == [(1, "DNK"), (3, "POL")]


def test_json_array_is_decoded_across_buffer_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny buffer forces every element, string and number to straddle a refill.
    monkeypatch.setattr(tabular, "_JSON_CHUNK_CHARS", 3)
    items = [{"donor": f"D{i}", "item_type": "a" * (i % 7), "quantity": 12345 + i}
             for i in range(50)]
    path = tmp_path / "p.json"
    path.write_text(" \n" + json.dumps(items, indent=1) + "\n ", encoding="utf-8")
    rows = list(read_rows(path, COLUMNS))
    assert len(rows) == 50
    # 49 % 7 == 0: an empty string reads as a blank cell.
    assert rows[49] == (50, {"donor": "D49", "item_type": None, "quantity": "12394"})
    assert rows[3][1]["quantity"] == "12348"


def test_empty_json_array_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[ ]", encoding="utf-8")
    assert list(read_rows(path, COLUMNS)) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"donor": "D", "item_type": "a"} {"donor": "E"}]', "expected ',' or ']'"),
        ('[{"donor": "D", "item_type": "a"}, {"donor": }]', r"row 2.*invalid JSON"),
        ('[{"donor": "D", "item_type": "a"}', "not closed"),
        ('[{"donor": "D", "item_type": "a"}] x', "unexpected content after"),
        ('[1, 2]', "each row must be a JSON object"),
        ('[{"donor": "D", "item_type": {"nested": 1}}]', "'item_type' holds a nested value"),
        ('"text"', "expected a JSON array of objects or JSON lines"),
        ("", "the file is empty"),
    ],
)
def test_malformed_json_is_reported(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileFormatError, match=message):
        list(read_rows(path, COLUMNS))


def test_json_unknown_key_in_a_later_object_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"donor": "D", "item_type": "a"}\n{"donor": "D", "colour": "red"}\n',
                    encoding="utf-8")
    with pytest.raises(HeaderError, match="row 2, colour: unknown column"):
        list(read_rows(path, COLUMNS))


def test_json_first_object_must_have_the_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('[{"donor": "D"}]', encoding="utf-8")
    with pytest.raises(HeaderError, match="item_type: required column is missing"):
        list(read_rows(path, COLUMNS))


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="cannot read the file"):
        list(read_rows(tmp_path / "nope.csv", COLUMNS))


def test_file_that_is_not_a_workbook_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("donor,item_type\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="not a readable XLSX workbook"):
        list(read_rows(path, COLUMNS))


def test_csv_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("donor,item_type\nDNK,Gr\xfcn\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="not UTF-8 text"):
        list(read_rows(path, COLUMNS))


def test_empty_csv_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="no header row"):
        list(read_rows(path, COLUMNS))


@pytest.mark.parametrize(
    ("name", "explicit", "expected"),
    [
        ("a.CSV", None, "csv"),
        ("a.xlsx", None, "xlsx"),
        ("a.jsonl", None, "json"),
        ("a.ndjson", None, "json"),
        ("upload.bin", "xlsx", "xlsx"),
        ("a.csv", "JSON", "json"),
    ],
)
def test_format_from_extension_or_explicit(name: str, explicit: str | None, expected: str) -> None:
    assert detect_format(Path(name), explicit) == expected


def test_unknown_format_is_refused() -> None:
    with pytest.raises(FileFormatError, match="cannot tell the format"):
        detect_format(Path("a.ods"))
    with pytest.raises(FileFormatError, match="unsupported format 'ods'"):
        detect_format(Path("a.csv"), "ods")


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "upload.tmp"
    path.write_text('[{"donor": "D", "item_type": "a"}]', encoding="utf-8")
    assert list(read_rows(path, COLUMNS, format="json")) == [(1, {"donor": "D", "item_type": "a"})]
