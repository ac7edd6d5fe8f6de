"""The overview: headline figures from the analytics reports, charts as htmx fragments, and
reports cached per reader until the data changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access.labels import Releasability
from coalition.web.pages._cache import ReportCache
from tests import factories
from tests.factories import World

Signer = Callable[[str], str]


def _cards(html: str) -> dict[str, str]:
    pairs = re.findall(r'<p class="card__label">([^<]+)</p>\s*<p class="card__value">([^<]+)</p>',
                       html)
    return dict(pairs)


def _specs(html: str) -> list[dict[str, object]]:
    return [json.loads(s) for s in
            re.findall(r'<script type="application/json" data-chart>(.*?)</script>', html, re.S)]


def test_headline_figures_count_only_what_the_reader_may_see(
        client: TestClient, session: Session, world: World, signed_in: Signer) -> None:
    factories.pledge(session, donor="USA", quantity=1000, confirm=True)  # €3.0 m, coalition
    factories.pledge(session, donor="USA", quantity=2000,
                     releasability=Releasability.NATO)  # €6.0 m, NATO only
    factories.requirement(session, priority=1)
    session.commit()
    signed_in("jpn")
    jpn = _cards(client.get("/").text)
    assert jpn["Pledged"] == "€3.0 m"
    assert jpn["Confirmed"] == "€3.0 m"
    assert jpn["Open critical requirements"] == "1"
    client.cookies.clear()
    signed_in("pol")
    assert _cards(client.get("/").text)["Pledged"] == "€9.0 m"


def test_chart_fragments_render_specs_for_chart_js(client: TestClient, session: Session,
                                                   world: World, signed_in: Signer) -> None:
    factories.pledge(session, donor="USA", quantity=1000, confirm=True)
    factories.pledge(session, donor="POL", quantity=500)
    session.commit()
    signed_in("coord")
    page = client.get("/").text
    for name in ("donors", "timeline", "concentration"):
        assert f'hx-get="/overview/charts/{name}"' in page
    donors = client.get("/overview/charts/donors", headers={"HX-Request": "true"})
    assert donors.status_code == 200 and "<html" not in donors.text
    value, gdp = _specs(donors.text)
    assert value["labels"] == ["United States", "Poland"]
    assert value["type"] == "hbar" and gdp["format"] == "percent"
    timeline = _specs(client.get("/overview/charts/timeline").text)[0]
    assert timeline["type"] == "line"
    datasets = timeline["datasets"]
    assert isinstance(datasets, list)
    assert [d["label"] for d in datasets] == ["Pledged", "Confirmed", "Delivered"]
    concentration = client.get("/overview/charts/concentration").text
    assert "Artillery" in concentration and "USA" in concentration
    assert client.get("/overview/charts/nope").status_code == 404


def test_empty_overview_explains_itself(client: TestClient, signed_in: Signer) -> None:
    signed_in("observer")
    assert _cards(client.get("/").text)["Pledged"] == "€0"
    spec = _specs(client.get("/overview/charts/donors").text)[0]
    assert spec["labels"] == [] and spec["empty"] == "No pledges released to you."


def test_reports_are_cached_until_the_next_write(client: TestClient, session: Session,
                                                 world: World, signed_in: Signer) -> None:
    factories.pledge(session, donor="USA", quantity=1000)
    session.commit()
    signed_in("coord")
    cache: ReportCache = client.app.state.report_cache  # type: ignore[attr-defined]
    client.get("/")
    misses = cache.misses
    assert _cards(client.get("/").text)["Pledged"] == "€3.0 m"
    assert cache.misses == misses and cache.hits >= 1
    factories.pledge(session, donor="USA", quantity=1000)  # audited: moves the chain's head
    session.commit()
    assert _cards(client.get("/").text)["Pledged"] == "€6.0 m"
    assert cache.misses == misses + 1
