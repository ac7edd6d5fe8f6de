"""`coalition match`, `allocations approve|decline` and `scenario withdraw` on a SQLite file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from coalition.access.labels import Releasability
from coalition.cli.main import app
from coalition.db import session_scope
from tests import factories
from tests.factories import build_world


@pytest.fixture
def world_db(cli_db: str, runner: CliRunner) -> dict[str, int]:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with session_scope() as session:
        build_world(session)
        need = factories.requirement(session, quantity=100, priority=1)
        other = factories.requirement(session, item_type="152-a", quantity=40, priority=2)
        factories.pledge(session, donor="POL", quantity=70, confirm=True)
        factories.pledge(session, donor="DEU", quantity=50, confirm=True)
        factories.pledge(session, donor="JPN", item_type="152-a", quantity=40, confirm=True,
                         releasability=Releasability.NATIONAL)
        session.flush()
        return {"need": need.id, "other": other.id}


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_run_stores_proposals_and_dry_run_does_not(world_db: dict[str, int],
                                                   runner: CliRunner) -> None:
    dry = _json(runner, "match", "run", "--dry-run")
    run = _json(runner, "match", "run")
    table = runner.invoke(app, ["match", "run", "--dry-run"])

    assert dry["id"] is None and dry["proposals"] == run["proposals"] == 3
    assert run["id"] == 1 and run["objective"]["met_by_priority"] == [100, 40, 0, 0, 0]
    assert table.exit_code == 0 and "Matching dry run (nothing stored)" in table.output
    assert "met by priority 1..5" in table.output
    runs = _json(runner, "match", "runs")
    assert [r["id"] for r in runs] == [1]


def test_donor_approves_and_declines_as_its_desk(world_db: dict[str, int],
                                                 runner: CliRunner) -> None:
    run = _json(runner, "match", "run")
    (pol,) = _json(runner, "match", "proposals", "--run", str(run["id"]), "--donor", "POL")
    (deu,) = _json(runner, "match", "proposals", "--run", str(run["id"]), "--donor", "DEU")

    foreign = runner.invoke(app, ["allocations", "approve", str(pol["id"]), "--as-user", "deu"])
    approved = runner.invoke(app, ["allocations", "approve", str(pol["id"]), "--as-user", "pol"])
    declined = _json(runner, "allocations", "decline", str(deu["id"]), "--reason",
                     "kept in reserve", "--as-user", "deu")
    no_reason = runner.invoke(app, ["allocations", "decline", str(deu["id"])])

    assert foreign.exit_code == 3 and "own nation" in foreign.output
    assert approved.exit_code == 0, approved.output
    assert f"proposal {pol['id']} approved: allocation" in approved.output
    assert declined["status"] == "declined" and declined["decided_by"] == "deu (DEU)"
    assert no_reason.exit_code == 2
    statuses = {p["donor"]["code"]: p["status"]
                for p in _json(runner, "match", "proposals", "--run", str(run["id"]))}
    assert statuses == {"POL": "approved", "DEU": "declined", "JPN": "proposed"}
    rerun = _json(runner, "match", "run")
    assert rerun["excluded_pairs"] == 1 and rerun["superseded"] == 1


def test_explain_prints_why(world_db: dict[str, int], runner: CliRunner) -> None:
    _json(runner, "match", "run")
    text = runner.invoke(app, ["match", "explain", str(world_db["need"])])
    as_pol = _json(runner, "match", "explain", str(world_db["need"]), "--as-user", "pol")
    unknown = runner.invoke(app, ["match", "explain", "999"])

    assert text.exit_code == 0, text.output
    assert f"Requirement {world_db['need']} (priority 1): needs 100, proposed 100" in text.output
    assert "(run 1)" in text.output
    assert as_pol["run_id"] is None  # a national desk gets a fresh solve of what it sees
    assert unknown.exit_code == 4


def test_withdraw_one_donor_and_the_top(world_db: dict[str, int], runner: CliRunner) -> None:
    jpn = _json(runner, "scenario", "withdraw", "JPN")
    top = _json(runner, "scenario", "withdraw", "--top", "3")
    table = runner.invoke(app, ["scenario", "withdraw", "POL", "--from", "2024-01-01"])
    neither = runner.invoke(app, ["scenario", "withdraw"])

    assert [(g["requirement_id"], g["quantity_lost"]) for g in jpn["gaps"]] == [
        (world_db["other"], 40)]
    assert jpn["critical_requirements_losing"] == 1
    assert [d["rank"] for d in top["donors"]] == [1, 2, 3]
    # One critical need each; POL's departure loses 50 units of it, JPN's 40, DEU's 30.
    assert [(d["donor"]["code"], d["critical_quantity_lost"]) for d in top["donors"]] == [
        ("POL", 50), ("JPN", 40), ("DEU", 30)]
    assert table.exit_code == 0, table.output
    assert "Lost coverage by capability area and priority" in table.output
    assert neither.exit_code == 2
