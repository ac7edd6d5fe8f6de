"""The dashboard works from the keyboard: sign in, skip to content, sort, page, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Session


def test_keyboard_only_sign_in_sort_and_sign_out(ui: Session) -> None:
    page = ui.go("/login")
    expect(page.get_by_label("User name")).to_be_focused()  # autofocus
    page.keyboard.type("desk-pol")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("current-user")).to_have_text("desk-pol")

    ui.go("/pledges")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    sort_link = page.locator("#pledge-table thead a", has_text="Quantity")
    sort_link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=-quantity"))
    expect(page.locator("#pledge-table th[aria-sort=descending]")).to_have_text("Quantity")
    quantities = page.locator("#pledge-table tbody tr td:nth-child(4)").all_inner_texts()
    values = [int(q.replace(",", "")) for q in quantities]
    assert values == sorted(values, reverse=True)

    next_link = page.get_by_role("link", name="Next ›")
    next_link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(page.get_by_role("link", name="« First page")).to_be_visible()

    page.get_by_role("button", name="Log out").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"/login$"))
    ui.go("/pledges")
    expect(page).to_have_url(re.compile(r"/login\?next=/pledges"))
