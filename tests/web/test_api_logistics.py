"""Logistics through HTTP: sites, shipments, the atomic event batch, reports, visibility."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges.models import Allocation
from tests.factories import World
from tests.service.logistics import kit
from tests.web.conftest import auth


@pytest.fixture
def allocation(world: World, session: Session) -> Allocation:
    kit.make_sites(session)
    a = kit.allocation(session, quantity=100)
    session.commit()
    return a


def _shipment(allocation: Allocation, reference: str = "SHP-1") -> dict[str, Any]:
    return {"reference": reference, "origin": "POL-WAW",
            "legs": [{"to": "POL-RZE", "mode": "road", "reference": "PL-CONVOY-7"},
                     {"to": "UKR-LWO", "mode": "rail", "reference": "UZ-4471"}],
            "lines": [{"allocation_id": allocation.id, "quantity": 100}],
            "planned_departure": "2024-07-01T08:00:00Z",
            "planned_arrival": "2024-07-04T08:00:00Z"}


def test_sites_are_listed_and_created_by_their_nation(client: TestClient,
                                                      tokens: dict[str, str],
                                                      allocation: Allocation) -> None:
    hubs = client.get("/api/v1/sites?kind=logistics_hub", headers=auth(tokens["observer"]))
    assert [s["code"] for s in hubs.json()] == ["DEU-RMS", "POL-RZE"]
    assert hubs.json()[1]["latitude"] == "50.110000"
    site = {"code": "POL-KRK", "name": "Kraków depot", "kind": "donor_depot", "country": "POL",
            "latitude": "50.0647", "longitude": "19.9450"}
    assert client.post("/api/v1/sites", json=site,
                       headers=auth(tokens["deu"])).status_code == 403
    created = client.post("/api/v1/sites", json=site, headers=auth(tokens["pol"]))
    assert created.status_code == 201, created.text


def test_shipment_lifecycle_through_the_batch(client: TestClient, tokens: dict[str, str],
                                              allocation: Allocation) -> None:
    created = client.post("/api/v1/shipments", json=_shipment(allocation),
                          headers=auth(tokens["pol"]))
    assert created.status_code == 201, created.text
    shipment = created.json()
    assert [leg["to_site"]["code"] for leg in shipment["legs"]] == ["POL-RZE", "UKR-LWO"]
    rows = kit.journey("SHP-1", allocation.id, 100)
    result = client.post("/api/v1/delivery-events:batch", json=rows,
                         headers=auth(tokens["coord"]))
    assert result.status_code == 200, result.text
    assert result.json()["inserted"] == 6 and result.json()["pledge_transitions"] == 2
    again = client.post("/api/v1/delivery-events:batch", json=rows,
                        headers=auth(tokens["coord"]))
    assert (again.json()["inserted"], again.json()["duplicates"]) == (0, 6)
    detail = client.get(f"/api/v1/shipments/{shipment['id']}", headers=auth(tokens["jpn"]))
    body = detail.json()
    assert body["status"] == "received" and body["event_count"] == 6
    assert [e["kind"] for e in body["events"]][-2:] == ["handed_over", "received"]
    pledge = client.get(f"/api/v1/pledges/{allocation.pledge_id}",
                        headers=auth(tokens["pol"])).json()
    assert (pledge["status"], pledge["quantity_delivered"]) == ("delivered", 100)
    by_donor = client.get("/api/v1/logistics/delivery-by-donor",
                          headers=auth(tokens["pol"])).json()
    assert by_donor[0]["donor"] == "POL" and by_donor[0]["value_delivered_eur"] == "300000.00"


def test_bad_row_is_a_problem_naming_row_and_field(client: TestClient, tokens: dict[str, str],
                                                   allocation: Allocation) -> None:
    client.post("/api/v1/shipments", json=_shipment(allocation), headers=auth(tokens["pol"]))
    rows = kit.journey("SHP-1", allocation.id, 100)
    rows[2]["hub"] = "NOWHERE"
    response = client.post("/api/v1/delivery-events:batch", json=rows,
                           headers=auth(tokens["coord"]))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"field": "hub", "message": "no such logistics hub",
                                          "row": 3, "value": "NOWHERE"}]
    listed = client.get("/api/v1/shipments", headers=auth(tokens["coord"])).json()
    assert listed["items"][0]["event_count"] == 0


def test_batch_size_is_capped(client: TestClient, tokens: dict[str, str],
                              allocation: Allocation) -> None:
    rows = [kit.event(f"E-{n}", "SHP-1", "planned", 0) for n in range(10_001)]
    response = client.post("/api/v1/delivery-events:batch", json=rows,
                           headers=auth(tokens["coord"]))
    assert response.status_code == 422
    assert "10000" in response.json()["detail"]


def test_observer_may_not_record_or_see_coalition_shipments(
        client: TestClient, tokens: dict[str, str], allocation: Allocation) -> None:
    shipment = client.post("/api/v1/shipments", json=_shipment(allocation),
                           headers=auth(tokens["pol"])).json()
    assert client.get(f"/api/v1/shipments/{shipment['id']}",
                      headers=auth(tokens["observer"])).status_code == 404
    refused = client.post("/api/v1/delivery-events:batch",
                          json=kit.journey("SHP-1", allocation.id, 100),
                          headers=auth(tokens["observer"]))
    assert refused.status_code == 403


def test_reports_late_hub_traffic_and_whereabouts(client: TestClient, tokens: dict[str, str],
                                                  allocation: Allocation) -> None:
    client.post("/api/v1/shipments", json=_shipment(allocation), headers=auth(tokens["pol"]))
    client.post("/api/v1/delivery-events:batch?source=LOGFAS",
                json=[{k: v for k, v in row.items() if k != "source"}
                      for row in kit.journey("SHP-1", allocation.id, 100)[:3]],
                headers=auth(tokens["pol"]))
    late = client.get("/api/v1/shipments/late?as_of=2024-07-05T00:00:00Z",
                      headers=auth(tokens["coord"])).json()
    assert [(s["shipment"], s["reason"], s["hours_late"]) for s in late] == [
        ("SHP-1", "overdue", 16)]
    traffic = client.get("/api/v1/hubs/POL-RZE/in-transit", headers=auth(tokens["coord"]))
    assert [(t["shipment"], t["where"]) for t in traffic.json()] == [("SHP-1", "at hub")]
    trace = client.get(f"/api/v1/requirements/{allocation.requirement_id}/logistics",
                       headers=auth(tokens["ukr"])).json()
    assert trace["quantity_in_transit"] == 100
    assert trace["allocations"][0]["shipments"][0]["position"] == "POL-RZE"
    assert client.get("/api/v1/shipments/discrepancies",
                      headers=auth(tokens["coord"])).json() == []


def test_openapi_publishes_the_batch_row_shape(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][
        "/api/v1/delivery-events:batch"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["maxItems"] == 10_000
    assert "occurred_at" in schema["items"]["required"]


def test_meeting_report_through_http(client: TestClient, tokens: dict[str, str],
                                     allocation: Allocation, session: Session) -> None:
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="UDCG meeting, Ramstein", held_on=dt.date(2024, 6, 13),
        place="Ramstein Air Base", chair="USA"))
    meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                             pledge_id=allocation.pledge_id)
    session.commit()
    client.post("/api/v1/shipments", json=_shipment(allocation), headers=auth(tokens["pol"]))
    client.post("/api/v1/delivery-events:batch", json=kit.journey("SHP-1", allocation.id, 40),
                headers=auth(tokens["pol"]))
    body = client.get(f"/api/v1/meetings/{meeting.id}/report",
                      headers=auth(tokens["jpn"])).json()
    assert body["meeting"]["place"] == "Ramstein Air Base"
    [row] = body["announcements"]
    assert (row["quantity_shipped"], row["quantity_delivered"], row["delivery_rate"]) == (
        100, 40, "0.4000")
    assert (body["totals"]["value_eur"], body["totals"]["value_delivered_eur"],
            body["totals"]["delivery_rate_value"]) == ("300000.00", "120000.00", "0.4000")
    assert client.get(f"/api/v1/meetings/{meeting.id}/report",
                      headers=auth(tokens["observer"])).json()["announcements"] == []
