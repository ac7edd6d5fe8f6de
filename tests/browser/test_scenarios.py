"""A withdrawal scenario in the browser: pick a donor, see the gaps, then rank the top 10."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy.orm import Session as DbSession

from coalition.access.actor import actor_for_user
from coalition.access.service import get_user
from coalition.matching import scenarios
from tests.browser.conftest import Server, Session


def test_withdrawal_scenario_and_top_ten(ui: Session, server: Server) -> None:
    with DbSession(server.engine) as db:
        actor = actor_for_user(db, get_user(db, name="udcg-secretariat"))
        expected = scenarios.withdraw(db, actor=actor, donor="USA", max_gaps=50)
    page = ui.login("udcg-secretariat")
    ui.go("/scenarios")
    page.get_by_label("Donor withdrawing").select_option("USA")
    page.get_by_test_id("run-scenario").click()
    expect(page).to_have_url(re.compile(r"/scenarios\?donor=USA"), timeout=60_000)
    figures = page.get_by_test_id("scenario-figures")
    expect(figures).to_contain_text(f"{expected.pledges_withdrawn:,}")
    critical = figures.locator(".card").filter(
        has=page.locator(".card__label", has_text="Critical ones"))
    expect(critical.locator(".card__value")).to_have_text(
        f"{expected.critical_requirements_losing:,}")
    expect(page.locator("#chart-scenario-areas canvas")).to_be_visible()
    ui.shot("scenario-usa")

    page.get_by_label("Top donors by pledged value").fill("10")
    page.get_by_test_id("run-top").click()
    expect(page).to_have_url(re.compile(r"/scenarios\?top=10"), timeout=60_000)
    expect(page.locator("#chart-scenario-ranking canvas")).to_be_visible()
    rows = page.locator("#ranking-table tbody tr")
    expect(rows).to_have_count(10)
    ui.shot("scenario-top-10")
