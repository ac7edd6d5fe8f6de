"""Tables of sites, shipments (legs and lines) and the delivery events that move them.

A shipment's status and the received quantities of its lines are derived from its events and
stored only so lists and reports stay cheap; `logistics.ingest` is the one writer.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.access.labels import Releasability
from coalition.db import ROOM_FOR_UPDATES, Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.registry.models import Participant

# External ids are opaque: byte order compares them fastest and means exactly "the same id".
ExternalId = String(80).with_variant(String(80, collation="C"), "postgresql")


class SiteKind(enum.StrEnum):
    LOGISTICS_HUB = "logistics_hub"
    DONOR_DEPOT = "donor_depot"
    RECIPIENT_DEPOT = "recipient_depot"


class TransportMode(enum.StrEnum):
    ROAD = "road"
    RAIL = "rail"
    AIR = "air"
    SEA = "sea"
    INLAND_WATERWAY = "inland_waterway"
    OTHER = "other"


class ShipmentStatus(enum.StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    AT_HUB = "at_hub"
    IN_TRANSIT = "in_transit"
    HANDED_OVER = "handed_over"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class EventKind(enum.StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    ARRIVED_AT_HUB = "arrived_at_hub"
    DEPARTED_HUB = "departed_hub"
    HANDED_OVER = "handed_over"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Site(Base):
    """A place goods leave from, pass through or arrive at, e.g. Rzeszów-Jasionka airport."""

    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, "site_kind"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    # Decimal degrees to 6 places (~0.1 m): exact, comparable, no float drift.
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship(lazy="joined")


class Shipment(Base):
    """Allocated quantities on their way from a donor depot, via hubs, to a recipient depot.

    Labelled like the pledges it carries; the donor owns it.
    """

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint("planned_arrival >= planned_departure", name="arrival_after_departure"),
        CheckConstraint("event_count >= 0", name="event_count_not_negative"),
        # Room on each page, and no index on a derived column, so PostgreSQL rewrites a
        # shipment's derived state in place (a HOT update) instead of touching every index.
        ROOM_FOR_UPDATES,
    )
    __owner_column__ = "donor_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    origin_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    destination_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    planned_departure: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    planned_arrival: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"), index=True)
    releasability: Mapped[Releasability] = mapped_column(
        str_enum(Releasability, "releasability"), default=Releasability.COALITION
    )
    notes: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Derived from the events (see logistics.state); never written by hand.
    status: Mapped[ShipmentStatus] = mapped_column(
        str_enum(ShipmentStatus, "shipment_status"), default=ShipmentStatus.PLANNED
    )
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The latest hub event by (occurred_at, external_id): where the goods were last seen.
    # No foreign key: the ingest writes only hub ids it resolved, and a per-row check on
    # every move would cost more than the update itself.
    position_site_id: Mapped[int | None] = mapped_column(BigInteger)
    position_kind: Mapped[EventKind | None] = mapped_column(str_enum(EventKind, "position_kind"))
    position_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    position_event: Mapped[str | None] = mapped_column(ExternalId)
    last_event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)

    donor: Mapped[Participant] = relationship(lazy="joined", foreign_keys=[donor_id])
    recipient: Mapped[Participant] = relationship(lazy="joined", foreign_keys=[recipient_id])
    origin: Mapped[Site] = relationship(lazy="joined", foreign_keys=[origin_site_id])
    destination: Mapped[Site] = relationship(lazy="joined", foreign_keys=[destination_site_id])
    legs: Mapped[list[ShipmentLeg]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ShipmentLeg.seq"
    )
    lines: Mapped[list[ShipmentLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ShipmentLine.id"
    )


class ShipmentLeg(Base):
    """One stretch of the route: from a site to the next, by one mode under one reference."""

    __tablename__ = "shipment_legs"
    __table_args__ = (UniqueConstraint("shipment_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    seq: Mapped[int] = mapped_column(Integer)
    from_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    mode: Mapped[TransportMode] = mapped_column(str_enum(TransportMode, "transport_mode"))
    # Flight, train, voyage or convoy number under which this leg moves.
    reference: Mapped[str] = mapped_column(String(80), default="")

    from_site: Mapped[Site] = relationship(lazy="joined", foreign_keys=[from_site_id])
    to_site: Mapped[Site] = relationship(lazy="joined", foreign_keys=[to_site_id])


class ShipmentLine(Base):
    """Quantity of one allocation carried by a shipment, and what the recipient reported."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "allocation_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_received >= 0 AND quantity_damaged >= 0 "
                        "AND quantity_missing >= 0", name="reported_not_negative"),
        ROOM_FOR_UPDATES,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    # Sums over the line's `received` events (derived).
    quantity_received: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_damaged: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_missing: Mapped[int] = mapped_column(BigInteger, default=0)


class EventBatch(Base):
    """One call of the bulk ingest: who sent what, how much of it was new, and its digest."""

    __tablename__ = "delivery_event_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    shipments_touched: Mapped[int] = mapped_column(Integer, default=0)
    # SHA-256 over the stored form of the new events, in stored order.
    digest: Mapped[str] = mapped_column(String(64), default="")


class DeliveryEvent(Base):
    """A fact reported about a shipment: append-only, keyed by the sender's external id.

    The external id is the primary key because it is what makes ingest idempotent, and one
    index fewer keeps volume ingest fast. For the same reason the references carry no foreign
    keys (a per-row check would cost more than the insert itself): the ingest resolves every
    shipment, hub and allocation against rows it holds locked, and none of those is ever
    deleted.
    """

    __tablename__ = "delivery_events"
    __table_args__ = (
        CheckConstraint("quantity_received >= 0 AND quantity_damaged >= 0 "
                        "AND quantity_missing >= 0", name="quantities_not_negative"),
    )

    external_id: Mapped[str] = mapped_column(ExternalId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(80))
    hub_id: Mapped[int | None] = mapped_column(BigInteger)
    allocation_id: Mapped[int | None] = mapped_column(BigInteger)
    quantity_received: Mapped[int | None] = mapped_column(BigInteger)
    quantity_damaged: Mapped[int | None] = mapped_column(BigInteger)
    quantity_missing: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(500), default="")
    batch_id: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
