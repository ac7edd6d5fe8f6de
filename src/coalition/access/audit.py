"""The tamper-evident audit log: each write appends an entry chained by SHA-256.

An entry's hash covers the previous entry's hash and the entry's canonical JSON, so changing,
deleting or reordering any entry breaks verification at that entry. The one-row `audit_head`
remembers where the chain ended, so cutting off its newest entries shows as well.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, insert, inspect, or_, select, text, update
from sqlalchemy.orm import Session

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.access.models import AuditEntry, AuditHead
from coalition.access.visibility import is_labelled, visible
from coalition.db import utcnow
from coalition.errors import ValidationFailed
from coalition.paging import Page, paginate

GENESIS_HASH = "0" * 64
_HEAD_ID = 1

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
    """Column values of an ORM object, JSON-ready; secret columns (password and token hashes)
    are left out, because coordinators read the log."""
    mapper = inspect(obj).mapper
    return {attr.key: _jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs
            if not any(col.info.get("secret") for col in attr.columns)}


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
        # Keyed by schema: databases sharing a server (tests, benchmarks) have their own chains.
        session.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                        {"k": _PG_AUDIT_LOCK_KEY})
    # Chaining onto the recorded head (not the newest row) means an entry deleted from the
    # end still breaks the link of the next append.
    head = session.scalar(select(AuditHead.last_hash).where(AuditHead.id == _HEAD_ID))
    if head is not None:
        return head
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS_HASH


def _move_head(session: Session, entry: AuditEntry) -> None:
    moved = cast(CursorResult[Any], session.execute(
        update(AuditHead).where(AuditHead.id == _HEAD_ID)
        .values(entries=AuditHead.entries + 1, last_id=entry.id, last_hash=entry.hash)
        .execution_options(synchronize_session=False))).rowcount
    if moved != 1:
        entries = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        session.execute(insert(AuditHead).values(id=_HEAD_ID, entries=entries,
                                                 last_id=entry.id, last_hash=entry.hash))


def _label_source(target: Any) -> Any:
    """The record whose label an entry copies: the target, or what it derives from.

    An allocation carries no label of its own; it is as releasable as its pledge
    (`__label_source__ = "pledge"`).
    """
    source_attr = getattr(type(target), "__label_source__", None)
    return getattr(target, source_attr) if source_attr else target


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
    # Only labelled records lend their label; anything else (users, tokens, the registry) is
    # NATIONAL without owner or format: administrators alone read it.
    source = _label_source(target) if target is not None else None
    if source is not None and not is_labelled(type(source)):
        source = None
    owner_column = getattr(type(source), "__owner_column__", None) if source is not None else None
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
        releasability=str(_jsonable(getattr(source, "releasability", "NATIONAL"))),
        owner_participant_id=getattr(source, owner_column) if owner_column else None,
        format_id=getattr(source, "format_id", None),
        prev_hash=_head_hash(session),
    )
    entry.hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    _move_head(session, entry)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """`first_bad_id` names the entry that was changed, deleted or moved; `reason` says which."""

    ok: bool
    entries: int
    first_bad_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH


def _broken_link(session: Session, entry: AuditEntry, previous: AuditEntry | None
                 ) -> tuple[int, str]:
    """Why `entry` (intact itself) does not link to the entry walked before it."""
    linked = session.scalar(select(AuditEntry.id).where(AuditEntry.hash == entry.prev_hash))
    prev_id = previous.id if previous is not None else 0
    if linked is not None and linked > entry.id:
        return entry.id, (f"reordered: entry {entry.id} links back to entry {linked}, which "
                          "now comes after it")
    if linked is not None:
        return entry.id, (f"reordered: entry {entry.id} belongs directly after entry {linked}, "
                          f"not after entry {prev_id}")
    if entry.id == prev_id + 1 and previous is not None:
        # No id is missing, yet the entry before changed its hash: rewritten and re-hashed.
        return previous.id, (f"changed: entry {previous.id} was rewritten and its hash "
                             f"recomputed (entry {entry.id} links to a hash no entry has)")
    if previous is None:
        return entry.id - 1, (f"deleted: the first entry ({entry.id - 1}) is missing (entry "
                              f"{entry.id} links to a hash no entry has)")
    if entry.id == prev_id + 2:
        return prev_id + 1, (f"deleted: entry {prev_id + 1} is missing (entry {entry.id} links "
                             "to a hash no entry has)")
    return entry.id, (f"deleted: an entry between {prev_id} and {entry.id} is missing "
                      f"(entry {entry.id} links to a hash no entry has)")


def _check_head(session: Session, count: int, last: AuditEntry | None) -> ChainReport:
    head = session.scalar(select(AuditHead).where(AuditHead.id == _HEAD_ID))
    last_hash = last.hash if last is not None else GENESIS_HASH
    if head is None:
        if last is None:
            return ChainReport(True, 0)
        return ChainReport(False, count, last.id, "the chain head record (audit_head) is missing",
                           last_hash)
    if last is not None and head.last_id == last.id and head.last_hash == last.hash \
            and head.entries == count:
        return ChainReport(True, count, head_hash=last_hash)
    if last is not None and head.last_id == last.id:
        return ChainReport(False, count, last.id,
                           f"changed: entry {last.id}, the newest, does not match the recorded "
                           "head (rewritten and re-hashed)", last_hash)
    if last is None or head.last_id > last.id:
        return ChainReport(False, count, head.last_id,
                           f"deleted: the chain ends at entry {last.id if last else 0} but the "
                           f"head records {head.entries} entries up to entry {head.last_id}; "
                           "the newest entries were removed", last_hash)
    return ChainReport(False, count, last.id,
                       f"appended outside the audit log: the head records entry {head.last_id} "
                       f"as the newest, the chain goes on to entry {last.id}", last_hash)


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walks the chain in id order and names the first entry that does not fit."""
    prev_hash = GENESIS_HASH
    previous: AuditEntry | None = None
    count = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return _check_head(session, count, previous)
        for entry in rows:
            if compute_hash(entry) != entry.hash:
                return ChainReport(False, count, entry.id,
                                   f"changed: the content of entry {entry.id} does not match "
                                   "its hash", prev_hash)
            if entry.prev_hash != prev_hash:
                bad_id, reason = _broken_link(session, entry, previous)
                return ChainReport(False, count, bad_id, reason, prev_hash)
            prev_hash = entry.hash
            previous = entry
            count += 1
            last_id = entry.id
        # Keep memory flat on long chains without detaching the caller's own objects.
        for entry in rows:
            session.expunge(entry)


