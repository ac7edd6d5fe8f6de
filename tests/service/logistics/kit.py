"""Building blocks of logistics tests: sites, allocations, shipments and event rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM, Actor
from coalition.logistics import service as logistics_service
from coalition.logistics.models import (
    DeliveryEvent,
    Shipment,
    ShipmentLine,
    SiteKind,
    TransportMode,
)
from coalition.logistics.schemas import LegIn, LineIn, ShipmentCreate, SiteCreate
from coalition.pledges import flows
from coalition.pledges.models import Allocation, Pledge, PledgeTransition
from coalition.requirements.models import Requirement
from tests import factories

T0 = dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)

SITES = [
    # code, name, kind, country, latitude, longitude
    ("POL-RZE", "Rzeszów-Jasionka Airport", SiteKind.LOGISTICS_HUB, "POL", "50.110000",
     "22.019000"),
    ("DEU-RMS", "Ramstein Air Base", SiteKind.LOGISTICS_HUB, "DEU", "49.436900", "7.600300"),
    ("POL-WAW", "Warsaw depot", SiteKind.DONOR_DEPOT, "POL", "52.229700", "21.012200"),
    ("DEU-BER", "Berlin depot", SiteKind.DONOR_DEPOT, "DEU", "52.520000", "13.405000"),
    ("UKR-LWO", "Lviv depot", SiteKind.RECIPIENT_DEPOT, "UKR", "49.839700", "24.029700"),
    ("UKR-KBP", "Kyiv depot", SiteKind.RECIPIENT_DEPOT, "UKR", "50.450100", "30.523400"),
]


def make_sites(session: Session) -> None:
    for code, name, kind, country, lat, lon in SITES:
        logistics_service.create_site(session, actor=SYSTEM, data=SiteCreate(
            code=code, name=name, kind=kind, country=country, latitude=Decimal(lat),
            longitude=Decimal(lon)))


def allocation(session: Session, *, donor: str = "POL", quantity: int = 100,
               pledge_quantity: int | None = None, item_type: str = "155-a",
               value_eur: int | None = None) -> Allocation:
    """A confirmed pledge of `donor` allocated (`quantity`) to a new requirement."""
    extra: dict[str, Any] = {}
    if value_eur is not None:
        extra["amount"] = Decimal(value_eur)
    pledge = factories.pledge(session, donor=donor, item_type=item_type,
                              quantity=pledge_quantity or quantity, confirm=True, **extra)
    need = factories.requirement(session, item_type=item_type, quantity=quantity)
    return flows.allocate(session, actor=SYSTEM, pledge_id=pledge.id, requirement_id=need.id,
                          quantity=quantity)


def shipment(session: Session, reference: str, lines: list[tuple[Allocation, int]], *,
             origin: str = "POL-WAW", via: tuple[str, ...] = ("POL-RZE",),
             destination: str = "UKR-LWO", actor: Actor = SYSTEM,
             depart: dt.datetime = T0, days: int = 3) -> Shipment:
    legs = [LegIn(to=hub, mode=TransportMode.ROAD, reference=f"{reference}-L{i}")
            for i, hub in enumerate(via, start=1)]
    legs.append(LegIn(to=destination, mode=TransportMode.RAIL, reference=f"{reference}-LAST"))
    return logistics_service.create_shipment(session, actor=actor, data=ShipmentCreate(
        reference=reference, origin=origin, legs=legs,
        lines=[LineIn(allocation_id=a.id, quantity=q) for a, q in lines],
        planned_departure=depart, planned_arrival=depart + dt.timedelta(days=days)))


def event(external_id: str, shipment: str, kind: str, hours: float, **fields: Any
          ) -> dict[str, Any]:
    """An event row as JSON would carry it, `hours` after T0."""
    row: dict[str, Any] = {"external_id": external_id, "shipment": shipment, "kind": kind,
                           "occurred_at": (T0 + dt.timedelta(hours=hours)).isoformat(),
                           "source": "test"}
    row.update(fields)
    return row


def journey(shipment: str, allocation_id: int, quantity: int, *, prefix: str = "",
            hub: str = "POL-RZE") -> list[dict[str, Any]]:
    """A complete, uneventful journey: dispatched, through one hub, handed over, received."""
    p = prefix or shipment
    return [
        event(f"{p}-1", shipment, "planned", 0),
        event(f"{p}-2", shipment, "dispatched", 2),
        event(f"{p}-3", shipment, "arrived_at_hub", 10, hub=hub),
        event(f"{p}-4", shipment, "departed_hub", 20, hub=hub),
        event(f"{p}-5", shipment, "handed_over", 30),
        event(f"{p}-6", shipment, "received", 40, allocation_id=allocation_id,
              quantity_received=quantity),
    ]


def matrix_shipments(session: Session, allocations: dict[tuple[str, Any], int]
                     ) -> dict[tuple[str, Any], int]:
    """For the authorization matrix: its sites, and a shipment of 5 units per allocation,
    labelled and owned like the allocation's pledge."""
    for code, kind, country in [("MX-DEPOT", SiteKind.DONOR_DEPOT, "POL"),
                                ("MX-HUB", SiteKind.LOGISTICS_HUB, "POL"),
                                ("MX-UKR", SiteKind.RECIPIENT_DEPOT, "UKR")]:
        logistics_service.create_site(session, actor=SYSTEM, data=SiteCreate(
            code=code, name=code, kind=kind, country=country, latitude=Decimal(50),
            longitude=Decimal(22)))
    out = {}
    for (owner, label), allocation_id in allocations.items():
        out[(owner, label)] = logistics_service.create_shipment(
            session, actor=SYSTEM, data=ShipmentCreate(
                reference=f"MX-{owner}-{label.value}", origin="MX-DEPOT",
                legs=[LegIn(to="MX-HUB", mode=TransportMode.ROAD),
                      LegIn(to="MX-UKR", mode=TransportMode.RAIL)],
                lines=[LineIn(allocation_id=allocation_id, quantity=5)],
                planned_departure=T0, planned_arrival=T0 + dt.timedelta(days=2))).id
    return out


