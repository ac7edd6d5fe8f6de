"""Migrations: upgrade to head and back to base on both databases; models match migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from coalition import migrate
from coalition.all_models import Base
from tests.conftest import new_engine


@pytest.fixture
def empty_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    yield from new_engine(backend, tmp_path)


def test_upgrade_head_then_downgrade_base(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with empty_engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with empty_engine.begin() as conn:
        migrate.check(connection=conn)
    with empty_engine.begin() as conn:
        migrate.downgrade(connection=conn, revision="base")
    with empty_engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
