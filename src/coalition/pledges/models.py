"""Tables of pledges, their status history and their allocations to requirements."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.access.labels import Releasability
from coalition.catalog.models import ItemType
from coalition.db import ROOM_FOR_UPDATES, Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.registry.models import Participant


class PledgeStatus(enum.StrEnum):
    ANNOUNCED = "announced"
    CONFIRMED = "confirmed"
    ALLOCATED = "allocated"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class FundingMechanism(enum.StrEnum):
    STOCK_DONATION = "stock_donation"
    DONOR_FUNDED_PROCUREMENT = "donor_funded_procurement"
    JOINT_FUND_CONTRIBUTION = "joint_fund_contribution"
    JOINT_FUND_PURCHASE = "joint_fund_purchase"
    OTHER = "other"


class AllocationStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Pledge(Base):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_allocated >= 0 AND quantity_allocated <= quantity",
                        name="allocated_within_quantity"),
        CheckConstraint("quantity_shipped >= 0 AND quantity_shipped <= quantity",
                        name="shipped_within_quantity"),
        CheckConstraint("quantity_delivered >= 0 AND quantity_delivered <= quantity_shipped",
                        name="delivered_within_shipped"),
        CheckConstraint("value_eur_cents >= 0", name="value_not_negative"),
        # SQLite only: it rewrites just the indexes whose columns change, and without this
        # its planner walks the announced_on index for a rare status. PostgreSQL scans the
        # table instead, and there an indexed status would keep every pledge moving on from
        # being rewritten in place (ROOM_FOR_UPDATES, migration 0005_ingest).
        Index("ix_pledges_status", "status").ddl_if(dialect="sqlite"),
        ROOM_FOR_UPDATES,
    )
    __owner_column__ = "donor_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    # Value as the source gave it; reports use value_eur_cents (amount x fx rate, rounded half-up).
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate_to_eur: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    fx_date: Mapped[dt.date] = mapped_column(Date)
    value_eur_cents: Mapped[int] = mapped_column(BigInteger)
    funding: Mapped[FundingMechanism] = mapped_column(
        str_enum(FundingMechanism, "funding_mechanism")
    )
    # A joint-fund purchase points at the contribution that paid for it, so money counts once.
    parent_pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    announced_on: Mapped[dt.date] = mapped_column(Date, index=True)
    available_from: Mapped[dt.date] = mapped_column(Date)
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"), index=True)
    releasability: Mapped[Releasability] = mapped_column(
        str_enum(Releasability, "releasability"), default=Releasability.COALITION
    )
    status: Mapped[PledgeStatus] = mapped_column(
        str_enum(PledgeStatus, "pledge_status"), default=PledgeStatus.ANNOUNCED
    )
    quantity_allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    notes: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    donor: Mapped[Participant] = relationship(lazy="joined")
    item_type: Mapped[ItemType] = relationship(lazy="joined")

    @property
    def quantity_uncommitted(self) -> int:
        return self.quantity - self.quantity_allocated


class PledgeTransition(Base):
    """One status change of a pledge: who, when, why. Never updated, only appended.

    The pledge is referenced without a foreign key, as delivery events reference shipments: a
    batch of events appends a thousand of these at once, and the per-row check (a lookup
    and a share lock on a pledge the writer already holds locked) would cost twice the
    insert. Pledges are never deleted, and every writer appends history for a pledge it has
    just read locked.
    """

    __tablename__ = "pledge_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(BigId, index=True)
    from_status: Mapped[PledgeStatus | None] = mapped_column(
        str_enum(PledgeStatus, "from_status")
    )
    to_status: Mapped[PledgeStatus] = mapped_column(str_enum(PledgeStatus, "to_status"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(1000), default="")


class Allocation(Base):
    """Quantity of one pledge committed to one requirement, approved by the donor nation."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_shipped >= 0 AND quantity_shipped <= quantity",
                        name="shipped_within_quantity"),
        CheckConstraint("quantity_delivered >= 0 AND quantity_delivered <= quantity_shipped",
                        name="delivered_within_shipped"),
        UniqueConstraint("pledge_id", "requirement_id", "created_at"),
        ROOM_FOR_UPDATES,
    )
    # An allocation is as releasable as its pledge (audit entries copy the pledge's label).
    __label_source__ = "pledge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirements.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    quantity_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[AllocationStatus] = mapped_column(
        str_enum(AllocationStatus, "allocation_status"), default=AllocationStatus.ACTIVE
    )
    approved_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    pledge: Mapped[Pledge] = relationship(lazy="joined")
