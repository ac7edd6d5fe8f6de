"""In/out shapes of participants, formats and capability coalitions."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from coalition.catalog.models import CapabilityArea
from coalition.registry.models import CoalitionRole, ParticipantKind
from coalition.schemas_common import ReadSchema, Schema


class ParticipantBase(Schema):
    kind: ParticipantKind
    code: str = Field(min_length=2, max_length=16, pattern=r"^[A-Z][A-Z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    nato_member_since: int | None = Field(default=None, ge=1949, le=2100)
    eu_member_since: int | None = Field(default=None, ge=1957, le=2100)
    eu_member_until: int | None = Field(default=None, ge=1957, le=2100)
    gdp_usd: int | None = Field(default=None, ge=0)
    gdp_year: int | None = Field(default=None, ge=1960, le=2100)
    is_donor: bool = False
    is_recipient: bool = False


class ParticipantCreate(ParticipantBase):
    pass


class ParticipantUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    nato_member_since: int | None = Field(default=None, ge=1949, le=2100)
    eu_member_since: int | None = Field(default=None, ge=1957, le=2100)
    eu_member_until: int | None = Field(default=None, ge=1957, le=2100)
    gdp_usd: int | None = Field(default=None, ge=0)
    gdp_year: int | None = Field(default=None, ge=1960, le=2100)
    is_donor: bool | None = None
    is_recipient: bool | None = None


class ParticipantRead(ReadSchema):
    id: int
    kind: ParticipantKind
    code: str
    name: str
    nato_member_since: int | None
    eu_member_since: int | None
    eu_member_until: int | None
    gdp_usd: int | None
    gdp_year: int | None
    is_donor: bool
    is_recipient: bool


class ParticipantRef(ReadSchema):
    id: int
    code: str
    name: str


class FormatCreate(Schema):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z][A-Z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    lead: str | None = Field(default=None, description="Participant code of the lead.")
    lead_since: dt.date | None = None


class FormatUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class MembershipCreate(Schema):
    participant: str = Field(description="Participant code.")
    joined_on: dt.date


class MembershipRead(ReadSchema):
    participant: ParticipantRef
    joined_on: dt.date
    left_on: dt.date | None


class LeadRead(ReadSchema):
    participant: ParticipantRef
    started_on: dt.date
    ended_on: dt.date | None
    note: str


class FormatRead(ReadSchema):
    id: int
    code: str
    name: str
    description: str
    lead: ParticipantRef | None


class FormatDetail(FormatRead):
    members: list[MembershipRead]
    leads: list[LeadRead]


class CoalitionMemberIn(Schema):
    participant: str
    role: CoalitionRole = CoalitionRole.MEMBER
    joined_on: dt.date


class CoalitionCreate(Schema):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z][A-Z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    capability_area: CapabilityArea
    format: str | None = None
    members: list[CoalitionMemberIn] = Field(default_factory=list)


class CoalitionMemberRead(ReadSchema):
    participant: ParticipantRef
    role: CoalitionRole
    joined_on: dt.date


class CoalitionRead(ReadSchema):
    id: int
    code: str
    name: str
    capability_area: CapabilityArea
    members: list[CoalitionMemberRead]
