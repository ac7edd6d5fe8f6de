"""A digest of every table's rows, to show that read-only work changed nothing."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.all_models import Base


def database_digest(session: Session) -> dict[str, tuple[int, str]]:
    """Per table: row count and SHA-256 of its rows in primary-key order."""
    session.flush()
    out = {}
    for table in Base.metadata.sorted_tables:
        digest = hashlib.sha256()
        count = 0
        for row in session.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode("utf-8"))
            count += 1
        out[table.name] = (count, digest.hexdigest())
    return out
