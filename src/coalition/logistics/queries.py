"""Read-only questions about logistics, over the rows the actor may see.

Where is everything for a requirement; what is in transit through a hub; which shipments are
late against their plan; which receipts do not match what was sent; pledged against delivered
by donor.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from coalition.access.actor import Actor
from coalition.access.visibility import visibility_clause
from coalition.catalog.models import ItemType
from coalition.db import utcnow
from coalition.logistics import service as logistics_service
from coalition.logistics.models import (
    Shipment,
    ShipmentLeg,
    ShipmentLine,
    ShipmentStatus,
    Site,
    SiteKind,
)
from coalition.logistics.schemas import (
    AllocationTrace,
    Discrepancy,
    DonorDelivery,
    HubTraffic,
    LateShipment,
    RequirementTrace,
    ShipmentTrace,
)
from coalition.pledges.models import Allocation, Pledge
from coalition.registry.models import Participant
from coalition.requirements import service as requirement_service

OPEN = (ShipmentStatus.PLANNED, ShipmentStatus.DISPATCHED, ShipmentStatus.AT_HUB,
        ShipmentStatus.IN_TRANSIT, ShipmentStatus.HANDED_OVER,
        ShipmentStatus.PARTIALLY_RECEIVED)
ON_THE_WAY = (ShipmentStatus.DISPATCHED, ShipmentStatus.AT_HUB, ShipmentStatus.IN_TRANSIT)
_HOUR = dt.timedelta(hours=1)


def delivered_value_cents(value: Any, quantity: Any, delivered: Any) -> ColumnElement[int]:
    """floor(value * delivered / quantity) in integer cents, without overflowing 64 bits:
    (v // q) * d + (v % q) * d // q. SQL integer division truncates, and all are >= 0."""
    result: ColumnElement[int] = ((value // quantity) * delivered
                                  + (value % quantity) * delivered // quantity)
    return result


def delivery_by_donor(session: Session, *, actor: Actor) -> list[DonorDelivery]:
    """Pledged against delivered, by donor, in quantity and EUR, over visible pledges.

    Grouped by donor id first and named afterwards, so only the fifty-odd totals meet the
    participants table, not every pledge."""
    # "+ 0" keeps SQLite from walking the donor index and fetching every pledge from it at
    # random, four times slower than reading the table through into a temporary b-tree.
    donor = (Pledge.donor_id + 0).label("donor_id")
    totals = (
        select(donor, func.count(Pledge.id).label("n"),
               func.sum(Pledge.quantity).label("q"), func.sum(Pledge.quantity_delivered)
               .label("d"), func.sum(Pledge.value_eur_cents).label("v"),
               func.sum(delivered_value_cents(Pledge.value_eur_cents, Pledge.quantity,
                                              Pledge.quantity_delivered)).label("dv"))
        .where(visibility_clause(actor, Pledge))
        .group_by(donor).subquery())
    stmt = (select(Participant.code, Participant.name, totals.c.n, totals.c.q, totals.c.d,
                   totals.c.v, totals.c.dv)
            .join(totals, totals.c.donor_id == Participant.id))
    rows = [DonorDelivery(donor=code, name=name, pledges=n, quantity_pledged=int(q),
                          quantity_delivered=int(d), value_pledged_eur_cents=int(v),
                          value_delivered_eur_cents=int(dv))
            for code, name, n, q, d, v, dv in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r.value_pledged_eur_cents, r.donor))


def where_is(session: Session, *, actor: Actor, requirement_id: int) -> RequirementTrace:
    """Every visible allocation to the requirement, and where its shipments are."""
    need = requirement_service.get_requirement(session, actor=actor,
                                               requirement_id=requirement_id)
    allocations = session.execute(
        select(Allocation, Participant.code, ItemType.name)
        .join(Pledge, Pledge.id == Allocation.pledge_id)
        .join(Participant, Participant.id == Pledge.donor_id)
        .join(ItemType, ItemType.id == Pledge.item_type_id)
        .where(Allocation.requirement_id == need.id)
        .order_by(Allocation.id)
        .where(visibility_clause(actor, Pledge))).all()
    position = aliased(Site)
    lines: dict[int, list[ShipmentTrace]] = defaultdict(list)
    for line, shipment, site_code in session.execute(
            select(ShipmentLine, Shipment, position.code)
            .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
            .outerjoin(position, position.id == Shipment.position_site_id)
            .where(ShipmentLine.allocation_id.in_([a.id for a, _, _ in allocations]))
            .order_by(Shipment.planned_arrival, Shipment.id)
            .where(visibility_clause(actor, Shipment))):
        lines[line.allocation_id].append(ShipmentTrace(
            shipment_id=shipment.id, shipment=shipment.reference, status=shipment.status,
            position=site_code, position_at=shipment.position_at,
            planned_arrival=shipment.planned_arrival, quantity=line.quantity,
            received=line.quantity_received, damaged=line.quantity_damaged,
            missing=line.quantity_missing))
    traces = []
    for allocation, donor, item in allocations:
        on_shipments = sum(t.quantity for t in lines[allocation.id]
                           if t.status is not ShipmentStatus.CANCELLED)
        traces.append(AllocationTrace(
            allocation_id=allocation.id, pledge_id=allocation.pledge_id, donor=donor,
            item_type=item, quantity=allocation.quantity,
            quantity_shipped=allocation.quantity_shipped,
            quantity_delivered=allocation.quantity_delivered,
            not_yet_on_a_shipment=max(0, allocation.quantity - on_shipments),
            shipments=lines[allocation.id]))
    return RequirementTrace(
        requirement_id=need.id, reference=need.reference, item_type=need.item_type.name,
        quantity=need.quantity, quantity_committed=need.quantity_committed,
        quantity_in_transit=need.quantity_in_transit,
        quantity_delivered=need.quantity_delivered, allocations=traces)


def through_hub(session: Session, *, actor: Actor, hub: str) -> list[HubTraffic]:
    """Visible shipments on the way whose route passes the hub: still inbound, at the hub,
    or past it (judged by the route position of the latest hub event)."""
    site = logistics_service.get_site(session, code=hub)
    at_hub = aliased(ShipmentLeg)
    seen = aliased(ShipmentLeg)
    position = aliased(Site)
    stmt = (
        select(Shipment, Participant.code, at_hub.seq, seen.seq, position.code,
               select(func.sum(ShipmentLine.quantity))
               .where(ShipmentLine.shipment_id == Shipment.id).scalar_subquery())
        .join(at_hub, and_(at_hub.shipment_id == Shipment.id, at_hub.to_site_id == site.id))
        .join(Participant, Participant.id == Shipment.donor_id)
        .outerjoin(seen, and_(seen.shipment_id == Shipment.id,
                              seen.to_site_id == Shipment.position_site_id))
        .outerjoin(position, position.id == Shipment.position_site_id)
        .where(Shipment.status.in_(ON_THE_WAY))
        .order_by(Shipment.planned_arrival, Shipment.id)
        .where(visibility_clause(actor, Shipment)))
    out = []
    for shipment, donor, hub_seq, seen_seq, site_code, quantity in session.execute(stmt):
        if seen_seq is None or seen_seq < hub_seq:
            where = "inbound"
        elif seen_seq == hub_seq and shipment.status is ShipmentStatus.AT_HUB:
            where = "at hub"
        else:
            where = "passed"
        out.append(HubTraffic(
            shipment_id=shipment.id, shipment=shipment.reference, donor=donor,
            status=shipment.status, where=where, position=site_code,
            position_at=shipment.position_at, planned_arrival=shipment.planned_arrival,
            quantity=int(quantity or 0)))
    return out


def late_shipments(session: Session, *, actor: Actor, as_of: dt.datetime | None = None
                   ) -> list[LateShipment]:
    """Not dispatched by the planned departure, not received by the planned arrival, or
    received (in full) after it; most late first."""
    now = as_of or utcnow()
    not_dispatched = and_(Shipment.status == ShipmentStatus.PLANNED,
                          Shipment.planned_departure < now)
    overdue = and_(Shipment.status.in_(OPEN), Shipment.planned_arrival < now)
    arrived_late = and_(Shipment.status == ShipmentStatus.RECEIVED,
                        Shipment.last_received_at > Shipment.planned_arrival)
    stmt = (select(Shipment, Participant.code)
            .join(Participant, Participant.id == Shipment.donor_id)
            .where(or_(not_dispatched, overdue, arrived_late))
            .where(visibility_clause(actor, Shipment)))
    out = []
    for shipment, donor in session.execute(stmt):
        if shipment.status is ShipmentStatus.RECEIVED:
            assert shipment.last_received_at is not None
            reason, late = "arrived late", shipment.last_received_at - shipment.planned_arrival
        elif shipment.status is ShipmentStatus.PLANNED and shipment.planned_arrival >= now:
            reason, late = "not dispatched", now - shipment.planned_departure
        else:
            reason, late = "overdue", now - shipment.planned_arrival
        out.append(LateShipment(
            shipment_id=shipment.id, shipment=shipment.reference, donor=donor,
            status=shipment.status, planned_departure=shipment.planned_departure,
            planned_arrival=shipment.planned_arrival, reason=reason,
            hours_late=-(-late // _HOUR)))
    return sorted(out, key=lambda r: (-r.hours_late, r.shipment_id))


def discrepancies(session: Session, *, actor: Actor) -> list[Discrepancy]:
    """Lines of received (or partly received) shipments where received differs from sent:
    damaged, missing, not yet accounted for, or more reported than sent."""
    stmt = (
        select(ShipmentLine, Shipment, Participant.code)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .join(Participant, Participant.id == Shipment.donor_id)
        .where(Shipment.status.in_([ShipmentStatus.RECEIVED,
                                    ShipmentStatus.PARTIALLY_RECEIVED]),
               ShipmentLine.quantity_received != ShipmentLine.quantity)
        .order_by(Shipment.last_received_at, ShipmentLine.id)
        .where(visibility_clause(actor, Shipment)))
    return [Discrepancy(
        shipment_id=shipment.id, shipment=shipment.reference, donor=donor,
        status=shipment.status, allocation_id=line.allocation_id, sent=line.quantity,
        received=line.quantity_received, damaged=line.quantity_damaged,
        missing=line.quantity_missing,
        unaccounted=line.quantity - line.quantity_received - line.quantity_damaged
        - line.quantity_missing, last_received_at=shipment.last_received_at)
        for line, shipment, donor in session.execute(stmt)]


def hubs_with_traffic(session: Session, *, actor: Actor) -> list[tuple[Site, int]]:
    """Every logistics hub and how many visible shipments on the way route through it."""
    counts = dict(session.execute(
        select(ShipmentLeg.to_site_id, func.count(func.distinct(Shipment.id)))
        .join(Shipment, Shipment.id == ShipmentLeg.shipment_id)
        .where(Shipment.status.in_(ON_THE_WAY))
        .group_by(ShipmentLeg.to_site_id)
        .where(visibility_clause(actor, Shipment))).all())
    hubs = logistics_service.list_sites(session, kind=SiteKind.LOGISTICS_HUB)
    return [(hub, int(counts.get(hub.id, 0))) for hub in hubs]

