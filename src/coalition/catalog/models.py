"""Tables of the catalog: a category tree and item types with compatibility groups."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.db import Base, BigId, UTCDateTime, str_enum, utcnow


class CapabilityArea(enum.StrEnum):
    AIR_DEFENCE = "air_defence"
    ARTILLERY = "artillery"
    ARMOUR = "armour"
    DRONES = "drones"
    DEMINING = "demining"
    MARITIME = "maritime"
    AIR_FORCE = "air_force"
    IT = "it"
    INFANTRY = "infantry"
    LOGISTICS = "logistics"
    MEDICAL = "medical"
    OTHER = "other"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)

    parent: Mapped[Category | None] = relationship(remote_side="Category.id", lazy="joined")


class ItemType(Base):
    __tablename__ = "item_types"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str] = mapped_column(String(32), default="unit")
    unit_value_eur_cents: Mapped[int | None] = mapped_column(BigInteger)
    capability_area: Mapped[CapabilityArea] = mapped_column(
        str_enum(CapabilityArea, "capability_area")
    )
    # Item types sharing a group can substitute for each other (e.g. "155mm NATO").
    compatibility_group: Mapped[str | None] = mapped_column(String(80), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    soviet_origin: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
