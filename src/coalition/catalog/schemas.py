"""In/out shapes of categories and item types."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, computed_field

from coalition.catalog.models import CapabilityArea
from coalition.money import from_cents
from coalition.schemas_common import ReadSchema, Schema

CODE_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class CategoryCreate(Schema):
    code: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = Field(default=None, description="Code of the parent category.")


class CategoryRead(ReadSchema):
    id: int
    code: str
    name: str
    parent_id: int | None


class ItemTypeCreate(Schema):
    code: str = Field(min_length=1, max_length=80, pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="unit", min_length=1, max_length=32)
    unit_value_eur: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    capability_area: CapabilityArea
    compatibility_group: str | None = Field(default=None, max_length=80)
    category: str = Field(description="Category code.")
    soviet_origin: bool = False
    description: str = Field(default="", max_length=2000)


class ItemTypeUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    unit: str | None = Field(default=None, min_length=1, max_length=32)
    unit_value_eur: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    capability_area: CapabilityArea | None = None
    compatibility_group: str | None = Field(default=None, max_length=80)
    description: str | None = Field(default=None, max_length=2000)


class ItemTypeRead(ReadSchema):
    id: int
    code: str
    name: str
    unit: str
    unit_value_eur_cents: int | None = Field(exclude=True)
    capability_area: CapabilityArea
    compatibility_group: str | None
    category: CategoryRead
    soviet_origin: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unit_value_eur(self) -> Decimal | None:
        return None if self.unit_value_eur_cents is None else from_cents(self.unit_value_eur_cents)


class ItemTypeRef(ReadSchema):
    id: int
    code: str
    name: str
    unit: str
    compatibility_group: str | None
