"""`coalition import|templates|export|backup|restore` on real SQLite files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from coalition import db, migrate
from coalition.cli.main import app
from coalition.db import session_scope
from tests.cli.conftest import reset_caches
from tests.factories import build_world
from tests.service.io.files import pledge_row, pledges_csv
from tests.unit.io.test_kiel_reader import ROWS, write_workbook

WIDE = {"COLUMNS": "160"}


def table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich tables in `output`, cell texts stripped."""
    return [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in output.splitlines() if line.startswith("│")]


@pytest.fixture
def world_db(cli_db: str) -> str:
    migrate.upgrade(url=cli_db)
    with session_scope() as session:
        build_world(session)
    return cli_db


def test_templates_in_each_format(cli_db: str, runner: CliRunner, tmp_path: Path) -> None:
    for kind in ("csv", "xlsx", "json"):
        result = runner.invoke(app, ["templates", str(tmp_path / kind), "--format", kind])
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / kind).iterdir()) == [
            f"{r}.{kind}" for r in ("catalog", "participants", "pledges", "requirements")]
    with (tmp_path / "csv" / "pledges.csv").open(encoding="utf-8") as handle:
        header, example = list(csv.reader(handle))
    assert header[:4] == ["external_id", "donor", "item_type", "quantity"]
    assert example[1] == "DNK"


def test_import_shows_every_error_and_writes_nothing(world_db: str, runner: CliRunner,
                                                     tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "p.csv", [
        pledge_row("A-1"), pledge_row("A-2", donor="XXX"),
        pledge_row("A-3", quantity=-1, announced_on="2024/06/13")])
    result = runner.invoke(app, ["import", "pledges", str(path)], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "3 error(s), nothing was imported" in result.output
    assert table_rows(result.output) == [
        ["3", "donor", "XXX", "unknown participant code"],
        ["4", "quantity", "-1", "must be at least 1"],
        ["4", "announced_on", "2024/06/13", "not a date (YYYY-MM-DD)"]]
    exported = runner.invoke(app, ["export", "pledges", "-o", str(tmp_path / "none.csv")])
    assert "0 pledges written" in exported.output


def test_import_dry_run_then_import_then_again(world_db: str, runner: CliRunner,
                                               tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "p.csv", [pledge_row("B-1", status="confirmed"),
                                            pledge_row("B-2", donor="JPN")])
    dry = runner.invoke(app, ["import", "pledges", str(path), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["created"] == 2
    first = runner.invoke(app, ["import", "pledges", str(path), "--json"])
    assert json.loads(first.output)["created"] == 2
    again = runner.invoke(app, ["import", "pledges", str(path)], env=WIDE)
    assert again.exit_code == 0, again.output
    assert ["unchanged", "2"] in table_rows(again.output)
    report = json.loads(runner.invoke(app, ["import", "pledges", str(path), "--json"]).output)
    assert (report["created"], report["unchanged"]) == (0, 2)


def test_import_as_a_national_desk(world_db: str, runner: CliRunner, tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "p.csv", [pledge_row("C-1", donor="DEU")])
    refused = runner.invoke(app, ["import", "pledges", str(path), "--as-user", "pol"])
    assert refused.exit_code == 3, refused.output
    assert "a national user may only write pledges of their own nation" in refused.output


def test_import_kiel_prints_the_reconciliation(world_db: str, runner: CliRunner,
                                               tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "kiel.xlsx", ROWS)
    result = runner.invoke(app, ["import", "kiel", str(workbook)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "18 rows read, 11 imported (11 new, 0 updated, 0 unchanged), 7 skipped" in (
        " ".join(result.output.split()))
    for text in ("Skipped rows", "unknown donor", "By aid type", "By donor", "Australia",
                 "Committed totals match the workbook: yes"):
        assert text in result.output
    again = json.loads(runner.invoke(app, ["import", "kiel", str(workbook), "--json"]).output)
    assert (again["unchanged"], again["matches"]) == (11, True)
    unknown = runner.invoke(app, ["import", "kiel", str(workbook), "--release", "99"])
    assert unknown.exit_code == 2 and "no layout for release '99'" in unknown.output


def test_export_with_filters_and_as_a_user(world_db: str, runner: CliRunner,
                                           tmp_path: Path) -> None:
    runner.invoke(app, ["import", "pledges", str(pledges_csv(tmp_path / "p.csv", [
        pledge_row("E-1", donor="DEU"), pledge_row("E-2", donor="USA", releasability="NATO"),
        pledge_row("E-3", donor="POL")]))])
    out = tmp_path / "deu.xlsx"
    result = runner.invoke(app, ["export", "pledges", "-o", str(out), "--donor", "DEU"])
    assert result.exit_code == 0, result.output
    assert f"1 pledges written to {out} (xlsx)" in " ".join(result.output.split())
    sheet = load_workbook(out, read_only=True).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["E-1"]
    japan = tmp_path / "jpn.json"
    runner.invoke(app, ["export", "pledges", "-o", str(japan), "--as-user", "jpn"])
    assert [p["external_id"] for p in json.loads(japan.read_text())] == ["E-1", "E-3"]
    bad = runner.invoke(app, ["export", "pledges", "-o", str(tmp_path / "x.txt"),
                              "--format", "pdf"])
    assert bad.exit_code == 2, bad.output
    for resource in ("requirements", "participants", "catalog", "meetings"):
        done = runner.invoke(app, ["export", resource, "-o", str(tmp_path / f"{resource}.csv")])
        assert done.exit_code == 0, done.output


def test_backup_and_restore(world_db: str, runner: CliRunner, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(app, ["import", "pledges", str(pledges_csv(tmp_path / "p.csv", [
        pledge_row("F-1"), pledge_row("F-2", donor="DEU")]))])
    path = tmp_path / "coalition.jsonl.gz"
    result = runner.invoke(app, ["backup", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Backup of sqlite at revision" in result.output and path.exists()
    refused = runner.invoke(app, ["restore", str(path)])
    assert refused.exit_code == 5, refused.output
    assert "restore needs an empty database" in refused.output
    db.get_engine().dispose()
    other = f"sqlite:///{tmp_path / 'restored.db'}"
    monkeypatch.setenv("COALITION_DATABASE_URL", other)
    reset_caches()
    migrate.upgrade(url=other)
    restored = runner.invoke(app, ["restore", str(path)], env=WIDE)
    assert restored.exit_code == 0, restored.output
    assert "every table matches the backup's digest" in restored.output
    listed = runner.invoke(app, ["export", "pledges", "-o", str(tmp_path / "after.csv")])
    assert "2 pledges written" in listed.output
