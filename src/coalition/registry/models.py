"""Tables of the registry: who takes part, in which formats, led by whom."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.catalog.models import CapabilityArea
from coalition.db import Base, BigId, UTCDateTime, str_enum, utcnow


class ParticipantKind(enum.StrEnum):
    STATE = "state"
    ORGANISATION = "organisation"
    COALITION = "coalition"


class CoalitionRole(enum.StrEnum):
    LEAD = "lead"
    MEMBER = "member"


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[ParticipantKind] = mapped_column(str_enum(ParticipantKind, "participant_kind"))
    name: Mapped[str] = mapped_column(String(200))
    nato_member_since: Mapped[int | None] = mapped_column(Integer)
    eu_member_since: Mapped[int | None] = mapped_column(Integer)
    eu_member_until: Mapped[int | None] = mapped_column(Integer)
    gdp_usd: Mapped[int | None] = mapped_column(BigInteger)
    gdp_year: Mapped[int | None] = mapped_column(Integer)
    is_donor: Mapped[bool] = mapped_column(Boolean, default=False)
    is_recipient: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_nato_member(self, on: dt.date) -> bool:
        return self.nato_member_since is not None and self.nato_member_since <= on.year


class Format(Base):
    __tablename__ = "formats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    lead_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Participant | None] = relationship(lazy="joined")


class FormatLead(Base):
    """Every lead a format has had; the open row (ended_on is null) is the current one."""

    __tablename__ = "format_leads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")

    participant: Mapped[Participant] = relationship(lazy="joined")


class FormatMembership(Base):
    __tablename__ = "format_memberships"
    __table_args__ = (UniqueConstraint("format_id", "participant_id", "joined_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    joined_on: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)

    participant: Mapped[Participant] = relationship(lazy="joined")


class CapabilityCoalition(Base):
    __tablename__ = "capability_coalitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    capability_area: Mapped[CapabilityArea] = mapped_column(
        str_enum(CapabilityArea, "capability_area")
    )
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[CoalitionMember]] = relationship(
        lazy="selectin", order_by="CoalitionMember.id", cascade="all, delete-orphan"
    )


class CoalitionMember(Base):
    __tablename__ = "coalition_members"
    __table_args__ = (UniqueConstraint("coalition_id", "participant_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coalition_id: Mapped[int] = mapped_column(ForeignKey("capability_coalitions.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    role: Mapped[CoalitionRole] = mapped_column(str_enum(CoalitionRole, "coalition_role"))
    joined_on: Mapped[dt.date] = mapped_column(Date)

    participant: Mapped[Participant] = relationship(lazy="joined")
