"""Logistics questions: where everything is, what passes a hub, what is late, who delivered."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import BigInteger, literal, select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.logistics import ingest, queries
from coalition.logistics.models import ShipmentStatus
from tests.factories import World
from tests.service.logistics import kit


@pytest.fixture
def sites(world: World, session: Session) -> None:
    kit.make_sites(session)


def test_where_is_everything_for_a_requirement(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 60)])
    kit.shipment(session, "SHP-2", [(a, 25)], depart=kit.T0 + dt.timedelta(days=5))
    ingest.ingest_events(session, actor=SYSTEM, rows=[
        *kit.journey("SHP-1", a.id, 60)[:3],
        kit.event("E-1", "SHP-2", "dispatched", 130)])
    trace = queries.where_is(session, actor=SYSTEM, requirement_id=a.requirement_id)
    assert (trace.quantity, trace.quantity_in_transit, trace.quantity_delivered) == (100, 85, 0)
    [allocation] = trace.allocations
    assert (allocation.donor, allocation.quantity_shipped, allocation.not_yet_on_a_shipment
            ) == ("POL", 85, 15)
    assert [(s.shipment, s.status, s.position, s.quantity) for s in allocation.shipments] == [
        ("SHP-1", ShipmentStatus.AT_HUB, "POL-RZE", 60),
        ("SHP-2", ShipmentStatus.DISPATCHED, None, 25)]


def test_in_transit_through_a_hub(sites: None, session: Session) -> None:
    allocations = [kit.allocation(session, quantity=10) for _ in range(4)]
    for n, a in enumerate(allocations):
        kit.shipment(session, f"SHP-{n}", [(a, 10)], via=("POL-RZE", "DEU-RMS"))
    kit.shipment(session, "SHP-X", [(kit.allocation(session, quantity=5), 5)],
                 via=("DEU-RMS",))
    ingest.ingest_events(session, actor=SYSTEM, rows=[
        kit.event("0-1", "SHP-0", "dispatched", 1),
        kit.event("1-1", "SHP-1", "dispatched", 1),
        kit.event("1-2", "SHP-1", "arrived_at_hub", 5, hub="POL-RZE"),
        kit.event("2-1", "SHP-2", "departed_hub", 7, hub="POL-RZE"),
        kit.event("2-2", "SHP-2", "arrived_at_hub", 9, hub="DEU-RMS"),
        kit.event("X-1", "SHP-X", "dispatched", 1)])
    traffic = queries.through_hub(session, actor=SYSTEM, hub="POL-RZE")
    assert [(t.shipment, t.where, t.quantity) for t in traffic] == [
        ("SHP-0", "inbound", 10), ("SHP-1", "at hub", 10), ("SHP-2", "passed", 10)]
    assert [(hub.code, n) for hub, n in queries.hubs_with_traffic(session, actor=SYSTEM)] == [
        ("DEU-RMS", 4), ("POL-RZE", 3)]


def test_late_against_the_plan(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=30)
    kit.shipment(session, "ON-TIME", [(a, 10)])
    kit.shipment(session, "LATE", [(a, 10)])
    kit.shipment(session, "NEVER-LEFT", [(a, 10)], depart=kit.T0 + dt.timedelta(days=2))
    rows = [*kit.journey("ON-TIME", a.id, 10, prefix="OT"),
            *kit.journey("LATE", a.id, 10, prefix="L")[:3]]
    rows.append(kit.event("L-9", "LATE", "received", 24 * 5, allocation_id=a.id,
                          quantity_received=10))
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    as_of = kit.T0 + dt.timedelta(days=3, hours=1)
    late = queries.late_shipments(session, actor=SYSTEM, as_of=as_of)
    assert [(s.shipment, s.reason, s.hours_late) for s in late] == [
        ("LATE", "arrived late", 48), ("NEVER-LEFT", "not dispatched", 25)]
    later = queries.late_shipments(session, actor=SYSTEM, as_of=as_of + dt.timedelta(days=3))
    assert ("NEVER-LEFT", "overdue", 25) in [(s.shipment, s.reason, s.hours_late)
                                             for s in later]


def test_pledged_against_delivered_by_donor(world: World, sites: None,
                                            session: Session) -> None:
    pol = kit.allocation(session, quantity=3, value_eur=1000)  # 333.33 EUR a unit
    deu = kit.allocation(session, donor="DEU", quantity=10, value_eur=500)
    kit.shipment(session, "SHP-1", [(pol, 3)])
    rows = kit.journey("SHP-1", pol.id, 2)
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    rows_by_donor = {r.donor: r for r in queries.delivery_by_donor(session, actor=SYSTEM)}
    assert (rows_by_donor["POL"].quantity_pledged, rows_by_donor["POL"].quantity_delivered
            ) == (3, 2)
    assert (rows_by_donor["POL"].value_pledged_eur_cents,
            rows_by_donor["POL"].value_delivered_eur_cents) == (100_000, 66_666)
    assert rows_by_donor["DEU"].value_delivered_eur_cents == 0
    deu.pledge.releasability = Releasability.NATIONAL
    session.flush()
    seen = {r.donor for r in queries.delivery_by_donor(session, actor=world.actor("pol"))}
    assert seen == {"POL"}


def test_delivered_value_is_exact_beyond_64_bit_products(session: Session) -> None:
    """value x delivered would overflow a bigint; the split formula stays exact."""
    value, quantity, delivered = 5 * 10**18, 7, 3
    exact = session.scalar(select(queries.delivered_value_cents(
        literal(value, BigInteger), literal(quantity, BigInteger),
        literal(delivered, BigInteger))))
    assert exact == value * delivered // quantity
