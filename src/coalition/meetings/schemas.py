"""In/out shapes of meetings and decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from coalition.access.labels import Releasability
from coalition.meetings.models import DecisionStatus
from coalition.pledges.models import PledgeStatus
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import ReadSchema, Schema, euros_of


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


class AnnouncementProgress(Schema):
    """One pledge announced at the meeting, and what has become of it since."""

    pledge_id: int
    donor: str
    item_type: str
    status: PledgeStatus
    quantity: int
    quantity_confirmed: int
    quantity_allocated: int
    quantity_shipped: int
    quantity_delivered: int
    value_eur_cents: int = Field(exclude=True)
    value_delivered_eur_cents: int = Field(exclude=True)
    delivery_rate: Decimal = Field(description="Delivered over announced quantity, 0..1.")

    value_eur: ClassVar[Decimal] = euros_of("value_eur_cents")
    value_delivered_eur: ClassVar[Decimal] = euros_of("value_delivered_eur_cents")


class DeliveryTotals(Schema):
    announcements: int
    quantity: int
    quantity_confirmed: int
    quantity_shipped: int
    quantity_delivered: int
    value_eur_cents: int = Field(exclude=True)
    value_confirmed_eur_cents: int = Field(exclude=True)
    value_shipped_eur_cents: int = Field(exclude=True)
    value_delivered_eur_cents: int = Field(exclude=True)
    delivery_rate_quantity: Decimal = Field(description="Delivered over announced units, 0..1.")
    delivery_rate_value: Decimal = Field(description="Delivered over announced EUR, 0..1.")

    value_eur: ClassVar[Decimal] = euros_of("value_eur_cents")
    value_confirmed_eur: ClassVar[Decimal] = euros_of("value_confirmed_eur_cents")
    value_shipped_eur: ClassVar[Decimal] = euros_of("value_shipped_eur_cents")
    value_delivered_eur: ClassVar[Decimal] = euros_of("value_delivered_eur_cents")


class MeetingReport(Schema):
    """What a meeting announced and how much of it has been delivered since."""

    meeting: MeetingRead
    decisions: list[DecisionRead]
    announcements: list[AnnouncementProgress]
    totals: DeliveryTotals
