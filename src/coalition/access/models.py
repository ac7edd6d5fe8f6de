"""Tables of users, their API tokens and the append-only audit chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.access.labels import Role
from coalition.db import Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.registry.models import Format, Participant


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    # The nation (or organisation) a national, recipient or analyst user speaks for.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    # The coordination format a coordinator runs the secretariat of.
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"))
    # Secret columns never reach the audit log (see audit.snapshot).
    password_hash: Mapped[str | None] = mapped_column(String(200), info={"secret": True})
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant | None] = relationship(lazy="joined")
    format: Mapped[Format | None] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token, stored only as the SHA-256 of its high-entropy secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"secret": True})
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    """One write, chained: `hash` covers `prev_hash` and the entry's canonical JSON."""

    __tablename__ = "audit_entries"
    # Entries are labelled like the record they describe, so the audit view filters them with
    # the same visibility rule as the records themselves.
    __owner_column__ = "owner_participant_id"
    # `coalition audit log --target pledges:42` looks entries up by both. An entry's id is
    # never reused (SQLite would hand a deleted newest id out again without AUTOINCREMENT).
    __table_args__ = (Index("ix_audit_entries_target", "target_type", "target_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(60), index=True)
    target_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    releasability: Mapped[str] = mapped_column(String(16), default="NATIONAL")
    owner_participant_id: Mapped[int | None] = mapped_column(BigId)
    format_id: Mapped[int | None] = mapped_column(BigId)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's end as of the last append (one row).

    A hash chain alone cannot show that its newest entries were cut off; comparing the walked
    chain with this row can. `audit.record` updates it in the same transaction as the append.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
