"""`coalition hubs`, `shipments`, `events import` and `meetings show` on a real SQLite file."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coalition.access.actor import SYSTEM
from coalition.cli.main import app
from coalition.db import session_scope
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from tests.factories import build_world
from tests.service.logistics import kit

FIELDS = ["external_id", "shipment", "kind", "occurred_at", "source", "hub", "allocation_id",
          "quantity_received", "quantity_damaged", "quantity_missing", "note"]


@pytest.fixture
def allocation_id(cli_db: str, runner: CliRunner) -> int:
    """A migrated database with the test world, its sites and one allocation of 100."""
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with session_scope() as session:
        build_world(session)
        kit.make_sites(session)
        allocation = kit.allocation(session, quantity=100)
        meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
            format="UDCG", title="UDCG meeting, Ramstein", held_on=dt.date(2024, 6, 13),
            place="Ramstein Air Base", chair="USA"))
        meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                                 pledge_id=allocation.pledge_id)
        return allocation.id


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _plan(runner: CliRunner, allocation_id: int) -> None:
    _ok(runner, "shipments", "create", "--reference", "SHP-1", "--from", "POL-WAW",
        "--leg", "POL-RZE:road:PL-CONVOY-7", "--leg", "UKR-LWO:rail:UZ-4471",
        "--line", f"{allocation_id}:100", "--depart", "2024-07-01T08:00+0000",
        "--arrive", "2024-07-04T08:00+0000")


def test_hubs_add_and_list(allocation_id: int, runner: CliRunner) -> None:
    out = _ok(runner, "hubs", "add", "ROU-SCV", "--name", "Suceava", "--kind", "logistics_hub",
              "--country", "POL", "--lat", "47.6875", "--lon", "26.3541")
    assert "site ROU-SCV recorded" in out
    hubs = json.loads(_ok(runner, "hubs", "list", "--kind", "logistics_hub", "--json"))
    assert [h["code"] for h in hubs] == ["DEU-RMS", "POL-RZE", "ROU-SCV"]
    assert hubs[2]["latitude"] == "47.687500"


def test_plan_import_and_follow_a_shipment(allocation_id: int, runner: CliRunner,
                                          tmp_path: Path) -> None:
    _plan(runner, allocation_id)
    rows = kit.journey("SHP-1", allocation_id, 90)
    rows.append(kit.event("SHP-1-7", "SHP-1", "received", 41, allocation_id=allocation_id,
                          quantity_damaged=10))
    for row in rows:
        row.pop("source")
    path = _csv(tmp_path / "events.csv", rows)
    out = _ok(runner, "events", "import", str(path), "--source", "LOGFAS")
    assert "7 rows in 1 batch(es): 7 new events, 0 already recorded" in out
    again = _ok(runner, "events", "import", str(path), "--json")
    assert json.loads(again[again.index("{"):]) == {"rows": 7, "inserted": 0, "duplicates": 7,
                                                    "batches": 1}
    shown = json.loads(_ok(runner, "shipments", "show", "1", "--json"))
    assert shown["shipment"]["status"] == "received"
    assert {e[7] for e in shown["events"]} == {"LOGFAS"}
    [gap] = json.loads(_ok(runner, "shipments", "discrepancies", "--json"))
    assert (gap["received"], gap["damaged"], gap["unaccounted"]) == (90, 10, 0)
    [donor] = json.loads(_ok(runner, "shipments", "by-donor", "--json"))
    assert (donor["donor"], donor["quantity_delivered"]) == ("POL", 90)
    report = json.loads(_ok(runner, "meetings", "show", "1", "--json"))
    assert report["totals"]["delivery_rate_quantity"] == "0.9000"
    assert "90.0%" in _ok(runner, "meetings", "show", "1")


def test_bad_row_stops_the_import_and_records_nothing(allocation_id: int, runner: CliRunner,
                                                      tmp_path: Path) -> None:
    _plan(runner, allocation_id)
    rows = kit.journey("SHP-1", allocation_id, 100)
    rows[3]["hub"] = "DEU-RMS"
    result = runner.invoke(app, ["events", "import", str(_csv(tmp_path / "bad.csv", rows))])
    assert result.exit_code == 2
    assert "row 5, hub: not on the route of shipment SHP-1" in result.output
    listed = json.loads(_ok(runner, "shipments", "list", "--json"))
    assert (listed[0]["status"], listed[0]["event_count"]) == ("planned", 0)


def test_json_lines_in_batches_and_the_queries(allocation_id: int, runner: CliRunner,
                                               tmp_path: Path) -> None:
    _plan(runner, allocation_id)
    path = tmp_path / "events.jsonl"
    rows = kit.journey("SHP-1", allocation_id, 100)[:3]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = _ok(runner, "events", "import", str(path), "--batch-size", "2")
    assert "3 rows in 2 batch(es): 3 new events" in out
    traffic = json.loads(_ok(runner, "hubs", "traffic", "POL-RZE", "--json"))
    assert [(t["shipment"], t["where"]) for t in traffic] == [("SHP-1", "at hub")]
    late = json.loads(_ok(runner, "shipments", "late", "--as-of", "2024-07-05T00:00+0000",
                          "--json"))
    assert [(x["shipment"], x["reason"]) for x in late] == [("SHP-1", "overdue")]
    trace = json.loads(_ok(runner, "shipments", "where", "1", "--json"))
    assert trace["allocations"][0]["shipments"][0]["position"] == "POL-RZE"
    assert "SHP-1" in _ok(runner, "shipments", "where", "1")


def test_bad_leg_is_a_usage_error(allocation_id: int, runner: CliRunner) -> None:
    result = runner.invoke(app, ["shipments", "create", "--reference", "X", "--from", "POL-WAW",
                                 "--leg", "UKR-LWO:teleport", "--line", f"{allocation_id}:1",
                                 "--depart", "2024-07-01T08:00+0000",
                                 "--arrive", "2024-07-02T08:00+0000"])
    assert result.exit_code == 2
    assert "teleport" in result.output