def snapshot(session: Session) -> dict[str, Any]:
    """Everything the events derive, in a comparable form."""
    session.expire_all()
    return {
        "shipments": session.execute(select(
            Shipment.id, Shipment.status, Shipment.dispatched_at, Shipment.handed_over_at,
            Shipment.first_received_at, Shipment.last_received_at, Shipment.cancelled_at,
            Shipment.position_site_id, Shipment.position_kind, Shipment.position_at,
            Shipment.position_event, Shipment.last_event_at, Shipment.event_count)
            .order_by(Shipment.id)).all(),
        "lines": session.execute(select(
            ShipmentLine.id, ShipmentLine.quantity_received, ShipmentLine.quantity_damaged,
            ShipmentLine.quantity_missing).order_by(ShipmentLine.id)).all(),
        "allocations": session.execute(select(
            Allocation.id, Allocation.quantity_shipped, Allocation.quantity_delivered)
            .order_by(Allocation.id)).all(),
        "pledges": session.execute(select(
            Pledge.id, Pledge.status, Pledge.quantity_shipped, Pledge.quantity_delivered)
            .order_by(Pledge.id)).all(),
        "requirements": session.execute(select(
            Requirement.id, Requirement.quantity_in_transit, Requirement.quantity_delivered)
            .order_by(Requirement.id)).all(),
        "history": session.execute(select(
            PledgeTransition.pledge_id, PledgeTransition.from_status,
            PledgeTransition.to_status)
            .order_by(PledgeTransition.pledge_id, PledgeTransition.id)).all(),
    }


def stored_events(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(select(
        DeliveryEvent.external_id, DeliveryEvent.shipment_id, DeliveryEvent.kind,
        DeliveryEvent.occurred_at, DeliveryEvent.source, DeliveryEvent.hub_id,
        DeliveryEvent.allocation_id, DeliveryEvent.quantity_received,
        DeliveryEvent.quantity_damaged, DeliveryEvent.quantity_missing, DeliveryEvent.note)
        .order_by(DeliveryEvent.external_id))]
