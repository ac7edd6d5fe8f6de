"""In/out shapes of pledges, their transitions and allocations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, computed_field, model_validator

from coalition.access.labels import Releasability
from coalition.catalog.schemas import ItemTypeRef
from coalition.money import from_cents
from coalition.pledges.models import AllocationStatus, FundingMechanism, PledgeStatus
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import ReadSchema, Schema


class PledgeCreate(Schema):
    external_id: str | None = Field(default=None, max_length=80)
    donor: str = Field(description="Participant code of the donor.")
    item_type: str = Field(description="Item type code.")
    quantity: int = Field(gt=0)
    amount: Decimal = Field(ge=0, max_digits=20, decimal_places=2,
                            description="Value in the source's currency.")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    fx_rate_to_eur: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=8)
    fx_date: dt.date | None = None
    funding: FundingMechanism = FundingMechanism.STOCK_DONATION
    parent_pledge_id: int | None = None
    announced_on: dt.date
    available_from: dt.date
    format: str | None = None
    releasability: Releasability = Releasability.COALITION
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _fx_needed_for_foreign_currency(self) -> PledgeCreate:
        if self.currency != "EUR" and self.fx_rate_to_eur is None:
            raise ValueError("fx_rate_to_eur is required when currency is not EUR")
        if self.funding is FundingMechanism.JOINT_FUND_PURCHASE and self.parent_pledge_id is None:
            raise ValueError("parent_pledge_id is required for a joint-fund purchase")
        return self


class PledgeUpdate(Schema):
    quantity: int | None = Field(default=None, gt=0)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=20, decimal_places=2)
    fx_rate_to_eur: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=8)
    fx_date: dt.date | None = None
    available_from: dt.date | None = None
    releasability: Releasability | None = None
    notes: str | None = Field(default=None, max_length=2000)


class TransitionRequest(Schema):
    to: PledgeStatus
    reason: str = Field(default="", max_length=1000)


class PledgeRead(ReadSchema):
    id: int
    external_id: str | None
    donor: ParticipantRef
    item_type: ItemTypeRef
    quantity: int
    amount: Decimal
    currency: str
    fx_rate_to_eur: Decimal
    fx_date: dt.date
    value_eur_cents: int = Field(exclude=True)
    funding: FundingMechanism
    parent_pledge_id: int | None
    announced_on: dt.date
    available_from: dt.date
    format_id: int | None
    releasability: Releasability
    status: PledgeStatus
    quantity_allocated: int
    quantity_shipped: int
    quantity_delivered: int
    notes: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value_eur(self) -> Decimal:
        return from_cents(self.value_eur_cents)


class TransitionRead(ReadSchema):
    from_status: PledgeStatus | None
    to_status: PledgeStatus
    at: dt.datetime
    actor: str
    reason: str


class PledgeDetail(PledgeRead):
    history: list[TransitionRead]


class PledgeFilter(Schema):
    donor: str | None = None
    status: PledgeStatus | None = None
    item_type: str | None = None
    category: str | None = None
    funding: FundingMechanism | None = None
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None


class AllocationCreate(Schema):
    pledge_id: int
    requirement_id: int
    quantity: int = Field(gt=0)


class AllocationRead(ReadSchema):
    id: int
    pledge_id: int
    requirement_id: int
    quantity: int
    quantity_shipped: int
    quantity_delivered: int
    status: AllocationStatus
    approved_by: str
    created_at: dt.datetime
