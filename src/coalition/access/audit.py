"""The tamper-evident audit log: each write appends an entry chained by SHA-256.

An entry's hash covers the previous entry's hash and the entry's canonical JSON, so changing,
deleting or reordering any entry breaks verification at that entry.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.models import AuditEntry
from coalition.db import utcnow

GENESIS_HASH = "0" * 64

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

# Any constant works; it names the lock that serialises appends to the chain on PostgreSQL.
_PG_AUDIT_LOCK_KEY = 0x636F616C


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """Column values of an ORM object, JSON-ready."""
    mapper = inspect(obj).mapper
    return {attr.key: _jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_jsonable)


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """The fields the hash covers (everything but the hash itself and the row id)."""
    return {
        "at": _jsonable(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
        "releasability": entry.releasability,
        "owner_participant_id": entry.owner_participant_id,
        "format_id": entry.format_id,
        "prev_hash": entry.prev_hash,
    }


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(
        (entry.prev_hash + canonical_json(entry_payload(entry))).encode("utf-8")
    ).hexdigest()


def _head_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent writers must not both chain onto the same head.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK_KEY})
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS_HASH


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target: Any = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Appends one entry in the caller's transaction; labels are copied from the target."""
    if target is not None:
        target_type = target_type or target.__tablename__
        target_id = target_id if target_id is not None else target.id
        if after is None and inspect(target).persistent:
            after = snapshot(target)
    if target_type is None or target_id is None:
        raise ValueError("audit.record needs a target or target_type and target_id")
    owner_column = getattr(type(target), "__owner_column__", None) if target is not None else None
    session.flush()
    entry = AuditEntry(
        at=utcnow(),
        actor=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=None if before is None else canonical_json(before),
        after=None if after is None else canonical_json(after),
        request_id=request_id_var.get(),
        releasability=str(_jsonable(getattr(target, "releasability", "NATIONAL"))),
        owner_participant_id=getattr(target, owner_column) if owner_column else None,
        format_id=getattr(target, "format_id", None),
        prev_hash=_head_hash(session),
    )
    entry.hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str = ""


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walks the chain in id order and names the first entry that does not fit."""
    prev = GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(ok=True, entries=count)
        for entry in rows:
            if entry.prev_hash != prev:
                return ChainReport(False, count, entry.id,
                                   "previous hash does not match: an entry before it was "
                                   "deleted, inserted or reordered")
            if compute_hash(entry) != entry.hash:
                return ChainReport(False, count, entry.id, "content does not match its hash")
            prev = entry.hash
            count += 1
            last_id = entry.id
        session.expunge_all()
