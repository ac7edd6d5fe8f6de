"""Templates: header plus one example row that the reader and validator accept."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coalition.io.rows import Lookup, validate_all
from coalition.io.specs import SPECS
from coalition.io.tabular import read_rows
from coalition.io.templates import write_template, write_templates

ANY: dict[str, Lookup] = {
    name: (lambda code: True) for name in
    ("participant_code", "item_type", "category_code", "format_code")
}


@pytest.mark.parametrize("resource", list(SPECS))
@pytest.mark.parametrize("extension", [".csv", ".xlsx", ".json"])
def test_template_example_row_validates(tmp_path: Path, resource: str, extension: str) -> None:
    spec = SPECS[resource]
    path = write_template(resource, tmp_path / f"{resource}{extension}")
    records, errors = validate_all(spec, read_rows(path, spec.columns), lookups=ANY)
    assert errors == []
    assert len(records) == 1


def test_csv_template_header_is_the_column_names(tmp_path: Path) -> None:
    path = write_template("pledges", tmp_path / "p.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        header, example = list(csv.reader(handle))
    assert header == [
        "external_id", "donor", "item_type", "quantity", "amount", "currency", "fx_rate_to_eur",
        "fx_date", "funding", "available_from", "releasability", "status", "announced_on",
        "format", "parent_external_id", "notes",
    ]
    assert example[:4] == ["DNK-2024-017", "DNK", "howitzer-155-m777", "6"]


def test_json_template_is_an_array_with_one_object(tmp_path: Path) -> None:
    path = write_template("participants", tmp_path / "p.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    assert data[0]["code"] == "DNK"
    assert list(data[0]) == [c.name for c in SPECS["participants"].columns]


def test_xlsx_template_explains_its_columns_on_a_second_sheet(tmp_path: Path) -> None:
    path = write_template("requirements", tmp_path / "r.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["requirements", "columns"]
    rows = list(workbook["columns"].iter_rows(values_only=True))
    assert rows[0] == ("column", "required", "format", "description")
    assert ("priority", "yes", "whole number from 1 to 5", "1 is the most urgent") in rows


def test_explicit_format_beats_the_extension(tmp_path: Path) -> None:
    path = write_template("catalog", tmp_path / "catalog.txt", "json")
    assert json.loads(path.read_text(encoding="utf-8"))[0]["code"] == "howitzer-155-m777"


def test_write_templates_writes_one_file_per_resource(tmp_path: Path) -> None:
    written = write_templates(tmp_path / "templates", "xlsx")
    assert sorted(p.name for p in written) == [
        "catalog.xlsx", "participants.xlsx", "pledges.xlsx", "requirements.xlsx",
    ]
    assert all(p.exists() for p in written)
