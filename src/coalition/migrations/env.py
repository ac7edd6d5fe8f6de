"""Alembic environment: migrates the connection it is handed, or the configured database."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from coalition.all_models import Base
from coalition.config import get_settings
from coalition.db import exists_on, make_engine

config = context.config
target_metadata = Base.metadata


def _on_this_dialect(connection: Connection) -> Any:
    """Autogenerate compares an object made for one dialect only (`ddl_if`) on that one."""
    def include(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
        return exists_on(obj, connection.dialect.name)
    return include


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_on_this_dialect(connection),
        # SQLite alters tables by copy-and-move; batch mode makes later migrations work there.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
