"""Every page renders for the roles that may see it, and explains itself when empty."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from tests import factories
from tests.factories import DAY, World

Signer = Callable[[str], str]
# Matching is internal coordination work (observers see only public records); scenarios
# aggregate over everything one may see: analysis work, not national desks'.
FORBIDDEN = {"observer": ("/matching", "/scenarios"), "pol": ("/scenarios",),
             "jpn": ("/scenarios",), "ukr": ("/scenarios",)}
PAGES = ["/", "/requirements", "/pledges", "/matching", "/logistics", "/meetings",
         "/scenarios"]


@pytest.mark.parametrize("user", ["coord", "pol", "jpn", "ukr", "observer", "analyst-jpn",
                                  "admin"])
def test_every_page_renders_for_every_role(client: TestClient, signed_in: Signer,
                                           user: str) -> None:
    signed_in(user)
    for path in PAGES:
        response = client.get(path)
        expected = 403 if path in FORBIDDEN.get(user, ()) else 200
        assert response.status_code == expected, (path, response.text[:500])
        nav = response.text.split('class="main-nav"')[1].split("</nav>")[0]
        for hidden in FORBIDDEN.get(user, ()):
            assert f'href="{hidden}"' not in nav, (user, hidden)
        assert 'class="main-nav"' in response.text
        assert "Content-Security-Policy" in response.headers
        # No inline script or style: the CSP forbids them.
        assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", response.text)
        assert ' style="' not in response.text


def test_empty_lists_say_so_in_words(client: TestClient, signed_in: Signer) -> None:
    signed_in("coord")
    assert "No pledges match these filters" in client.get("/pledges").text
    assert "No requirements match these filters" in client.get("/requirements").text
    assert "No meetings have been released to you" in client.get("/meetings").text


def test_requirements_list_filters_and_detail(client: TestClient, session: Session,
                                              world: World, signed_in: Signer) -> None:
    critical = factories.requirement(session, priority=1, quantity=100)
    later = factories.requirement(session, priority=4, quantity=10)
    nato = factories.requirement(session, priority=2, releasability=Releasability.NATO)
    session.commit()
    signed_in("jpn")
    html = client.get("/requirements").text
    assert critical.reference in html and later.reference in html
    assert nato.reference not in html
    only = client.get("/requirements?priority=1",
                      headers={"HX-Request": "true", "HX-Target": "requirement-results"}).text
    assert critical.reference in only and later.reference not in only
    assert "<html" not in only
    detail = client.get(f"/requirements/{critical.id}")
    assert detail.status_code == 200
    assert "Coverage: 0 delivered, 0 in transit, 0 approved not yet shipped, of 100" in detail.text
    assert client.get(f"/requirements/{nato.id}").status_code == 404


def test_requirement_detail_lists_serving_pledges(client: TestClient, session: Session,
                                                  world: World, signed_in: Signer) -> None:
    from coalition.pledges import flows

    need = factories.requirement(session, quantity=100)
    pledge = factories.pledge(session, donor="POL", quantity=60, confirm=True)
    flows.allocate(session, actor=SYSTEM, pledge_id=pledge.id, requirement_id=need.id,
                   quantity=60)
    session.commit()
    signed_in("coord")
    html = client.get(f"/requirements/{need.id}").text
    assert f'href="/pledges/{pledge.id}"' in html
    assert "60% covered" in html


def test_meetings_list_and_detail(client: TestClient, session: Session, world: World,
                                  signed_in: Signer) -> None:
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="UDCG-20 at Ramstein", held_on=DAY, place="Ramstein Air Base",
        attendees=["USA", "POL", "JPN"]))
    hidden = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="NATO-only session", held_on=DAY,
        releasability=Releasability.NATO))
    shown = factories.pledge(session, donor="USA", quantity=1000, confirm=True)  # €3.0 m
    secret = factories.pledge(session, donor="USA", quantity=2000,
                              releasability=Releasability.NATO)
    for pledge in (shown, secret):
        meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                                 pledge_id=pledge.id)
    session.commit()
    signed_in("jpn")
    listing = client.get("/meetings").text
    assert "UDCG-20 at Ramstein" in listing and "NATO-only session" not in listing
    assert "€3.0 m" in listing and "€9.0 m" not in listing
    detail = client.get(f"/meetings/{meeting.id}").text
    assert "Ramstein Air Base" in detail and "USA, POL, JPN" in detail
    assert f'href="/pledges/{shown.id}"' in detail
    assert f'href="/pledges/{secret.id}"' not in detail
    assert "1 pledges released to you, 1,000 units" in detail
    assert client.get(f"/meetings/{hidden.id}").status_code == 404
    client.cookies.clear()
    signed_in("pol")
    assert "€9.0 m" in client.get(f"/meetings/{meeting.id}").text


def test_audit_is_for_coordinators_and_admins(client: TestClient, session: Session,
                                              world: World, signed_in: Signer) -> None:
    factories.pledge(session, donor="POL")
    session.commit()
    signed_in("pol")
    assert client.get("/audit").status_code == 403
    assert 'href="/audit"' not in client.get("/").text
    client.cookies.clear()
    signed_in("admin")
    page = client.get("/audit?action=pledge")
    assert page.status_code == 200
    assert "pledge.create" in page.text
    verified = client.get("/audit/verify", headers={"HX-Request": "true"})
    assert "The chain is intact" in verified.text
    bad = client.get("/audit?target=:7")
    assert "Some filters are not valid" in bad.text


def test_unknown_record_is_a_friendly_404(client: TestClient, signed_in: Signer) -> None:
    signed_in("coord")
    response = client.get("/pledges/999999")
    assert response.status_code == 404
    assert "Go to the overview" in response.text


def test_unknown_address_is_a_page_for_browsers_and_a_problem_for_programs(
        client: TestClient) -> None:
    browser = client.get("/pledgez", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 404
    assert "Go to the overview" in browser.text
    program = client.get("/pledgez", headers={"Accept": "application/json"})
    assert program.status_code == 404
    assert program.headers["content-type"] == "application/problem+json"
    api = client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
    assert api.headers["content-type"] == "application/problem+json"


def test_static_assets_are_served(client: TestClient) -> None:
    for path in ("/static/js/coalition.js", "/static/vendor/htmx.org/htmx.min.js",
                 "/static/css/coalition.css", "/static/vendor/chart.js/chart.umd.min.js"):
        assert client.get(path).status_code == 200, path
