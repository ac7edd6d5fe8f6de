"""Reports through HTTP: every role may ask, each sees aggregates over what it may see;
JSON, CSV, SVG and PNG with the right media types (figures from the analytics ledger)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.analytics.schemas import ReportKind
from tests.factories import World
from tests.service.analytics.ledger import EUR, Ledger, build_ledger
from tests.web.conftest import auth


@pytest.fixture
def ledger(world: World, session: Session) -> Ledger:
    return build_ledger(session)


def test_reports_need_a_token(client: TestClient, ledger: Ledger) -> None:
    response = client.get("/api/v1/reports/donors")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("user", "donors"), [
    ("admin", {"JPN", "DEU", "POL", "USA"}),
    ("coord", {"JPN", "DEU", "POL", "USA"}),
    ("pol", {"JPN", "DEU", "POL", "USA"}),
    ("jpn", {"JPN", "DEU", "POL"}),
    ("analyst-jpn", {"JPN", "DEU", "POL"}),
    ("observer", {"JPN"}),
])
def test_each_role_sees_its_own_aggregates(client: TestClient, tokens: dict[str, str],
                                           ledger: Ledger, user: str, donors: set[str]) -> None:
    response = client.get("/api/v1/reports/donors", headers=auth(tokens[user]))
    assert response.status_code == 200, response.text
    assert {r["donor"] for r in response.json()["rows"]} == donors


def test_donors_json(client: TestClient, tokens: dict[str, str], ledger: Ledger) -> None:
    body = client.get("/api/v1/reports/donors", headers=auth(tokens["jpn"])).json()
    assert body["kind"] == "donors" and body["view"] == "donor"
    assert body["total_value_eur_cents"] == 2_000_000 * EUR
    first = body["rows"][0]
    assert (first["donor"], first["value_eur_cents"], first["share_of_total_pct"]) == (
        "JPN", 1_000_000 * EUR, 50.0)


@pytest.mark.parametrize("kind", list(ReportKind))
def test_every_report_answers_json(client: TestClient, tokens: dict[str, str], ledger: Ledger,
                                   kind: ReportKind) -> None:
    response = client.get(f"/api/v1/reports/{kind.value}", headers=auth(tokens["coord"]))
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == kind.value


def test_filters_and_timeline_by_meeting(client: TestClient, tokens: dict[str, str],
                                         ledger: Ledger) -> None:
    headers = auth(tokens["admin"])
    july = client.get("/api/v1/reports/areas?announced_from=2024-07-01", headers=headers).json()
    assert july["filters"]["announced_from"] == "2024-07-01"
    assert july["total_value_eur_cents"] == 1_500_000 * EUR
    meetings = client.get("/api/v1/reports/timeline?by=meeting", headers=headers).json()
    assert meetings["by"] == "meeting"
    assert [r["period"] for r in meetings["rows"]] == ["none"]
    bad = client.get("/api/v1/reports/donors?donor=XXX", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "donor"
    assert client.get("/api/v1/reports/timeline?by=week", headers=headers).status_code == 422


def test_csv(client: TestClient, tokens: dict[str, str], ledger: Ledger) -> None:
    response = client.get("/api/v1/reports/areas?format=csv", headers=auth(tokens["admin"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="areas.csv"' in response.headers["content-disposition"]
    assert response.text.splitlines()[:2] == ["area,pledges,quantity,value_eur,share_of_total_pct",
                                              "artillery,3,350,1125000.00,58.44"]


def test_chart_files(client: TestClient, tokens: dict[str, str], ledger: Ledger) -> None:
    headers = auth(tokens["observer"])
    svg = client.get("/api/v1/reports/donors/chart.svg", headers=headers)
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith("<svg") and "Japan (JPN)" in svg.text
    assert "Germany" not in svg.text  # the observer sees public pledges only
    png = client.get("/api/v1/reports/concentration/chart.png", headers=headers)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    same = client.get("/api/v1/reports/timeline?format=svg&by=meeting", headers=headers)
    assert same.headers["content-type"] == "image/svg+xml"
    assert client.get("/api/v1/reports/donors/chart.gif", headers=headers).status_code == 422
    assert client.get("/api/v1/reports/nope/chart.svg", headers=headers).status_code == 422


def test_chart_data_for_the_dashboard(client: TestClient, tokens: dict[str, str],
                                      ledger: Ledger) -> None:
    body = client.get("/api/v1/reports/areas/chart.json", headers=auth(tokens["admin"])).json()
    panel = body["panels"][0]
    assert (body["kind"], panel["unit"], panel["labels"]) == (
        "areas", "m EUR", ["Artillery", "Air defence"])
    assert panel["series"][0]["values"] == [1.125, 0.8]


def test_openapi_documents_reports(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/reports/donors", "/api/v1/reports/{kind}/chart.{ext}",
            "/api/v1/reports/{kind}/chart.json"} <= set(paths)
    content = paths["/api/v1/reports/donors"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "image/svg+xml", "image/png"} <= set(content)
