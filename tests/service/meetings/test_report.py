"""A meeting's delivery report on hand-checked figures, and only over visible pledges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.errors import NotFound
from coalition.logistics import ingest
from coalition.meetings import report
from coalition.meetings import service as meeting_service
from coalition.meetings.models import DecisionStatus
from coalition.meetings.schemas import DecisionCreate, MeetingCreate
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Allocation, PledgeStatus
from tests import factories
from tests.factories import World
from tests.service.logistics import kit


def _deliver(session: Session, reference: str, allocation_id: int, shipped: int,
             received: int) -> None:
    allocation = session.get_one(Allocation, allocation_id)
    kit.shipment(session, reference, [(allocation, shipped)])
    rows = kit.journey(reference, allocation_id, received)
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)


@pytest.fixture
def meeting_id(world: World, session: Session) -> int:
    """Ramstein, 13 June 2024: four pledges announced, then partly delivered.

    A  POL 100 x 155-a   300,000.00 EUR   50 shipped, 50 received
    B  DEU  10 x 155-b 1,000,000.00 EUR   10 shipped,  5 received so far
    C  POL  40 x 152-a   100,000.00 EUR   withdrawn
    D  JPN   3 x 155-a       100.00 EUR    1 shipped,  1 received   (NATIONAL)
    """
    kit.make_sites(session)
    a = kit.allocation(session, donor="POL", quantity=100, value_eur=300_000)
    b = kit.allocation(session, donor="DEU", quantity=10, item_type="155-b",
                       value_eur=1_000_000)
    c = factories.pledge(session, donor="POL", item_type="152-a", quantity=40,
                         amount=Decimal(100_000))
    pledge_service.transition(session, actor=SYSTEM, pledge_id=c.id,
                              to=PledgeStatus.WITHDRAWN, reason="stocks needed at home")
    d = kit.allocation(session, donor="JPN", quantity=3, value_eur=100)
    d.pledge.releasability = Releasability.NATIONAL
    session.flush()
    _deliver(session, "SHP-A", a.id, 50, 50)
    _deliver(session, "SHP-B", b.id, 10, 5)
    _deliver(session, "SHP-D", d.id, 1, 1)
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="UDCG meeting, Ramstein", held_on=dt.date(2024, 6, 13),
        place="Ramstein Air Base", chair="USA", attendees=["USA", "DEU", "POL", "JPN"]))
    for pledge_id in (a.pledge_id, b.pledge_id, c.id, d.pledge_id):
        meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                                 pledge_id=pledge_id)
    meeting_service.record_decision(session, actor=SYSTEM, meeting_id=meeting.id,
                                    format_code="UDCG", data=DecisionCreate(
        text="Move coordination into NATO structures.", status=DecisionStatus.ADOPTED,
        decided_by="USA", decided_on=dt.date(2024, 7, 10)))
    return meeting.id


def test_delivery_rates_on_hand_checked_figures(meeting_id: int, session: Session) -> None:
    r = report.meeting_report(session, actor=SYSTEM, meeting_id=meeting_id)
    assert [(a.donor, a.status, a.quantity_confirmed, a.quantity_shipped,
             a.quantity_delivered, a.delivery_rate, a.value_delivered_eur_cents)
            for a in r.announcements] == [
        ("POL", PledgeStatus.ALLOCATED, 100, 50, 50, Decimal("0.5000"), 15_000_000),
        ("DEU", PledgeStatus.SHIPPED, 10, 10, 5, Decimal("0.5000"), 50_000_000),
        ("POL", PledgeStatus.WITHDRAWN, 0, 0, 0, Decimal("0.0000"), 0),
        ("JPN", PledgeStatus.ALLOCATED, 3, 1, 1, Decimal("0.3333"), 3_333),
    ]
    t = r.totals
    assert (t.announcements, t.quantity, t.quantity_confirmed, t.quantity_shipped,
            t.quantity_delivered) == (4, 153, 113, 61, 56)
    # 30,000,000 + 100,000,000 + 10,000,000 + 10,000 cents announced; C was never confirmed.
    assert (t.value_eur_cents, t.value_confirmed_eur_cents, t.value_shipped_eur_cents,
            t.value_delivered_eur_cents) == (140_010_000, 130_010_000, 115_003_333, 65_003_333)
    assert t.delivery_rate_quantity == Decimal("0.3660")  # 56 / 153
    assert t.delivery_rate_value == Decimal("0.4643")  # 65,003,333 / 140,010,000
    assert t.value_delivered_eur == Decimal("650033.33")
    assert [(d.text, d.status) for d in r.decisions] == [
        ("Move coordination into NATO structures.", DecisionStatus.ADOPTED)]


def test_report_counts_only_what_the_reader_may_see(meeting_id: int, world: World,
                                                     session: Session) -> None:
    r = report.meeting_report(session, actor=world.actor("pol"), meeting_id=meeting_id)
    assert [a.donor for a in r.announcements] == ["POL", "DEU", "POL"]
    assert (r.totals.quantity, r.totals.quantity_delivered) == (150, 55)
    assert r.totals.delivery_rate_quantity == Decimal("0.3667")  # 55 / 150
    assert r.totals.delivery_rate_value == Decimal("0.4643")  # 65,000,000 / 140,000,000


def test_unknown_meeting_is_not_found(world: World, session: Session) -> None:
    with pytest.raises(NotFound):
        report.meeting_report(session, actor=SYSTEM, meeting_id=10**9)


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (0, 0, "0"), (1, 3, "0.3333"), (2, 3, "0.6667"), (1, 8, "0.1250"), (5, 5, "1.0000")])
def test_rate_rounds_half_up_to_four_places(part: int, whole: int, expected: str) -> None:
    assert report.rate(part, whole) == Decimal(expected)
