"""CLI fixtures: a fresh, migrated SQLite file database the commands talk to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coalition import db
from coalition.config import get_settings


def reset_caches() -> None:
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("COALITION_DATABASE_URL", url)
    monkeypatch.setenv("COALITION_SECRET_KEY", "cli-test-secret-value")
    reset_caches()
    yield url
    db.get_engine().dispose()
    reset_caches()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
