"""Schema migrations through Alembic, usable without an ini file (installed package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(*, url: str | None = None, connection: Connection | None = None,
            revision: str = "heads") -> None:
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(*, url: str | None = None, connection: Connection | None = None,
              revision: str = "base") -> None:
    command.downgrade(alembic_config(url, connection), revision)


def check(*, url: str | None = None, connection: Connection | None = None) -> None:
    """Raises if the models drifted from the migrations."""
    command.check(alembic_config(url, connection))
