"""In/out shapes of sites, shipments, delivery events and the logistics reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, ClassVar, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from coalition.access.labels import Releasability
from coalition.logistics.models import EventKind, ShipmentStatus, SiteKind, TransportMode
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import NO_NUL, ReadSchema, Schema, euros_of

CODE = r"^[A-Z0-9][A-Z0-9_.-]*$"
# Printable text without control characters: ids travel through CSV, logs and URLs.
OPAQUE_ID = r"^[^\x00-\x1f\x7f]+$"


class SiteCreate(Schema):
    code: str = Field(min_length=2, max_length=40, pattern=CODE,
                      description="Short unique code, e.g. POL-RZE.")
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind
    country: str = Field(description="Participant code of the country the site is in.")
    latitude: Decimal = Field(ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal = Field(ge=-180, le=180, max_digits=9, decimal_places=6)
    notes: str = Field(default="", max_length=1000)


class SiteRead(ReadSchema):
    id: int
    code: str
    name: str
    kind: SiteKind
    participant: ParticipantRef
    latitude: Decimal
    longitude: Decimal


class SiteRef(ReadSchema):
    id: int
    code: str
    name: str
    kind: SiteKind


class LegIn(Schema):
    to: str = Field(description="Site code this leg arrives at: a hub, or the destination.")
    mode: TransportMode
    reference: str = Field(default="", max_length=80,
                           description="Flight, train, voyage or convoy number.")


class LineIn(Schema):
    allocation_id: int
    quantity: int = Field(gt=0)


class ShipmentCreate(Schema):
    reference: str = Field(min_length=1, max_length=60, pattern=OPAQUE_ID)
    origin: str = Field(description="Code of the donor depot the goods leave from.")
    legs: list[LegIn] = Field(min_length=1, max_length=20,
                              description="The route in order; the last leg ends at the "
                              "recipient depot, the others at logistics hubs.")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    planned_departure: AwareDatetime
    planned_arrival: AwareDatetime
    format: str | None = Field(default=None, description="Format code (default: the pledges').")
    releasability: Releasability | None = Field(
        default=None, description="Default: the pledges' label when they agree, else NATIONAL.")
    notes: str = Field(default="", max_length=2000)


class LegRead(ReadSchema):
    seq: int
    from_site: SiteRef
    to_site: SiteRef
    mode: TransportMode
    reference: str


class LineRead(ReadSchema):
    id: int
    allocation_id: int
    quantity: int
    quantity_received: int
    quantity_damaged: int
    quantity_missing: int


class ShipmentRead(ReadSchema):
    id: int
    reference: str
    donor: ParticipantRef
    recipient: ParticipantRef
    origin: SiteRef
    destination: SiteRef
    planned_departure: dt.datetime
    planned_arrival: dt.datetime
    status: ShipmentStatus
    dispatched_at: dt.datetime | None
    handed_over_at: dt.datetime | None
    last_received_at: dt.datetime | None
    position_site_id: int | None
    position_kind: EventKind | None
    position_at: dt.datetime | None
    last_event_at: dt.datetime | None
    event_count: int
    format_id: int | None
    releasability: Releasability


@with_config(ConfigDict(extra="forbid", str_strip_whitespace=True))
class DeliveryEventIn(TypedDict):
    """One row of a bulk ingest (JSON object, CSV row or JSON line).

    A TypedDict rather than a model: a batch of 10,000 validates as plain dicts about three
    times faster. `occurred_at` is parsed by the ingest (ISO 8601 with a UTC offset).
    """

    external_id: Annotated[str, Field(min_length=1, max_length=80, pattern=OPAQUE_ID,
                                      description="Unique id given by the sender; resending "
                                      "is harmless.")]
    shipment: Annotated[str, Field(min_length=1, max_length=60, pattern=NO_NUL,
                                   description="Shipment reference.")]
    kind: EventKind
    occurred_at: Annotated[str, Field(min_length=1, max_length=40, json_schema_extra={
        "format": "date-time"}, description="When it happened, with a UTC offset.")]
    source: NotRequired[Annotated[str | None, Field(
        min_length=1, max_length=80, pattern=NO_NUL,
        description="Reporting system; default: the batch's.")]]
    hub: NotRequired[Annotated[str | None, Field(
        max_length=40, pattern=NO_NUL,
        description="Hub code (arrived_at_hub and departed_hub only).")]]
    allocation_id: NotRequired[Annotated[int | None, Field(
        gt=0, description="The shipment line received (received only).")]]
    quantity_received: NotRequired[Annotated[int | None, Field(ge=0)]]
    quantity_damaged: NotRequired[Annotated[int | None, Field(ge=0)]]
    quantity_missing: NotRequired[Annotated[int | None, Field(ge=0)]]
    note: NotRequired[Annotated[str | None, Field(max_length=500, pattern=NO_NUL)]]


class DeliveryEventRead(ReadSchema):
    external_id: str
    kind: EventKind
    occurred_at: dt.datetime
    source: str
    hub_id: int | None
    allocation_id: int | None
    quantity_received: int | None
    quantity_damaged: int | None
    quantity_missing: int | None
    note: str
    batch_id: int
    recorded_at: dt.datetime


class ShipmentDetail(ShipmentRead):
    legs: list[LegRead]
    lines: list[LineRead]
    events: list[DeliveryEventRead]
    notes: str
    created_by: str


class BatchResult(Schema):
    batch_id: int
    rows: int
    inserted: int
    duplicates: int
    shipments_touched: int
    allocations_changed: int
    pledge_transitions: int
    digest: str


class Discrepancy(Schema):
    """A line whose receipt does not match what was sent, for follow-up."""

    shipment_id: int
    shipment: str
    donor: str
    status: ShipmentStatus
    allocation_id: int
    sent: int
    received: int
    damaged: int
    missing: int
    unaccounted: int = Field(description="Sent minus everything reported; negative when more "
                             "was reported than sent.")
    last_received_at: dt.datetime | None


class LateShipment(Schema):
    shipment_id: int
    shipment: str
    donor: str
    status: ShipmentStatus
    planned_departure: dt.datetime
    planned_arrival: dt.datetime
    reason: str = Field(description="not dispatched, overdue, or arrived late")
    hours_late: int = Field(description="How late, in started hours.")


class HubTraffic(Schema):
    shipment_id: int
    shipment: str
    donor: str
    status: ShipmentStatus
    where: str = Field(description="inbound, at hub, or passed")
    position: str | None
    position_at: dt.datetime | None
    planned_arrival: dt.datetime
    quantity: int


class ShipmentTrace(Schema):
    shipment_id: int
    shipment: str
    status: ShipmentStatus
    position: str | None
    position_at: dt.datetime | None
    planned_arrival: dt.datetime
    quantity: int
    received: int
    damaged: int
    missing: int


class AllocationTrace(Schema):
    allocation_id: int
    pledge_id: int
    donor: str
    item_type: str
    quantity: int
    quantity_shipped: int
    quantity_delivered: int
    not_yet_on_a_shipment: int
    shipments: list[ShipmentTrace]


class RequirementTrace(Schema):
    """Where everything for one requirement is."""

    requirement_id: int
    reference: str
    item_type: str
    quantity: int
    quantity_committed: int
    quantity_in_transit: int
    quantity_delivered: int
    allocations: list[AllocationTrace]


class DonorDelivery(Schema):
    donor: str
    name: str
    pledges: int
    quantity_pledged: int
    quantity_delivered: int
    value_pledged_eur_cents: int = Field(exclude=True)
    value_delivered_eur_cents: int = Field(exclude=True)

    value_pledged_eur: ClassVar[Decimal] = euros_of("value_pledged_eur_cents")
    value_delivered_eur: ClassVar[Decimal] = euros_of("value_delivered_eur_cents")
