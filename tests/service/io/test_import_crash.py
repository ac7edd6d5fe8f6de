"""Killing `coalition import pledges` while it writes leaves no partial rows behind."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from coalition import migrate
from coalition.db import session_scope
from tests.conftest import PG_URL, new_engine
from tests.factories import build_world
from tests.service.io.files import PLEDGE_HEADER, counts, pledge_row

pytestmark = pytest.mark.slow

ROWS = 100_000


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A fresh database with the world, and the URL a child process reaches it by."""
    folder = tmp_path / "db"
    folder.mkdir()
    for engine in new_engine(backend, folder):
        with engine.begin() as connection:
            migrate.upgrade(connection=connection)
            schema = connection.scalar(text("SELECT current_schema()")) \
                if backend == "postgresql" else None
        with session_scope(engine) as session:
            build_world(session)
        url = (f"{PG_URL}?options=-csearch_path%3D{schema}" if schema
               else str(engine.url))
        yield engine, url


def writing_started(engine: Engine) -> Callable[[], bool]:
    if engine.dialect.name == "postgresql":
        # COPY into pledges takes ROW EXCLUSIVE on it: the child is inserting rows.
        sql = text("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                   "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'pledges' "
                   "AND n.nspname = current_schema() AND l.mode = 'RowExclusiveLock' "
                   "AND l.pid <> pg_backend_pid()")

        def locked() -> bool:
            with engine.connect() as connection:
                return bool(connection.scalar(sql))

        return locked
    path = engine.url.database
    assert path is not None

    def reserved() -> bool:
        # Once the child holds SQLite's write lock, another writer is refused at once.
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            return True
        finally:
            probe.close()

    return reserved


def test_a_killed_import_leaves_no_partial_rows(database: tuple[Engine, str],
                                                tmp_path: Path) -> None:
    engine, url = database
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLEDGE_HEADER)
        writer.writerows(pledge_row(f"K-{n:06d}", donor=("POL", "DEU", "USA")[n % 3],
                                    status=("", "confirmed")[n % 2]) for n in range(ROWS))
    with session_scope(engine) as session:
        before = counts(session)
        indexes = {i["name"] for i in inspect(session.connection()).get_indexes("pledges")}
    env = {**os.environ, "COALITION_DATABASE_URL": url, "COALITION_SECRET_KEY": "x" * 32}
    child = subprocess.Popen([sys.executable, "-m", "coalition.cli.main", "import", "pledges",
                              str(path)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    started = writing_started(engine)
    deadline = time.monotonic() + 120
    try:
        while not started():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.02)
        time.sleep(0.3)
        assert child.poll() is None, "the import finished before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    with session_scope(engine) as session:
        assert counts(session) == before
        connection = session.connection()
        assert {i["name"] for i in inspect(connection).get_indexes("pledges")} == indexes
        migrate.check(connection=connection)
        if engine.dialect.name == "sqlite":
            assert connection.scalar(text("PRAGMA integrity_check")) == "ok"
