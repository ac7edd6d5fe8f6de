"""Engine, sessions and the column types shared by every domain's tables."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Enum,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from coalition.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are plain INTEGER there.
BigId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite").with_variant(
    postgresql.BIGINT(), "postgresql"
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[enum.StrEnum], name: str) -> Enum:
    """Enum stored as plain strings with a CHECK: portable, readable in SQL, extendable."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Table options of the tables whose derived counters every batch of delivery events rewrites:
# half of each page left free, so PostgreSQL rewrites a row in place (a HOT update, no index
# touched) as long as no indexed column changes (migration 0005_ingest).
ROOM_FOR_UPDATES: dict[str, Any] = {"postgresql_with": {"fillfactor": 50}}


def exists_on(schema_item: Any, dialect: str) -> bool:
    """Whether a table's index or constraint is made on this dialect (see `ddl_if`)."""
    only = getattr(schema_item, "_ddl_if", None)
    return only is None or only.dialect in (None, dialect)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend; naive input is refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: Coalition stores UTC-aware times only")
        value = value.astimezone(dt.UTC)
        # SQLite has no timezone type: store naive UTC text so ordering stays lexical.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; we emit
    # BEGIN ourselves (see _sqlite_begin), as SQLAlchemy's documentation recommends.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Execution option of a unit of work that writes; see _sqlite_begin.
WRITE_LOCK = "coalition_write_lock"


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that has read and then writes fails at once with "database is
    # locked" if another writer committed meanwhile: its snapshot is stale and waiting cannot
    # help. Units of work that write therefore take the write lock up front and queue
    # (busy_timeout) behind each other; plain connections and read-only requests stay deferred
    # and never wait for a writer.
    immediate = conn.get_execution_options().get(WRITE_LOCK, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings every Coalition connection needs."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        # Web requests and worker threads share the pool; SQLite itself serialises writers.
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work on the configured database (or `engine`)."""
    factory = _session_factory() if engine is None else sessionmaker(
        bind=engine, expire_on_commit=False
    )
    with unit_of_work(factory) as session:
        yield session


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, reads: bool = False) -> Iterator[Session]:
    """Committed when the block ends, rolled back if it raises: the caller owns the transaction.
    `reads` marks work that only reads, so SQLite need not take the write lock for it."""
    session = factory() if reads else factory(execution_options={WRITE_LOCK: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
