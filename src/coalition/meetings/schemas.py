"""In/out shapes of meetings and decisions."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from coalition.access.labels import Releasability
from coalition.meetings.models import DecisionStatus
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import ReadSchema, Schema


class MeetingCreate(Schema):
    format: str = Field(description="Format code, e.g. UDCG.")
    title: str = Field(min_length=1, max_length=300)
    held_on: dt.date
    place: str = Field(default="", max_length=200)
    is_virtual: bool = False
    chair: str | None = Field(default=None, description="Participant code of the chair.")
    agenda: str = Field(default="", max_length=4000)
    attendees: list[str] = Field(default_factory=list, description="Participant codes.")
    releasability: Releasability = Releasability.PUBLIC


class DecisionCreate(Schema):
    text: str = Field(min_length=1, max_length=4000)
    status: DecisionStatus = DecisionStatus.PROPOSED
    decided_by: str | None = Field(default=None, description="Participant code.")
    decided_on: dt.date | None = None
    releasability: Releasability = Releasability.PUBLIC


class DecisionRead(ReadSchema):
    id: int
    meeting_id: int | None
    format_id: int
    text: str
    status: DecisionStatus
    decided_by_id: int | None
    decided_on: dt.date | None
    approved_by: str
    releasability: Releasability


class AttendeeRead(ReadSchema):
    participant: ParticipantRef


class MeetingRead(ReadSchema):
    id: int
    format_id: int
    title: str
    held_on: dt.date
    place: str
    is_virtual: bool
    chair: ParticipantRef | None
    releasability: Releasability


class MeetingDetail(MeetingRead):
    agenda: str
    attendees: list[AttendeeRead]
    announced_pledge_ids: list[int]
    decisions: list[DecisionRead]
