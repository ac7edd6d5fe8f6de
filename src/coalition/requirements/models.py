"""The requirement table: what the recipient needs, and how much is covered so far."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.access.labels import Releasability
from coalition.catalog.models import CapabilityArea, ItemType
from coalition.db import ROOM_FOR_UPDATES, Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.registry.models import Participant


class RequirementStatus(enum.StrEnum):
    OPEN = "open"
    PARTIALLY_MET = "partially_met"
    MET = "met"
    WITHDRAWN = "withdrawn"


class Requirement(Base):
    __tablename__ = "requirements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("quantity_committed >= 0 AND quantity_committed <= quantity",
                        name="committed_within_need"),
        CheckConstraint("quantity_delivered >= 0 AND quantity_delivered <= quantity_committed",
                        name="delivered_within_committed"),
        ROOM_FOR_UPDATES,
    )
    __owner_column__ = "recipient_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer, index=True)
    needed_by: Mapped[dt.date] = mapped_column(Date)
    capability_area: Mapped[CapabilityArea] = mapped_column(
        str_enum(CapabilityArea, "capability_area")
    )
    status: Mapped[RequirementStatus] = mapped_column(
        str_enum(RequirementStatus, "requirement_status"), default=RequirementStatus.OPEN,
        index=True,
    )
    notes: Mapped[str] = mapped_column(String(2000), default="")
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"), index=True)
    releasability: Mapped[Releasability] = mapped_column(
        str_enum(Releasability, "releasability"), default=Releasability.COALITION
    )
    # Running totals kept by the allocation and logistics flows in the same transaction.
    quantity_committed: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_in_transit: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    item_type: Mapped[ItemType] = relationship(lazy="joined")
    recipient: Mapped[Participant] = relationship(lazy="joined")

    @property
    def quantity_remaining(self) -> int:
        return self.quantity - self.quantity_committed
