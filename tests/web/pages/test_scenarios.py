"""The scenarios page: one donor's withdrawal (gaps by area and priority, refill candidates)
and the ranking of the top donors; read-only, for coordinators, analysts and admins."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.models import AuditEntry
from tests import factories
from tests.factories import World

Signer = Callable[[str], str]
HX = {"HX-Request": "true", "HX-Target": "scenario-results"}


def _book(session: Session) -> str:
    need = factories.requirement(session, quantity=100, priority=1)
    factories.pledge(session, donor="USA", quantity=80, confirm=True)
    factories.pledge(session, donor="POL", quantity=30, confirm=True)
    session.commit()
    return need.reference


def _chart(html: str) -> dict[str, object]:
    block = re.search(r'<script type="application/json" data-chart>(.*?)</script>', html, re.S)
    assert block, "no chart"
    spec: dict[str, object] = json.loads(block.group(1))
    return spec


def test_withdrawal_shows_gaps_by_area_and_priority(client: TestClient, session: Session,
                                                    world: World, signed_in: Signer) -> None:
    reference = _book(session)
    signed_in("coord")
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    page = client.get("/scenarios")
    assert "Choose a scenario" in page.text
    html = client.get("/scenarios?donor=USA", headers=HX).text
    assert "<html" not in html and "If United States withdrew" in html
    assert re.search(r'Critical ones \(priority 1-2\)</p>\s*<p class="card__value">1<', html)
    assert f'>{reference}</a>' in html
    spec = _chart(html)
    assert spec["labels"] == ["Artillery"]
    priority_1 = spec["datasets"][0]  # type: ignore[index]
    assert priority_1["label"] == "Priority 1" and priority_1["data"][0] > 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries  # read-only


def test_top_donors_ranking(client: TestClient, session: Session, world: World,
                            signed_in: Signer) -> None:
    _book(session)
    signed_in("admin")
    html = client.get("/scenarios?top=2").text
    ranks = re.findall(r'<a href="/scenarios\?donor=([A-Z]+)">', html)
    assert ranks == ["USA", "POL"]
    assert _chart(html)["labels"] == ["USA", "POL"]


def test_bad_choices_are_explained(client: TestClient, session: Session, world: World,
                                   signed_in: Signer) -> None:
    signed_in("coord")
    assert "unknown participant code" in client.get("/scenarios?donor=ZZZ").text
    assert "Enter a date as YYYY-MM-DD." in client.get("/scenarios?donor=USA&from=soon").text
    both = client.get("/scenarios?donor=USA&top=3").text
    assert "choose a donor or the top donors, not both" in both


def test_national_desks_do_not_run_scenarios(client: TestClient, signed_in: Signer) -> None:
    signed_in("jpn")
    assert client.get("/scenarios").status_code == 403
    assert 'href="/scenarios"' not in client.get("/").text.split("</nav>")[0]
