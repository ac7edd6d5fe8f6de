"""Tables of meetings, who attended, which pledges were announced and what was decided."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.access.labels import Releasability
from coalition.db import Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.registry.models import Format, Participant

if TYPE_CHECKING:
    from coalition.pledges.models import Pledge


class DecisionStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ADOPTED = "adopted"
    REJECTED = "rejected"


class Meeting(Base):
    __tablename__ = "meetings"
    __owner_column__ = "chair_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    is_virtual: Mapped[bool] = mapped_column(Boolean, default=False)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    agenda: Mapped[str] = mapped_column(String(4000), default="")
    releasability: Mapped[Releasability] = mapped_column(
        str_enum(Releasability, "releasability"), default=Releasability.PUBLIC
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    format: Mapped[Format] = relationship(lazy="joined")
    chair: Mapped[Participant | None] = relationship(lazy="joined")
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MeetingAttendee.id"
    )
    announcements: Mapped[list[MeetingAnnouncement]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MeetingAnnouncement.id"
    )
    decisions: Mapped[list[Decision]] = relationship(
        lazy="selectin", order_by="Decision.id", back_populates="meeting"
    )


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendees"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))

    participant: Mapped[Participant] = relationship(lazy="joined")


class MeetingAnnouncement(Base):
    """A pledge announced at a meeting (a pledge is announced at most once)."""

    __tablename__ = "meeting_announcements"
    __table_args__ = (UniqueConstraint("pledge_id"),)
    # The announcement names the pledge, so its audit entry is as releasable as the pledge.
    __label_source__ = "pledge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))

    pledge: Mapped[Pledge] = relationship()


class Decision(Base):
    __tablename__ = "decisions"
    __owner_column__ = "decided_by_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    format_id: Mapped[int] = mapped_column(ForeignKey("formats.id"), index=True)
    text: Mapped[str] = mapped_column(String(4000))
    status: Mapped[DecisionStatus] = mapped_column(
        str_enum(DecisionStatus, "decision_status"), default=DecisionStatus.PROPOSED
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_by: Mapped[str] = mapped_column(String(120), default="")
    releasability: Mapped[Releasability] = mapped_column(
        str_enum(Releasability, "releasability"), default=Releasability.PUBLIC
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting | None] = relationship(back_populates="decisions")
