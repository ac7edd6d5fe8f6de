"""The main journeys through the dashboard in a real browser, on the demo data."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coalition.access.actor import actor_for_user
from coalition.access.service import get_user
from coalition.analytics import reports
from coalition.analytics.schemas import DeliveryRow
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge
from coalition.pledges.schemas import PledgeFilter
from tests.browser.conftest import Server, Session

PAGES = {"overview": "/", "requirements": "/requirements", "pledges": "/pledges",
         "matching": "/matching", "logistics": "/logistics", "meetings": "/meetings",
         "scenarios": "/scenarios", "audit": "/audit"}


def _count(server: Server, user: str, filters: PledgeFilter | None = None) -> int:
    with DbSession(server.engine) as db:
        actor = actor_for_user(db, get_user(db, name=user))
        return pledge_service.list_pledges(db, actor=actor, filters=filters, limit=1).total


def _compact(cents: int) -> str:
    """The dashboard's compact money format (integer maths, as in _macros.html)."""
    units = (cents + 50) // 100
    for scale, suffix in ((10**9, " bn"), (10**6, " m"), (10**3, " k")):
        if units >= scale:
            tenths = (units * 10 + scale // 2) // scale
            return f"€{tenths // 10:,}.{tenths % 10}{suffix}"
    return f"€{units:,}"


def _delivery_total(server: Server, user: str) -> DeliveryRow:
    with DbSession(server.engine) as db:
        return reports.delivery(db, actor=actor_for_user(db, get_user(db, name=user))).total


def test_coordinator_sees_the_demo_totals_on_every_page(ui: Session, server: Server) -> None:
    page = ui.login("udcg-secretariat")
    expect(page.get_by_test_id("current-user")).to_have_text("udcg-secretariat")
    expect(page.get_by_test_id("current-role")).to_have_text("Coordinator")
    total = _delivery_total(server, "udcg-secretariat")
    assert total.pledged_eur_cents > 0
    cards = page.get_by_test_id("headline")
    for label, cents in (("Pledged", total.pledged_eur_cents),
                         ("Confirmed", total.confirmed_eur_cents),
                         ("Delivered", total.delivered_eur_cents)):
        card = cards.locator(".card").filter(has=page.locator(".card__label", has_text=label))
        expect(card.locator(".card__value")).to_have_text(_compact(cents))
    expect(cards).to_contain_text(f"{total.pledges:,} standing pledges")
    for chart in ("donors", "timeline", "concentration"):
        expect(page.locator(f"#chart-{chart} canvas").first).to_be_visible()
    for name, path in PAGES.items():
        ui.go(path)
        expect(page.locator("h1").first).to_be_visible()
        if name == "overview":
            expect(page.locator("#chart-concentration canvas").first).to_be_visible()
        ui.shot(f"coordinator-{name}")


def test_filter_pledges_and_export_the_view(ui: Session, server: Server) -> None:
    page = ui.login("udcg-secretariat")
    ui.go("/pledges")
    page.get_by_label("Donor").select_option("DEU")
    expect(page).to_have_url(re.compile(r"/pledges\?donor=DEU"))
    expected = _count(server, "udcg-secretariat", PledgeFilter(donor="DEU"))
    expect(page.locator("#pledge-results .table-footer").first).to_contain_text(
        f"{expected:,} pledge")
    donors = page.locator("#pledge-table tbody tr td:nth-child(2)").all_inner_texts()
    assert donors and set(donors) == {"DEU"}
    page.get_by_role("link", name="Value").click()
    expect(page.locator("#pledge-table th[aria-sort]")).to_have_text(re.compile("Value"))
    ui.shot("pledges-filtered")
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    path = ui.downloads / "pledges.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == expected
    assert {r["donor"] for r in rows} == {"DEU"}


def test_non_nato_desk_sees_no_nato_records_anywhere(ui: Session, server: Server) -> None:
    page = ui.login("desk-jpn")
    expect(page.get_by_test_id("current-nation")).to_have_text("Japan")
    for name, path in PAGES.items():
        if name in ("audit", "scenarios"):  # not the national desks' to open
            expect(page.locator(f'.main-nav a[href="{path}"]')).to_have_count(0)
            continue
        ui.go(path)
        if name == "overview":
            expect(page.locator("#chart-concentration canvas").first).to_be_visible()
        assert page.locator('[data-label="NATO"]').count() == 0, path
        ui.shot(f"desk-jpn-{name}")
    ui.go("/pledges")
    expected = _count(server, "desk-jpn")
    expect(page.locator("#pledge-results .table-footer").first).to_contain_text(f"{expected:,}")
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    export = ui.downloads / "jpn.csv"
    info.value.save_as(export)
    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8-sig"))))
    assert len(rows) == expected
    assert "NATO" not in {r["releasability"] for r in rows}
    with DbSession(server.engine) as db:
        nato_ids = set(db.scalars(select(Pledge.id).where(Pledge.releasability == "NATO")))
    assert nato_ids, "the demo has NATO-labelled pledges to hide"
    assert nato_ids.isdisjoint(int(r["id"]) for r in rows)
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    book = ui.downloads / "jpn.xlsx"
    info.value.save_as(book)
    workbook = openpyxl.load_workbook(book, read_only=True)
    try:
        header, *cells = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    labels = {row[header.index("releasability")] for row in cells}
    assert len(cells) == expected and "NATO" not in labels
    ui.go(f"/pledges/{min(nato_ids)}")
    expect(page.locator("h1")).to_have_text("Not found")
    ui.console.allow("status of 404")


def test_bad_pledge_input_is_shown_next_to_the_field_and_saves_nothing(
        ui: Session, server: Server) -> None:
    page = ui.login("desk-pol")
    with DbSession(server.engine) as db:
        before = db.scalar(select(func.count()).select_from(Pledge)) or 0
    ui.go("/pledges/new")
    page.get_by_label("Item type code").fill("no-such-item")
    page.get_by_label("Quantity").fill("-5")
    page.get_by_label("Value in the pledge's currency").fill("1000")
    ui.console.allow("status of 422")
    page.get_by_role("button", name="Record pledge").click()
    page.wait_for_load_state("networkidle")
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-quantity-error")).to_have_text("Must be more than 0.")
    expect(quantity).to_have_value("-5")
    ui.shot("pledge-form-errors")
    with DbSession(server.engine) as db:
        assert db.scalar(select(func.count()).select_from(Pledge)) == before
    quantity.fill("5")
    page.get_by_role("button", name="Record pledge").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#f-item_type-error")).to_contain_text("unknown")
    page.get_by_label("Item type code").fill("155mm-he-m107")
    page.get_by_role("button", name="Record pledge").click()
    expect(page.get_by_role("status").filter(has_text="The pledge was recorded.")).to_be_visible()
    with DbSession(server.engine) as db:
        assert db.scalar(select(func.count()).select_from(Pledge)) == before + 1
