"""What a meeting announced, and how much of it has been confirmed, shipped and delivered since.

The delivery rate is given two ways because each misleads alone: by quantity, a million rifle
rounds outweigh ten air-defence systems; by EUR value, the reverse. Values follow the pledge's
own EUR value pro rata (whole cents, rounded down), so a half-delivered pledge counts half.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.visibility import visibility_clause
from coalition.meetings import service as meeting_service
from coalition.meetings.models import MeetingAnnouncement
from coalition.meetings.schemas import (
    AnnouncementProgress,
    DecisionRead,
    DeliveryTotals,
    MeetingRead,
    MeetingReport,
)
from coalition.pledges.models import Pledge, PledgeStatus

# A pledge counts as confirmed once the donor confirmed it, whatever happened to it after.
CONFIRMED = frozenset({PledgeStatus.CONFIRMED, PledgeStatus.ALLOCATED, PledgeStatus.SHIPPED,
                       PledgeStatus.DELIVERED})
_RATE = Decimal("0.0001")


def rate(part: int, whole: int) -> Decimal:
    """part / whole to four places, half up; nothing announced is a rate of 0."""
    if whole == 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP)


def pro_rata(value_cents: int, part: int, whole: int) -> int:
    return value_cents * part // whole if whole else 0


def meeting_report(session: Session, *, actor: Actor, meeting_id: int) -> MeetingReport:
    """Only announcements of pledges the actor may see are listed and counted."""
    meeting = meeting_service.get_meeting(session, actor=actor, meeting_id=meeting_id)
    pledges = session.scalars(
        select(Pledge)
        .join(MeetingAnnouncement, MeetingAnnouncement.pledge_id == Pledge.id)
        .where(MeetingAnnouncement.meeting_id == meeting.id,
               visibility_clause(actor, Pledge))
        .order_by(MeetingAnnouncement.id)).all()
    rows = []
    for p in pledges:
        confirmed = p.status in CONFIRMED
        rows.append(AnnouncementProgress(
            pledge_id=p.id, donor=p.donor.code, item_type=p.item_type.name, status=p.status,
            quantity=p.quantity, quantity_confirmed=p.quantity if confirmed else 0,
            quantity_allocated=p.quantity_allocated, quantity_shipped=p.quantity_shipped,
            quantity_delivered=p.quantity_delivered, value_eur_cents=p.value_eur_cents,
            value_delivered_eur_cents=pro_rata(p.value_eur_cents, p.quantity_delivered,
                                               p.quantity),
            delivery_rate=rate(p.quantity_delivered, p.quantity)))
    quantity = sum(r.quantity for r in rows)
    delivered = sum(r.quantity_delivered for r in rows)
    value = sum(r.value_eur_cents for r in rows)
    value_delivered = sum(r.value_delivered_eur_cents for r in rows)
    totals = DeliveryTotals(
        announcements=len(rows), quantity=quantity,
        quantity_confirmed=sum(r.quantity_confirmed for r in rows),
        quantity_shipped=sum(r.quantity_shipped for r in rows), quantity_delivered=delivered,
        value_eur_cents=value,
        value_confirmed_eur_cents=sum(r.value_eur_cents for r in rows if r.quantity_confirmed),
        value_shipped_eur_cents=sum(pro_rata(p.value_eur_cents, p.quantity_shipped, p.quantity)
                                    for p in pledges),
        value_delivered_eur_cents=value_delivered,
        delivery_rate_quantity=rate(delivered, quantity),
        delivery_rate_value=rate(value_delivered, value))
    decisions = meeting_service.list_decisions(session, actor=actor, meeting_id=meeting.id)
    return MeetingReport(meeting=MeetingRead.model_validate(meeting),
                         decisions=[DecisionRead.model_validate(d) for d in decisions],
                         announcements=rows, totals=totals)
