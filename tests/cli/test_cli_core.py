"""The core commands end to end on a real SQLite file: migrate, load the demo, list, show."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app

pytestmark = pytest.mark.slow


def test_config_show_masks_secrets(cli_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["secret_key"] == "********"
    assert "cli-test-secret-value" not in result.output


def test_demo_end_to_end(cli_db: str, runner: CliRunner) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    loaded = runner.invoke(app, ["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert "admin token" in loaded.output
    result = runner.invoke(app, ["pledges", "list", "--donor", "DEU", "--status", "delivered",
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(r["donor"]["code"] == "DEU" and r["status"] == "delivered"
                        for r in rows)
    shown = runner.invoke(app, ["pledges", "show", str(rows[0]["id"]), "--json"])
    assert json.loads(shown.output)["history"][-1]["to_status"] == "delivered"
    formats = json.loads(runner.invoke(app, ["formats", "list", "--json"]).output)
    assert {f["code"] for f in formats} == {"UDCG", "NSATU"}
    again = runner.invoke(app, ["demo", "load"])
    assert "already loaded" in again.output


def test_domain_error_is_one_line_with_exit_code(cli_db: str, runner: CliRunner) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["pledges", "show", "999999"])
    assert result.exit_code == 4
    assert "no pledge with id 999999" in result.output
    bad = runner.invoke(app, ["pledges", "list", "--donor", "ZZZ"])
    assert bad.exit_code == 2 and "donor" in bad.output
