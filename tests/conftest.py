"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: COALITION_TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/test; each run
works in its own schema, dropped afterwards. Unreachable: skipped with one loud line, except
when CI is set, where it fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from coalition import migrate
from coalition.db import make_engine
from tests.factories import World, build_world

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
_pg_problem: str | None = None


def _pg_reachable() -> str | None:
    try:
        engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _pg_problem
    _pg_problem = _pg_reachable()
    if _pg_problem:
        message = f"PostgreSQL at {PG_URL} is NOT reachable ({_pg_problem})"
        if os.environ.get("CI"):
            raise pytest.UsageError(message + "; CI is set, so this fails the run")
        print(f"\n!!! {message}: PostgreSQL tests are SKIPPED !!!\n")


def pytest_report_header(config: pytest.Config) -> str:
    return f"postgresql: {'unreachable: ' + _pg_problem if _pg_problem else PG_URL}"


def _postgres_engine() -> Iterator[Engine]:
    if _pg_problem:
        pytest.skip(f"PostgreSQL unreachable: {_pg_problem}")
    schema = f"coalition_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _sqlite_engine(tmp: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp / 'coalition-test.db'}")
    yield engine
    engine.dispose()


def new_engine(backend: str, tmp: Path) -> Iterator[Engine]:
    """A fresh, empty database of the given backend (for tests that need their own)."""
    if backend == "postgresql":
        yield from _postgres_engine()
    else:
        yield from _sqlite_engine(tmp)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    for eng in new_engine(backend, tmp_path_factory.mktemp(backend)):
        with eng.begin() as conn:
            migrate.upgrade(connection=conn)
        yield eng


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits are savepoints inside the test's rolled-back transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)
