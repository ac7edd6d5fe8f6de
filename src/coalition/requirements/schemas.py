"""In/out shapes of requirements."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from coalition.access.labels import Releasability
from coalition.catalog.models import CapabilityArea
from coalition.catalog.schemas import ItemTypeRef
from coalition.registry.schemas import ParticipantRef
from coalition.requirements.models import RequirementStatus
from coalition.schemas_common import ReadSchema, Schema


class RequirementCreate(Schema):
    reference: str | None = Field(default=None, max_length=40)
    recipient: str = Field(default="UKR", description="Participant code of the recipient.")
    item_type: str = Field(description="Item type code.")
    quantity: int = Field(gt=0)
    priority: int = Field(ge=1, le=5, description="1 = critical .. 5 = nice to have.")
    needed_by: dt.date
    capability_area: CapabilityArea | None = Field(
        default=None, description="Defaults to the item type's capability area.")
    notes: str = Field(default="", max_length=2000)
    format: str | None = Field(default=None, description="Owning format code (default UDCG).")
    releasability: Releasability = Releasability.COALITION


class RequirementUpdate(Schema):
    quantity: int | None = Field(default=None, gt=0)
    priority: int | None = Field(default=None, ge=1, le=5)
    needed_by: dt.date | None = None
    notes: str | None = Field(default=None, max_length=2000)
    releasability: Releasability | None = None


class RequirementRead(ReadSchema):
    id: int
    reference: str
    recipient: ParticipantRef
    item_type: ItemTypeRef
    quantity: int
    priority: int
    needed_by: dt.date
    capability_area: CapabilityArea
    status: RequirementStatus
    notes: str
    format_id: int | None
    releasability: Releasability
    quantity_committed: int
    quantity_in_transit: int
    quantity_delivered: int
    quantity_remaining: int


class RequirementFilter(Schema):
    priority: int | None = Field(default=None, ge=1, le=5)
    status: RequirementStatus | None = None
    capability_area: CapabilityArea | None = None
    item_type: str | None = None
    needed_from: dt.date | None = None
    needed_to: dt.date | None = None
