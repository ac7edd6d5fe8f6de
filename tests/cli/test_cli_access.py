"""`coalition users|tokens|audit` and `formats handover` on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from coalition.access import service as access_service
from coalition.access.labels import Releasability
from coalition.cli.main import app
from coalition.db import session_scope
from coalition.errors import Unauthenticated
from tests import factories
from tests.factories import build_world


@pytest.fixture
def world_db(cli_db: str, runner: CliRunner) -> str:
    """The factories' world (UDCG led by the USA), committed to the CLI's database."""
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with session_scope() as session:
        build_world(session)
        factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    return cli_db


def _authenticates(token: str) -> str | None:
    try:
        with session_scope() as session:
            return access_service.authenticate(session, token=token).name
    except Unauthenticated:
        return None


def _run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_users_create_prints_a_working_token_once(world_db: str, runner: CliRunner) -> None:
    out = _run(runner, "users", "create", "desk-kor", "--role", "national", "--nation", "aus",
               "--expires-days", "30", "--label", "pilot")
    token = out.strip().splitlines()[-1]
    assert token.startswith("coal_") and "shown once" in out
    assert _authenticates(token) == "desk-kor"
    listed = _run(runner, "tokens", "list", "desk-kor", "--json")
    assert token not in listed
    (row,) = json.loads(listed)
    assert token.startswith(row["prefix"]) and row["label"] == "pilot" and row["expires_at"]
    assert row["last_used_at"] is not None
    users = json.loads(_run(runner, "users", "list", "--json"))
    kor = next(u for u in users if u["name"] == "desk-kor")
    assert kor["participant"]["code"] == "AUS" and kor["active_tokens"] == 1


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--role", "national"], 2, "needs --nation"),
    (["--role", "coordinator"], 2, "needs --format"),
    (["--role", "national", "--nation", "ZZZ"], 2, "unknown participant"),
    (["--role", "wizard"], 2, "wizard"),
])
def test_users_create_refuses_incomplete_users(world_db: str, runner: CliRunner,
                                               args: list[str], code: int, message: str
                                               ) -> None:
    out = _run(runner, "users", "create", "someone", *args, code=code)
    assert message in out
    assert "someone" not in _run(runner, "users", "list")


def test_duplicate_user_is_a_conflict(world_db: str, runner: CliRunner) -> None:
    assert "already exists" in _run(runner, "users", "create", "pol", "--role", "observer",
                                    code=5)


def test_tokens_create_and_revoke(world_db: str, runner: CliRunner) -> None:
    token = _run(runner, "tokens", "create", "admin").strip().splitlines()[-1]
    assert _authenticates(token) == "admin"
    issued = json.loads(_run(runner, "tokens", "create", "admin", "--json"))
    assert _authenticates(issued["token"]) == "admin"
    _run(runner, "tokens", "revoke", str(issued["id"]))
    assert _authenticates(issued["token"]) is None
    assert _authenticates(token) == "admin"
    rows = json.loads(_run(runner, "tokens", "list", "--json"))
    assert {r["id"]: bool(r["revoked_at"]) for r in rows}[issued["id"]] is True
    assert "no token with id 424242" in _run(runner, "tokens", "revoke", "424242", code=4)


def test_users_revoke_deactivates_and_revokes_tokens(world_db: str, runner: CliRunner) -> None:
    token = _run(runner, "tokens", "create", "pol").strip().splitlines()[-1]
    assert "deactivated" in _run(runner, "users", "revoke", "pol")
    assert _authenticates(token) is None
    assert "deactivated" in _run(runner, "tokens", "create", "pol", code=5)
    users = json.loads(_run(runner, "users", "list", "--json"))
    pol = next(u for u in users if u["name"] == "pol")
    assert pol["is_active"] is False and pol["active_tokens"] == 0


def test_audit_verify_exit_code_follows_the_chain(world_db: str, runner: CliRunner) -> None:
    assert "audit chain intact" in _run(runner, "audit", "verify")
    path = world_db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        victim = conn.execute("SELECT id FROM audit_entries ORDER BY id LIMIT 1 OFFSET 5"
                              ).fetchone()[0]
        conn.execute("DELETE FROM audit_entries WHERE id = ?", (victim,))
    out = _run(runner, "audit", "verify", code=1)
    assert f"BROKEN at entry {victim}" in out and "deleted" in out
    report = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert report["ok"] is False and report["first_bad_id"] == victim


def test_audit_log_filters(world_db: str, runner: CliRunner) -> None:
    entries = json.loads(_run(runner, "audit", "log", "--target", "pledges", "--json"))
    assert [e["action"] for e in entries] == ["pledge.create"]
    assert entries[0]["releasability"] == "NATO" and entries[0]["after"]["donor_id"]
    users = json.loads(_run(runner, "audit", "log", "--action", "user", "--limit", "3",
                            "--json"))
    assert len(users) == 3 and all(e["action"].startswith("user.") for e in users)
    assert json.loads(_run(runner, "audit", "log", "--actor", "nobody", "--json")) == []
    assert "pledges:" in _run(runner, "audit", "log", "--limit", "5")


def test_handover_dry_run_then_execute(world_db: str, runner: CliRunner) -> None:
    plan = json.loads(_run(runner, "formats", "handover", "UDCG", "--to", "NATO", "--dry-run",
                           "--on", "2024-07-10", "--json"))
    assert [m["participant"] for m in plan["members_losing_sight"]] == ["JPN", "AUS", "UKR"]
    assert plan["relabel"] == []
    table = _run(runner, "formats", "handover", "UDCG", "--to", "NATO", "--dry-run")
    assert "dry run: nothing changed" in table and "--relabel-coalition" in table
    shown = json.loads(_run(runner, "formats", "show", "UDCG", "--json"))
    assert shown["format"]["lead"]["code"] == "USA"
    done = json.loads(_run(runner, "formats", "handover", "UDCG", "--to", "NATO",
                           "--relabel-coalition", "--on", "2024-07-10", "--json"))
    assert done["relabelled"] == 1 and done["carried_over_after"] == done["plan"]["carried_over"]
    shown = json.loads(_run(runner, "formats", "show", "UDCG", "--json"))
    assert [x["participant"]["code"] for x in shown["leads"]] == ["USA", "NATO"]
    assert "already leads" in _run(runner, "formats", "handover", "UDCG", "--to", "NATO",
                                   code=5)
    assert "audit chain intact" in _run(runner, "audit", "verify")


def test_demo_load_on_existing_database_names_the_token_command(world_db: str,
                                                                runner: CliRunner) -> None:
    out = _run(runner, "demo", "load")
    assert "already loaded" in out and "coalition tokens create admin" in out
