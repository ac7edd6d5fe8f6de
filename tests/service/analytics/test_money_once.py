"""Count money once: a contribution to a joint fund and the fund's purchase from it never
both enter one total (figures from ledger.py: p4 = JPN's 1,000,000 EUR contribution, p5 = the
fund's 800,000 EUR purchase paid from it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.analytics import reports
from coalition.analytics.schemas import Period, ReportFilter
from coalition.catalog.models import CapabilityArea
from tests.service.analytics.ledger import EUR, Ledger

# p1 + p2 + p3 (stock and procurement pledges, counted in every view).
DIRECT = (300_000 + 700_000 + 125_000) * EUR
CONTRIBUTION = 1_000_000 * EUR
PURCHASE = 800_000 * EUR


def test_totals_by_donor_count_the_contribution_not_the_purchase(ledger: Ledger,
                                                                   session: Session) -> None:
    report = reports.donors(session, actor=SYSTEM)
    assert report.total_value_eur_cents == DIRECT + CONTRIBUTION
    assert {r.donor: r.value_eur_cents for r in report.rows}["JPN"] == CONTRIBUTION
    assert "FUND" not in {r.donor for r in report.rows}


def test_totals_by_item_count_the_purchase_not_the_contribution(ledger: Ledger,
                                                                  session: Session) -> None:
    areas = reports.areas(session, actor=SYSTEM)
    assert areas.total_value_eur_cents == DIRECT + PURCHASE
    assert CapabilityArea.OTHER not in {r.area for r in areas.rows}  # the placeholder item
    categories = reports.categories(session, actor=SYSTEM)
    assert categories.total_value_eur_cents == DIRECT + PURCHASE
    assert "funds" not in {r.category for r in categories.rows}


def test_no_total_counts_both(ledger: Ledger, session: Session) -> None:
    both = DIRECT + CONTRIBUTION + PURCHASE
    totals = {
        "donors": reports.donors(session, actor=SYSTEM).total_value_eur_cents,
        "areas": reports.areas(session, actor=SYSTEM).total_value_eur_cents,
        "categories": reports.categories(session, actor=SYSTEM).total_value_eur_cents,
        "timeline": reports.timeline(session, actor=SYSTEM).rows[-1]
        .cumulative_pledged_eur_cents,
        "timeline by meeting": reports.timeline(session, actor=SYSTEM, by=Period.MEETING)
        .rows[-1].cumulative_pledged_eur_cents,
        "concentration": sum(r.value_eur_cents
                             for r in reports.concentration(session, actor=SYSTEM).rows),
        "delivery": reports.delivery(session, actor=SYSTEM).total.pledged_eur_cents,
    }
    assert totals == {name: DIRECT + CONTRIBUTION if name == "donors" else DIRECT + PURCHASE
                      for name in totals}
    assert both not in totals.values()


def test_money_once_holds_with_withdrawn_included(ledger: Ledger, session: Session) -> None:
    f = ReportFilter(include_withdrawn=True)
    withdrawn = 30_000 * EUR  # p6
    assert reports.donors(session, actor=SYSTEM, filters=f).total_value_eur_cents == (
        DIRECT + CONTRIBUTION + withdrawn)
    assert reports.areas(session, actor=SYSTEM, filters=f).total_value_eur_cents == (
        DIRECT + PURCHASE + withdrawn)
