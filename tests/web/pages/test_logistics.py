"""The logistics pages: shipments with late ones highlighted, the offline map, discrepancies,
shipment detail, and where everything for a requirement is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.logistics import ingest
from tests.factories import World
from tests.service.logistics import kit

Signer = Callable[[str], str]


def _map(html: str) -> dict[str, object]:
    block = re.search(r'<script type="application/json" data-map>(.*?)</script>', html, re.S)
    assert block, "no map on the page"
    spec: dict[str, object] = json.loads(block.group(1))
    return spec


def _world(session: Session) -> dict[str, int]:
    kit.make_sites(session)
    received = kit.allocation(session, donor="POL", quantity=100)
    late = kit.allocation(session, donor="DEU", quantity=50)
    nato = kit.allocation(session, donor="USA", quantity=10)
    one = kit.shipment(session, "SHP-OK", [(received, 100)])
    two = kit.shipment(session, "SHP-LATE", [(late, 50)], origin="DEU-BER",
                       via=("DEU-RMS", "POL-RZE"), destination="UKR-KBP")
    three = kit.shipment(session, "SHP-NATO", [(nato, 10)], origin="POL-WAW")
    three.releasability = Releasability.NATO
    rows = kit.journey("SHP-OK", received.id, 90)
    rows[-1]["quantity_damaged"] = 10
    rows += [kit.event("L-1", "SHP-LATE", "planned", 0), kit.event("L-2", "SHP-LATE",
                                                                    "dispatched", 1)]
    ingest.ingest_events(session, actor=SYSTEM, rows=rows, source="test")
    session.commit()
    return {"ok": one.id, "late": two.id, "nato": three.id, "requirement": received.requirement_id}


def test_logistics_page_lists_late_discrepancies_and_map(
        client: TestClient, session: Session, world: World, signed_in: Signer) -> None:
    ids = _world(session)
    signed_in("coord")
    html = client.get("/logistics").text
    late = ids["late"]
    assert re.search(rf'<tr class="is-late">\s*<td><a href="/logistics/shipments/{late}">SHP-LATE',
                     html)
    assert "Discrepancies to follow up" in html and "SHP-OK" in html
    spec = _map(html)
    routes = {r["name"].split(":")[0]: r for r in spec["routes"]}  # type: ignore[attr-defined,index]
    assert routes["SHP-LATE"]["tone"] == "danger"
    assert routes["SHP-LATE"]["points"] == ["DEU-BER", "DEU-RMS", "POL-RZE", "UKR-KBP"]
    assert routes["SHP-OK"]["tone"] == "success"
    hubs = {h["id"]: h for h in spec["hubs"]}  # type: ignore[attr-defined,index]
    assert hubs["POL-RZE"]["kind"] == "hub" and hubs["POL-WAW"]["kind"] == "origin"


def test_non_nato_desk_sees_no_nato_shipment(client: TestClient, session: Session,
                                             world: World, signed_in: Signer) -> None:
    ids = _world(session)
    signed_in("jpn")
    html = client.get("/logistics").text
    assert "SHP-NATO" not in html and "SHP-OK" in html
    assert client.get(f"/logistics/shipments/{ids['nato']}").status_code == 404


def test_filters_and_fragment(client: TestClient, session: Session, world: World,
                              signed_in: Signer) -> None:
    _world(session)
    signed_in("coord")
    fragment = client.get("/logistics?status=received",
                          headers={"HX-Request": "true", "HX-Target": "shipment-results"}).text
    assert "<html" not in fragment and "SHP-OK" in fragment and "SHP-LATE" not in fragment
    through = client.get("/logistics?hub=DEU-RMS").text
    table = through.split('id="shipment-table"')[1]
    assert "SHP-LATE" in table and "SHP-OK" not in table
    bad = client.get("/logistics?status=lost").text
    assert "Choose one of the listed statuses." in bad


def test_shipment_detail_shows_route_lines_and_events(client: TestClient, session: Session,
                                                      world: World, signed_in: Signer) -> None:
    ids = _world(session)
    signed_in("pol")
    html = client.get(f"/logistics/shipments/{ids['ok']}").text
    assert "Rzeszów-Jasionka Airport" in html
    assert "90 received, 10 damaged" in html
    assert 'class="is-warning"' in html  # the line with the discrepancy
    late = client.get(f"/logistics/shipments/{ids['late']}").text
    assert "This shipment is late" in late


def test_requirement_detail_says_where_its_goods_are(client: TestClient, session: Session,
                                                     world: World, signed_in: Signer) -> None:
    ids = _world(session)
    signed_in("ukr")
    html = client.get(f"/requirements/{ids['requirement']}").text
    assert f'href="/logistics/shipments/{ids["ok"]}">SHP-OK</a>' in html


def test_empty_logistics_explains_itself(client: TestClient, signed_in: Signer) -> None:
    signed_in("coord")
    html = client.get("/logistics").text
    assert "No hubs or shipments yet" in html
    assert "No shipment is late" in html
    assert "Every receipt matches what was sent" in html