def parse_target(value: str) -> tuple[str, str | None]:
    """`pledges` or `pledges:42` (the table name, optionally one record's id)."""
    target_type, _, target_id = value.partition(":")
    if not target_type.strip():
        raise ValidationFailed.single("target", "expected TYPE or TYPE:ID, e.g. pledges:42",
                                      value)
    return target_type.strip(), target_id.strip() or None


def log_query(*, actor: Actor, target: str | None = None, actor_name: str | None = None,
              action: str | None = None) -> Select[AuditEntry]:
    """The entries the actor may read, labelled like the records they describe."""
    policy.ensure(actor, policy.READ_AUDIT)
    stmt = visible(select(AuditEntry), actor, AuditEntry)
    if target:
        target_type, target_id = parse_target(target)
        stmt = stmt.where(AuditEntry.target_type == target_type)
        if target_id is not None:
            stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor_name:
        # Actors are recorded as "name" or "name (NATION)".
        stmt = stmt.where(or_(AuditEntry.actor == actor_name,
                              AuditEntry.actor.startswith(actor_name + " (", autoescape=True)))
    if action:
        # `pledge` matches every pledge.* action; `pledge.create` only itself.
        stmt = stmt.where(or_(AuditEntry.action == action,
                              AuditEntry.action.startswith(action + ".", autoescape=True)))
    return stmt


def list_entries(session: Session, *, actor: Actor, target: str | None = None,
                 actor_name: str | None = None, action: str | None = None, limit: int = 50,
                 cursor: str | None = None) -> Page[AuditEntry]:
    """Newest first. Coordinators see the entries of records they may see; admins all."""
    stmt = log_query(actor=actor, target=target, actor_name=actor_name, action=action)
    return paginate(session, stmt, id_column=AuditEntry.id, sortable={"id": AuditEntry.id},
                    sort="-id", limit=limit, cursor=cursor)


def verify(session: Session, *, actor: Actor) -> ChainReport:
    """Coordinators and admins may check the chain; it tells them nothing about content."""
    policy.ensure(actor, policy.READ_AUDIT)
    return verify_chain(session)
