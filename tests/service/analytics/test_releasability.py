"""Aggregates only over what the reader may see (figures from ledger.py: p3 is USA's NATO-
labelled 125,000 EUR pledge; p4, JPN's contribution, is PUBLIC; everything else COALITION)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.analytics import reports
from coalition.analytics.schemas import Period, ReportKind
from coalition.catalog.models import CapabilityArea
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges.models import Pledge
from tests.factories import World
from tests.service.analytics.ledger import EUR, JUNE, Ledger


def test_non_nato_actor_totals_exclude_nato_pledges(ledger: Ledger, world: World,
                                                    session: Session) -> None:
    jpn = world.actor("jpn")
    donors = reports.donors(session, actor=jpn)
    assert {r.donor: r.value_eur_cents for r in donors.rows} == {
        "JPN": 1_000_000 * EUR, "DEU": 700_000 * EUR, "POL": 300_000 * EUR}
    assert donors.total_value_eur_cents == 2_000_000 * EUR
    areas = {r.area: r.value_eur_cents for r in reports.areas(session, actor=jpn).rows}
    assert areas[CapabilityArea.ARTILLERY] == 1_000_000 * EUR
    timeline = reports.timeline(session, actor=jpn)
    assert timeline.rows[0].pledged_eur_cents == 300_000 * EUR  # June without p3
    art = next(r for r in reports.concentration(session, actor=jpn).rows
               if r.area is CapabilityArea.ARTILLERY)
    assert (art.donors, art.value_eur_cents) == (2, 1_000_000 * EUR)
    assert reports.delivery(session, actor=jpn).total.pledged_eur_cents == 1_800_000 * EUR


def test_nato_actor_sees_nato_pledges(ledger: Ledger, world: World, session: Session) -> None:
    donors = reports.donors(session, actor=world.actor("pol"))
    assert {r.donor for r in donors.rows} == {"JPN", "DEU", "POL", "USA"}


def test_non_nato_analyst_same_as_its_nation(ledger: Ledger, world: World,
                                             session: Session) -> None:
    analyst = reports.donors(session, actor=world.actor("analyst-jpn"))
    assert "USA" not in {r.donor for r in analyst.rows}


def test_observer_sees_only_public_aggregates(ledger: Ledger, world: World,
                                              session: Session) -> None:
    observer = world.actor("observer")
    donors = reports.donors(session, actor=observer)
    assert [(r.donor, r.value_eur_cents) for r in donors.rows] == [("JPN", 1_000_000 * EUR)]
    for kind in (ReportKind.AREAS, ReportKind.CATEGORIES, ReportKind.CONCENTRATION,
                 ReportKind.TIMELINE):
        assert reports.table_rows(reports.build(session, actor=observer, kind=kind)) == []


def test_invisible_contribution_does_not_name_its_donor(ledger: Ledger, world: World,
                                                        session: Session) -> None:
    """DEU sees the fund's purchase but not JPN's (now NATIONAL) contribution behind it: the
    purchase counts for the fund, so the report does not reveal who paid."""
    session.execute(update(Pledge).where(Pledge.id == ledger.p4.id)
                    .values(releasability=Releasability.NATIONAL))
    air = {r.area: r for r in reports.concentration(session, actor=world.actor("deu")).rows}
    assert air[CapabilityArea.AIR_DEFENCE].top_donor == "FUND"
    own = {r.area: r for r in reports.concentration(session, actor=world.actor("jpn")).rows}
    assert own[CapabilityArea.AIR_DEFENCE].top_donor == "JPN"


def test_invisible_meeting_counts_as_no_meeting(ledger: Ledger, world: World,
                                                session: Session) -> None:
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Closed NATO session", held_on=JUNE,
        releasability=Releasability.NATO))
    meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                             pledge_id=ledger.p1.id)
    rows = reports.timeline(session, actor=world.actor("jpn"), by=Period.MEETING).rows
    assert [(r.meeting_id, r.label) for r in rows] == [(None, "not announced at a meeting")]
    assert "Closed NATO session" not in str(reports.table_rows(
        reports.timeline(session, actor=world.actor("jpn"), by=Period.MEETING)))
    nato = reports.timeline(session, actor=world.actor("pol"), by=Period.MEETING).rows
    assert nato[0].meeting_id == meeting.id
