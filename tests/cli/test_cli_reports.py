"""`coalition report ...` on a real SQLite file holding the analytics ledger."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coalition import migrate
from coalition.cli.main import app
from coalition.db import session_scope
from tests.factories import build_world
from tests.service.analytics.ledger import EUR, build_ledger


@pytest.fixture
def ledger_db(cli_db: str) -> str:
    migrate.upgrade(url=cli_db)
    with session_scope() as session:
        build_world(session)
        build_ledger(session)
    return cli_db


def test_donors_json(ledger_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "donors", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [(r["donor"], r["value_eur_cents"]) for r in body["rows"]] == [
        ("JPN", 1_000_000 * EUR), ("DEU", 700_000 * EUR), ("POL", 300_000 * EUR),
        ("USA", 125_000 * EUR)]


def test_as_a_non_nato_user_leaves_out_nato_pledges(ledger_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "donors", "--json", "--as", "jpn"])
    assert result.exit_code == 0, result.output
    assert "USA" not in {r["donor"] for r in json.loads(result.output)["rows"]}


def test_table_output(ledger_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "concentration"], env={"COLUMNS": "140"})
    assert result.exit_code == 0, result.output
    assert "Concentration of supply per capability area" in result.output
    assert "4,706" in result.output and "DEU" in result.output
    for kind in ("donors", "categories", "areas", "timeline", "delivery"):
        shown = runner.invoke(app, ["report", kind], env={"COLUMNS": "140"})
        assert shown.exit_code == 0, shown.output


def test_areas_csv_with_filter(ledger_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "areas", "--csv", "--from", "2024-07-01"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["area"]: r["value_eur"] for r in rows} == {"air_defence": "800000.00",
                                                         "artillery": "700000.00"}


def test_timeline_by_meeting(ledger_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", "timeline", "--by", "meeting", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["by"] == "meeting"


@pytest.mark.parametrize(("name", "magic"), [("chart.svg", b"<svg"),
                                             ("chart.png", b"\x89PNG\r\n\x1a\n")])
def test_chart_file(ledger_db: str, runner: CliRunner, tmp_path: Path, name: str,
                    magic: bytes) -> None:
    target = tmp_path / name
    result = runner.invoke(app, ["report", "delivery", "--chart", str(target)])
    assert result.exit_code == 0, result.output
    assert f"chart written to {target}" in result.output.replace("\n", "")
    assert target.read_bytes().lstrip().startswith(magic)


def test_errors_are_one_line_with_exit_codes(ledger_db: str, runner: CliRunner) -> None:
    bad_chart = runner.invoke(app, ["report", "areas", "--chart", "x.gif"])
    assert bad_chart.exit_code == 2 and "must end in .png or .svg" in bad_chart.output
    unknown = runner.invoke(app, ["report", "areas", "--as", "nobody"])
    assert unknown.exit_code == 4 and "no user named 'nobody'" in unknown.output
    donor = runner.invoke(app, ["report", "donors", "--donor", "XXX"])
    assert donor.exit_code == 2 and "donor" in donor.output
