"""Sites and shipments: valid routes, one donor and recipient, allocations within quantity."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coalition.logistics import ingest
from coalition.logistics import service as logistics_service
from coalition.logistics.models import ShipmentStatus, SiteKind
from coalition.logistics.schemas import SiteCreate
from coalition.pledges import flows
from tests.factories import World
from tests.service.logistics import kit


@pytest.fixture
def sites(world: World, session: Session) -> None:
    kit.make_sites(session)


def test_site_keeps_exact_coordinates(sites: None, session: Session) -> None:
    hub = logistics_service.get_site(session, code="POL-RZE")
    assert (hub.kind, hub.participant.code) == (SiteKind.LOGISTICS_HUB, "POL")
    assert (hub.latitude, hub.longitude) == (Decimal("50.110000"), Decimal("22.019000"))
    hubs = logistics_service.list_sites(session, kind=SiteKind.LOGISTICS_HUB)
    assert [s.code for s in hubs] == ["DEU-RMS", "POL-RZE"]


def test_site_code_is_unique(sites: None, session: Session) -> None:
    with pytest.raises(Conflict, match="already exists"):
        logistics_service.create_site(session, actor=SYSTEM, data=SiteCreate(
            code="POL-RZE", name="again", kind=SiteKind.LOGISTICS_HUB, country="POL",
            latitude=Decimal(50), longitude=Decimal(22)))


def test_nation_records_sites_in_its_own_country_only(world: World, session: Session) -> None:
    data = SiteCreate(code="DEU-X", name="x", kind=SiteKind.DONOR_DEPOT, country="DEU",
                      latitude=Decimal(50), longitude=Decimal(8))
    with pytest.raises(Forbidden, match="own country"):
        logistics_service.create_site(session, actor=world.actor("pol"), data=data)
    assert logistics_service.create_site(session, actor=world.actor("deu"), data=data).id


def test_shipment_records_route_lines_and_labels(world: World, sites: None,
                                                 session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    b = kit.allocation(session, quantity=40)
    shipment = kit.shipment(session, "SHP-1", [(a, 60), (b, 40)], via=("POL-RZE", "DEU-RMS"))
    assert (shipment.donor.code, shipment.recipient.code) == ("POL", "UKR")
    assert [(leg.seq, leg.from_site.code, leg.to_site.code) for leg in shipment.legs] == [
        (1, "POL-WAW", "POL-RZE"), (2, "POL-RZE", "DEU-RMS"), (3, "DEU-RMS", "UKR-LWO")]
    assert [(line.allocation_id, line.quantity) for line in shipment.lines] == [(a.id, 60),
                                                                              (b.id, 40)]
    assert shipment.status is ShipmentStatus.PLANNED
    assert shipment.releasability is Releasability.COALITION
    with pytest.raises(NotFound):
        logistics_service.get_shipment(session, actor=world.actor("observer"),
                                       shipment_id=shipment.id)
    assert logistics_service.get_shipment(session, actor=world.actor("jpn"),
                                          shipment_id=shipment.id) is shipment


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"origin": "POL-RZE"}, "origin", "must be a donor depot"),
        ({"via": ("UKR-KBP",)}, "legs[0].to", "must be a logistics hub"),
        ({"destination": "DEU-RMS"}, "legs[1].to", "must be a recipient depot"),
        ({"via": ("POL-RZE", "POL-RZE")}, "legs", "visits a site twice"),
        ({"via": ("NOPE",)}, "legs[0].to", "unknown site code"),
    ],
)
def test_shipment_refuses_bad_routes(sites: None, session: Session, kwargs: dict[str, object],
                                     field: str, message: str) -> None:
    a = kit.allocation(session)
    with pytest.raises(ValidationFailed, match=message) as caught:
        kit.shipment(session, "SHP-X", [(a, 10)], **kwargs)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == field


def test_shipment_never_plans_more_than_the_allocation(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 70)])
    with pytest.raises(ValidationFailed, match="has 30 of 100 left to ship"):
        kit.shipment(session, "SHP-2", [(a, 31)])
    assert kit.shipment(session, "SHP-2", [(a, 30)]).id


def test_cancelled_shipment_gives_its_quantity_back(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    ingest.ingest_events(session, actor=SYSTEM,
                         rows=[kit.event("C-1", "SHP-1", "cancelled", 1)])
    again = kit.shipment(session, "SHP-2", [(a, 100)])
    assert again.status is ShipmentStatus.PLANNED


def test_shipment_refuses_mixed_donors_and_cancelled_allocations(sites: None,
                                                                  session: Session) -> None:
    pol = kit.allocation(session, donor="POL")
    deu = kit.allocation(session, donor="DEU")
    with pytest.raises(ValidationFailed, match="one donor"):
        kit.shipment(session, "SHP-X", [(pol, 10), (deu, 10)])
    flows.cancel_allocation(session, actor=SYSTEM, allocation_id=pol.id, reason="test")
    with pytest.raises(ValidationFailed, match="allocation is cancelled"):
        kit.shipment(session, "SHP-X", [(pol, 10)])
    with pytest.raises(ValidationFailed, match="appears twice"):
        kit.shipment(session, "SHP-X", [(deu, 10), (deu, 5)], origin="DEU-BER")


def test_shipment_reference_is_unique(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    kit.shipment(session, "SHP-1", [(a, 10)])
    with pytest.raises(Conflict, match="already exists"):
        kit.shipment(session, "SHP-1", [(a, 10)])


def test_only_the_donor_nation_or_secretariat_plans(world: World, sites: None,
                                                    session: Session) -> None:
    a = kit.allocation(session, donor="POL")
    with pytest.raises(Forbidden, match="own nation"):
        kit.shipment(session, "SHP-1", [(a, 10)], actor=world.actor("deu"))
    with pytest.raises(Forbidden, match="donor nation or the secretariat"):
        kit.shipment(session, "SHP-1", [(a, 10)], actor=world.actor("ukr"))
    with pytest.raises(Forbidden):
        kit.shipment(session, "SHP-1", [(a, 10)], actor=world.actor("observer"))
    assert kit.shipment(session, "SHP-1", [(a, 10)], actor=world.actor("pol")).id
    assert kit.shipment(session, "SHP-2", [(a, 10)], actor=world.actor("coord")).id
    coord = world.actor("coord")  # sees UDCG's records as a member, runs another format
    nsatu = dataclasses.replace(coord, coordinated_format_ids=frozenset({-1}),
                                member_format_ids=coord.coordinated_format_ids)
    with pytest.raises(Forbidden, match="format they coordinate"):
        kit.shipment(session, "SHP-3", [(a, 10)], actor=nsatu)


def test_invisible_allocation_does_not_exist(world: World, sites: None,
                                             session: Session) -> None:
    a = kit.allocation(session, donor="DEU")
    pledge = a.pledge
    pledge.releasability = Releasability.NATIONAL
    session.flush()
    with pytest.raises(NotFound, match=f"no allocation with id {a.id}"):
        kit.shipment(session, "SHP-1", [(a, 10)], origin="DEU-BER", actor=world.actor("pol"))
