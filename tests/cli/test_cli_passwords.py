"""`coalition users set-password`: prompted, from stdin, or generated and shown once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coalition.access import passwords
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Role
from coalition.cli.main import app
from coalition.db import session_scope

pytestmark = pytest.mark.slow


def _user(runner: CliRunner) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with session_scope() as session:
        access_service.create_user(session, actor=SYSTEM, name="ops", role=Role.ADMIN)


def _signs_in(password: str) -> bool:
    with session_scope() as session:
        return passwords.authenticate_password(session, name="ops", password=password).name == "ops"


def test_set_password_from_stdin(cli_db: str, runner: CliRunner) -> None:
    _user(runner)
    result = runner.invoke(app, ["users", "set-password", "ops", "--password-stdin"],
                           input="a fine long passphrase\n")
    assert result.exit_code == 0, result.output
    assert _signs_in("a fine long passphrase")


def test_generated_password_is_printed_once_and_works(cli_db: str, runner: CliRunner) -> None:
    _user(runner)
    result = runner.invoke(app, ["users", "set-password", "ops", "--generate"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown once): ")[1].strip()
    assert _signs_in(password)


def test_prompt_asks_twice_and_refuses_weak_passwords(cli_db: str, runner: CliRunner) -> None:
    _user(runner)
    result = runner.invoke(app, ["users", "set-password", "ops"], input="short\nshort\n")
    assert result.exit_code == 2
    assert "at least 12 characters" in result.output


def test_unknown_user_exits_4(cli_db: str, runner: CliRunner) -> None:
    _user(runner)
    result = runner.invoke(app, ["users", "set-password", "ghost", "--generate"])
    assert result.exit_code == 4
    assert "no user named 'ghost'" in result.output
