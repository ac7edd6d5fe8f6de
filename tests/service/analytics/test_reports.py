"""Report figures on the hand-checked ledger (see ledger.py), as an admin sees them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.analytics import reports
from coalition.analytics.schemas import ConcentrationLevel, Period, ReportFilter, ReportKind
from coalition.catalog.models import CapabilityArea
from coalition.errors import ValidationFailed
from coalition.logistics import ingest
from coalition.logistics.models import Shipment
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges import flows
from coalition.pledges.models import Pledge, PledgeStatus, PledgeTransition
from tests import factories
from tests.factories import World
from tests.service.analytics.ledger import EUR, JULY, JUNE, Ledger
from tests.service.logistics import kit

A = CapabilityArea


def test_donors_totals_shares_and_gdp(ledger: Ledger, session: Session) -> None:
    report = reports.donors(session, actor=SYSTEM)
    assert [(r.donor, r.pledges, r.value_eur_cents) for r in report.rows] == [
        ("JPN", 1, 1_000_000 * EUR), ("DEU", 1, 700_000 * EUR), ("POL", 1, 300_000 * EUR),
        ("USA", 1, 125_000 * EUR)]
    assert report.total_value_eur_cents == 2_125_000 * EUR
    assert report.total_pledges == 4
    # 1000/2125, 700/2125, 300/2125, 125/2125 in percent, rounded half-up to hundredths.
    assert [r.share_of_total_pct for r in report.rows] == [
        Decimal("47.06"), Decimal("32.94"), Decimal("14.12"), Decimal("5.88")]
    pol = report.rows[2]
    # 1,081,300,000 USD at 1.0813 USD/EUR = 1,000,000,000 EUR; 300,000 EUR of it is 0.03 %.
    assert (pol.usd_per_eur, pol.gdp_eur_cents) == (Decimal("1.0813"), 10**9 * EUR)
    assert pol.share_of_gdp_pct == Decimal("0.0300")
    # 10^12 USD / 1.0813 = 924,812,725,423.10 EUR; 700,000 EUR of it is 0.0000757 % -> 0.0001.
    assert report.rows[1].gdp_eur_cents == 92_481_272_542_310
    assert report.rows[1].share_of_gdp_pct == Decimal("0.0001")


def test_donors_leave_out_withdrawn_unless_asked(ledger: Ledger, session: Session) -> None:
    report = reports.donors(session, actor=SYSTEM, filters=ReportFilter(include_withdrawn=True))
    deu = next(r for r in report.rows if r.donor == "DEU")
    assert (deu.pledges, deu.value_eur_cents) == (2, 730_000 * EUR)


def test_donors_filter_by_date_and_donor(ledger: Ledger, session: Session) -> None:
    july = reports.donors(session, actor=SYSTEM, filters=ReportFilter(announced_from=JULY))
    assert [(r.donor, r.value_eur_cents) for r in july.rows] == [("DEU", 700_000 * EUR)]
    pol = reports.donors(session, actor=SYSTEM, filters=ReportFilter(donor="POL"))
    assert [r.donor for r in pol.rows] == ["POL"]
    with pytest.raises(ValidationFailed, match="donor"):
        reports.donors(session, actor=SYSTEM, filters=ReportFilter(donor="XXX"))


def test_organisation_without_gdp_has_no_share(ledger: Ledger, session: Session) -> None:
    factories.pledge(session, donor="FUND", item_type="155-a", quantity=1, amount=Decimal(5),
                     format="UDCG")
    fund = next(r for r in reports.donors(session, actor=SYSTEM).rows if r.donor == "FUND")
    assert (fund.gdp_eur_cents, fund.share_of_gdp_pct, fund.value_eur_cents) == (None, None, 500)


def test_gdp_rate_of_an_unlisted_year_is_the_nearest_listed() -> None:
    assert reports.usd_per_eur(2019) == reports.USD_PER_EUR[2020]
    assert reports.usd_per_eur(2031) == reports.USD_PER_EUR[2024]


def test_areas_totals(ledger: Ledger, session: Session) -> None:
    report = reports.areas(session, actor=SYSTEM)
    assert [(r.area, r.pledges, r.quantity, r.value_eur_cents, r.share_of_total_pct)
            for r in report.rows] == [
        (A.ARTILLERY, 3, 350, 1_125_000 * EUR, Decimal("58.44")),
        (A.AIR_DEFENCE, 1, 2, 800_000 * EUR, Decimal("41.56"))]
    assert report.total_value_eur_cents == 1_925_000 * EUR


def test_categories_roll_up_the_tree(ledger: Ledger, session: Session) -> None:
    report = reports.categories(session, actor=SYSTEM)
    assert [(r.category, r.parent, r.depth, r.pledges, r.value_eur_cents, r.own_value_eur_cents)
            for r in report.rows] == [
        ("ammo", None, 0, 4, 1_925_000 * EUR, 1_125_000 * EUR),
        ("interceptors", "ammo", 1, 1, 800_000 * EUR, 800_000 * EUR)]
    assert report.rows[1].root == "ammo"
    assert report.rows[1].share_of_total_pct == Decimal("41.56")
    only = reports.categories(session, actor=SYSTEM, filters=ReportFilter(category="interceptors"))
    assert [(r.category, r.value_eur_cents) for r in only.rows] == [
        ("ammo", 800_000 * EUR), ("interceptors", 800_000 * EUR)]


def test_timeline_by_month_with_running_totals(ledger: Ledger, session: Session) -> None:
    report = reports.timeline(session, actor=SYSTEM)
    assert [(r.period, r.pledges, r.pledged_eur_cents, r.confirmed_eur_cents,
             r.cumulative_pledged_eur_cents, r.cumulative_confirmed_eur_cents)
            for r in report.rows] == [
        ("2024-06", 2, 425_000 * EUR, 300_000 * EUR, 425_000 * EUR, 300_000 * EUR),
        ("2024-07", 2, 1_500_000 * EUR, 700_000 * EUR, 1_925_000 * EUR, 1_000_000 * EUR)]
    assert report.rows[0].starts_on == dt.date(2024, 6, 1)


def test_timeline_fills_empty_months(ledger: Ledger, session: Session) -> None:
    factories.pledge(session, donor="POL", quantity=1, amount=Decimal(10), format="UDCG",
                     announced_on=dt.date(2024, 10, 2), available_from=dt.date(2024, 10, 2))
    report = reports.timeline(session, actor=SYSTEM)
    assert [(r.period, r.pledges) for r in report.rows] == [
        ("2024-06", 2), ("2024-07", 2), ("2024-08", 0), ("2024-09", 0), ("2024-10", 1)]
    assert report.rows[3].cumulative_pledged_eur_cents == 1_925_000 * EUR


def _meeting(session: Session, label: Releasability, *pledges: Pledge) -> int:
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="UDCG meeting, Brussels", held_on=JUNE, releasability=label))
    for p in pledges:
        meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id, pledge_id=p.id)
    return meeting.id


def test_timeline_by_meeting(ledger: Ledger, session: Session) -> None:
    meeting_id = _meeting(session, Releasability.PUBLIC, ledger.p1, ledger.p3)
    report = reports.timeline(session, actor=SYSTEM, by=Period.MEETING)
    assert [(r.meeting_id, r.label, r.pledged_eur_cents, r.cumulative_pledged_eur_cents)
            for r in report.rows] == [
        (meeting_id, "2024-06-13 UDCG meeting, Brussels", 425_000 * EUR, 425_000 * EUR),
        (None, "not announced at a meeting", 1_500_000 * EUR, 1_925_000 * EUR)]
    assert report.rows[1].period == "none"


def test_concentration_per_area(ledger: Ledger, session: Session) -> None:
    report = reports.concentration(session, actor=SYSTEM)
    rows = {r.area: r for r in report.rows}
    art = rows[A.ARTILLERY]
    # Shares 700, 300, 125 of 1125: 10,000 x (700² + 300² + 125²) / 1125² = 4706.17.
    assert (art.top_donor, art.donors, art.top_donor_share_pct, art.hhi, art.level) == (
        "DEU", 3, Decimal("62.22"), Decimal("4706.17"), ConcentrationLevel.HIGH)
    # The fund's purchase counts for JPN, whose contribution paid for it.
    air = rows[A.AIR_DEFENCE]
    assert (air.top_donor, air.donors, air.hhi, air.value_eur_cents) == (
        "JPN", 1, Decimal("10000.00"), 800_000 * EUR)
    assert [r.area for r in report.rows] == [A.AIR_DEFENCE, A.ARTILLERY]


def _deliver(session: Session, ledger: Ledger) -> tuple[Pledge, Pledge]:
    """p1 fully delivered (90 days), p2 50 of 200, p7 1 of 3, p8 fully delivered (30 days)."""
    p7 = factories.pledge(session, donor="POL", item_type="152-a", quantity=3,
                          amount=Decimal(10_000), announced_on=JUNE, available_from=JUNE,
                          format="UDCG", confirm=True)
    p8 = factories.pledge(session, donor="DEU", item_type="152-a", quantity=10,
                          amount=Decimal(25_000), announced_on=JULY, available_from=JULY,
                          format="UDCG", confirm=True)
    r155 = factories.requirement(session, item_type="155-a", quantity=300)
    r152 = factories.requirement(session, item_type="152-a", quantity=20)
    for pledge, req, shipped, delivered in [(ledger.p1, r155, 100, 100), (ledger.p2, r155, 100, 50),
                                            (p7, r152, 1, 1), (p8, r152, 10, 10)]:
        alloc = flows.allocate(session, actor=SYSTEM, pledge_id=pledge.id,
                               requirement_id=req.id, quantity=pledge.quantity)
        flows.apply_progress(session, actor=SYSTEM, allocation_id=alloc.id, shipped=shipped,
                             delivered=delivered, reason="test")
    _delivered_at(session, ledger.p1, dt.datetime(2024, 9, 11, 10, 0, tzinfo=dt.UTC))
    # Late in the UTC day: the day counted is the UTC one on every backend.
    _delivered_at(session, p8, dt.datetime(2024, 8, 9, 23, 30, tzinfo=dt.UTC))
    return p7, p8


def _delivered_at(session: Session, pledge: Pledge, at: dt.datetime) -> None:
    assert pledge.status is PledgeStatus.DELIVERED
    session.execute(update(PledgeTransition).where(
        PledgeTransition.pledge_id == pledge.id,
        PledgeTransition.to_status == PledgeStatus.DELIVERED).values(at=at))


def test_delivery_pipeline_and_median(ledger: Ledger, session: Session) -> None:
    _deliver(session, ledger)
    report = reports.delivery(session, actor=SYSTEM)
    t = report.total
    assert t.area is None
    assert (t.pledges, t.pledged_eur_cents, t.confirmed_eur_cents) == (
        6, 1_960_000 * EUR, 1_035_000 * EUR)
    # 300,000 + 700,000 x 50/200 + 10,000 x 1/3 (333,333 cents, rounded down) + 25,000.
    assert t.delivered_eur_cents == 30_000_000 + 17_500_000 + 333_333 + 2_500_000
    assert (t.pledged_quantity, t.confirmed_quantity, t.delivered_quantity) == (365, 313, 161)
    assert t.delivered_pct == Decimal("25.68")
    # Fully delivered: p1 after 90 days, p8 after 30 days; median (30 + 90) / 2.
    assert (t.delivered_pledges, t.median_days_to_delivery) == (2, Decimal("60.0"))
    rows = {r.area: r for r in report.rows}
    assert rows[A.ARTILLERY].pledged_eur_cents == 1_160_000 * EUR
    assert rows[A.ARTILLERY].median_days_to_delivery == Decimal("60.0")
    assert (rows[A.AIR_DEFENCE].delivered_pledges,
            rows[A.AIR_DEFENCE].median_days_to_delivery) == (0, None)


def test_delivery_median_of_an_odd_count(ledger: Ledger, session: Session) -> None:
    _deliver(session, ledger)
    p9 = factories.pledge(session, donor="POL", item_type="152-a", quantity=1,
                          amount=Decimal(1000), announced_on=JUNE, available_from=JUNE,
                          format="UDCG", confirm=True)
    req = factories.requirement(session, item_type="152-a", quantity=1)
    alloc = flows.allocate(session, actor=SYSTEM, pledge_id=p9.id, requirement_id=req.id,
                           quantity=1)
    flows.apply_progress(session, actor=SYSTEM, allocation_id=alloc.id, shipped=1, delivered=1,
                         reason="test")
    _delivered_at(session, p9, dt.datetime(2024, 12, 30, tzinfo=dt.UTC))  # 200 days
    total = reports.delivery(session, actor=SYSTEM).total
    assert (total.delivered_pledges, total.median_days_to_delivery) == (3, Decimal("90.0"))


def test_empty_database_gives_empty_reports(world: object, session: Session) -> None:
    for kind in ReportKind:
        report = reports.build(session, actor=SYSTEM, kind=kind)
        assert reports.table_rows(report) == ([] if kind is not ReportKind.DELIVERY else [
            reports.table_rows(report)[0]])
    assert reports.delivery(session, actor=SYSTEM).total.pledged_eur_cents == 0


def test_csv_has_euros_not_cents(ledger: Ledger, session: Session) -> None:
    text = reports.to_csv(reports.areas(session, actor=SYSTEM))
    lines = text.splitlines()
    assert lines[0] == "area,pledges,quantity,value_eur,share_of_total_pct"
    assert lines[1] == "artillery,3,350,1125000.00,58.44"
    delivery = reports.to_csv(reports.delivery(session, actor=SYSTEM)).splitlines()
    assert delivery[1].startswith("total,4,1925000.00,")


def test_delivery_date_is_the_last_received_logistics_event(world: object,
                                                            session: Session) -> None:
    """Received at T0 + 40 h (2024-07-03 00:00) for a pledge announced 2024-06-13: 20 days, although
    the 'delivered' transition is written now, when the events are ingested."""
    kit.make_sites(session)
    alloc = kit.allocation(session, donor="POL", quantity=10)
    kit.shipment(session, "SHP-A", [(alloc, 10)])
    ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-A", alloc.id, 10))
    pledge = session.get(Pledge, alloc.pledge_id)
    assert pledge is not None and pledge.status is PledgeStatus.DELIVERED
    total = reports.delivery(session, actor=SYSTEM).total
    assert (total.delivered_pledges, total.median_days_to_delivery) == (1, Decimal("20.0"))


def test_delivery_on_a_shipment_the_reader_may_not_see_falls_back_to_the_transition(
        world: World, session: Session) -> None:
    kit.make_sites(session)
    alloc = kit.allocation(session, donor="POL", quantity=10)
    shipment = kit.shipment(session, "SHP-B", [(alloc, 10)])
    ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-B", alloc.id, 10))
    session.execute(update(Shipment).where(Shipment.id == shipment.id)
                    .values(releasability=Releasability.NATIONAL))
    pol = reports.delivery(session, actor=world.actor("pol")).total  # owns the shipment
    assert pol.median_days_to_delivery == Decimal("20.0")
    pledge = session.get_one(Pledge, alloc.pledge_id)
    pledge.releasability = Releasability.PUBLIC
    session.flush()
    today = dt.datetime.now(dt.UTC).date()
    observer = reports.delivery(session, actor=world.actor("observer")).total
    assert observer.median_days_to_delivery == Decimal((today - factories.DAY).days).quantize(
        Decimal("0.1"))


def test_csv_keeps_exact_decimals(ledger: Ledger, session: Session) -> None:
    rows = list(csv.DictReader(io.StringIO(reports.to_csv(reports.donors(session,
                                                                         actor=SYSTEM)))))
    pol = next(r for r in rows if r["donor"] == "POL")
    assert (pol["value_eur"], pol["share_of_gdp_pct"], pol["kind"]) == ("300000.00", "0.0300",
                                                                         "state")
    assert pol["gdp_eur"] == "1000000000.00"
