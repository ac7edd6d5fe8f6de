"""Handing the coordination of a format to a new lead, e.g. from the United States to NATO.

`plan_handover` only reads: it counts what the format's records are (they are all carried over
unchanged) and lists the NATO-labelled records that member states outside NATO cannot see.
Once NATO leads, the format's secretariat works on NATO-labelled records as a matter of course,
so those members would be left out of them; `relabel_coalition` relabels exactly these records
COALITION first, so every member keeps sight of them. `execute_handover` does all of it in the
caller's single transaction: relabel (each audited), the lead change (the lead history keeps
the old period), a decision approved by the actor, and one audit entry for the hand-over.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.labels import Releasability, Role
from coalition.access.visibility import can_see, labelled_models
from coalition.errors import Conflict, ValidationFailed
from coalition.meetings import service as meeting_service
from coalition.meetings.models import (
    Decision,
    DecisionStatus,
    Meeting,
    MeetingAnnouncement,
    MeetingAttendee,
)
from coalition.meetings.schemas import DecisionCreate
from coalition.pledges.models import Allocation, Pledge, PledgeTransition
from coalition.registry import service as registry_service
from coalition.registry.models import (
    CapabilityCoalition,
    Format,
    FormatLead,
    FormatMembership,
    Participant,
)
from coalition.schemas_common import Schema

NATO_CODE = "NATO"
_SUMMARY_FIELDS = ("reference", "external_id", "title", "text")


class HandoverRequest(Schema):
    to: str = Field(description="New lead: a participant or format code, e.g. NATO.")
    on: dt.date | None = Field(default=None, description="Date of the hand-over (today).")
    dry_run: bool = Field(default=False, description="Only report the impact.")
    relabel_coalition: bool = Field(
        default=False, description="Relabel NATO records members outside NATO cannot see "
        "COALITION before the hand-over.")


class RecordRef(BaseModel):
    type: str
    id: int
    owner: str | None
    summary: str


class MemberImpact(BaseModel):
    """A member outside NATO and the NATO-labelled records of the format it cannot see."""

    participant: str
    name: str
    kind: str
    hidden: list[RecordRef]


class HandoverPlan(BaseModel):
    format: str
    to: str
    from_lead: str | None
    to_lead: str
    on: dt.date
    nato_led_after: bool
    relabel_coalition: bool
    # Rows of the format per table: identical after the hand-over.
    carried_over: dict[str, int]
    lead_periods: int
    nato_labelled: list[RecordRef]
    members_losing_sight: list[MemberImpact]
    # What execute relabels NATO -> COALITION (empty unless relabel_coalition).
    relabel: list[RecordRef]


class HandoverResult(BaseModel):
    plan: HandoverPlan
    carried_over_after: dict[str, int]
    relabelled: int
    decision_id: int
    lead_periods_after: int


def _resolve_to(session: Session, code: str) -> tuple[Participant, str]:
    """A participant code, or a format code standing for that format's current lead."""
    wanted = code.strip().upper()
    participant = session.scalar(select(Participant).where(Participant.code == wanted))
    if participant is not None:
        return participant, participant.code
    fmt = session.scalar(select(Format).where(Format.code == wanted))
    if fmt is not None and fmt.lead is not None:
        return fmt.lead, f"{fmt.code} (led by {fmt.lead.code})"
    if fmt is not None:
        raise ValidationFailed.single("to", f"format {fmt.code} has no lead to hand over to",
                                      code)
    raise ValidationFailed.single("to", "unknown participant or format code", code)


def _count(session: Session, stmt: Any) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def carried_over(session: Session, *, format_id: int, skip_decision_id: int | None = None
                 ) -> dict[str, int]:
    """Rows that belong to the format, per table (the hand-over's own decision left out)."""
    counts: dict[str, int] = {}
    for model in labelled_models():
        stmt = select(model.id).where(model.format_id == format_id)
        if model is Decision and skip_decision_id is not None:
            stmt = stmt.where(Decision.id != skip_decision_id)
        counts[model.__tablename__] = _count(session, stmt)
    format_pledges = select(Pledge.id).where(Pledge.format_id == format_id)
    format_meetings = select(Meeting.id).where(Meeting.format_id == format_id)
    counts["allocations"] = _count(session, select(Allocation.id).where(
        Allocation.pledge_id.in_(format_pledges)))
    counts["pledge_transitions"] = _count(session, select(PledgeTransition.id).where(
        PledgeTransition.pledge_id.in_(format_pledges)))
    counts["meeting_announcements"] = _count(session, select(MeetingAnnouncement.id).where(
        MeetingAnnouncement.meeting_id.in_(format_meetings)))
    counts["meeting_attendees"] = _count(session, select(MeetingAttendee.id).where(
        MeetingAttendee.meeting_id.in_(format_meetings)))
    counts["format_memberships"] = _count(session, select(FormatMembership.id).where(
        FormatMembership.format_id == format_id))
    counts["capability_coalitions"] = _count(session, select(CapabilityCoalition.id).where(
        CapabilityCoalition.format_id == format_id))
    return dict(sorted(counts.items()))


def _lead_periods(session: Session, format_id: int) -> int:
    return _count(session, select(FormatLead.id).where(FormatLead.format_id == format_id))


def _nato_labelled(session: Session, format_id: int) -> list[Any]:
    records: list[Any] = []
    for model in labelled_models():
        records += session.scalars(
            select(model).where(model.format_id == format_id,
                                model.releasability == Releasability.NATO)
            .order_by(model.id))
    return records


def _ref(record: Any, codes: dict[int, str]) -> RecordRef:
    owner_id = getattr(record, type(record).__owner_column__)
    summary = next((str(getattr(record, f)) for f in _SUMMARY_FIELDS
                    if getattr(record, f, None)), "")
    return RecordRef(type=record.__tablename__, id=record.id,
                     owner=codes.get(owner_id) if owner_id is not None else None,
                     summary=summary[:80])


def _national_view(session: Session, participant: Participant, on: dt.date) -> Actor:
    """How a national desk of `participant` sees records on `on` (the same rule as its users:
    the lead of a format changes only what the format's coordinators see)."""
    formats = frozenset(session.scalars(select(FormatMembership.format_id).where(
        FormatMembership.participant_id == participant.id, FormatMembership.joined_on <= on,
        FormatMembership.left_on.is_(None) | (FormatMembership.left_on > on))))
    return Actor(name=f"desk of {participant.code}", role=Role.NATIONAL,
                 participant_id=participant.id, participant_code=participant.code,
                 is_nato=participant.is_nato_member(on), member_format_ids=formats)


def _check_allowed(actor: Actor, fmt: Format) -> None:
    policy.ensure(actor, policy.HAND_OVER)
    policy.ensure_coordinates(actor, fmt.id, what="hand over the coordination")


def plan_handover(session: Session, *, actor: Actor, format_code: str, to_code: str,
                  on: dt.date | None = None, relabel_coalition: bool = False) -> HandoverPlan:
    """The impact report of a hand-over; changes nothing."""
    fmt = registry_service.get_format(session, code=format_code)
    _check_allowed(actor, fmt)
    on = on or dt.datetime.now(dt.UTC).date()
    new_lead, to_label = _resolve_to(session, to_code)
    if fmt.lead_participant_id == new_lead.id:
        raise Conflict(f"{new_lead.code} already leads {fmt.code}")
    current = session.scalar(select(FormatLead).where(FormatLead.format_id == fmt.id,
                                                      FormatLead.ended_on.is_(None)))
    if current is not None and on < current.started_on:
        raise ValidationFailed.single("on", "hand-over cannot predate the current lead's start "
                                      f"({current.started_on})", on)
    codes = dict(session.execute(select(Participant.id, Participant.code)).all())
    records = _nato_labelled(session, fmt.id)
    impacts: list[MemberImpact] = []
    hidden_keys: set[tuple[str, int]] = set()
    for membership in registry_service.members(session, format_id=fmt.id, on=on):
        member = membership.participant
        if member.is_nato_member(on):
            continue
        view = _national_view(session, member, on)
        hidden = [_ref(r, codes) for r in records if not can_see(view, r)]
        if hidden:
            impacts.append(MemberImpact(participant=member.code, name=member.name,
                                        kind=member.kind.value, hidden=hidden))
            hidden_keys |= {(h.type, h.id) for h in hidden}
    nato_labelled = [_ref(r, codes) for r in records]
    return HandoverPlan(
        format=fmt.code, to=to_label, from_lead=fmt.lead.code if fmt.lead else None,
        to_lead=new_lead.code, on=on, nato_led_after=new_lead.code == NATO_CODE,
        relabel_coalition=relabel_coalition,
        carried_over=carried_over(session, format_id=fmt.id),
        lead_periods=_lead_periods(session, fmt.id), nato_labelled=nato_labelled,
        members_losing_sight=impacts,
        relabel=[r for r in nato_labelled if (r.type, r.id) in hidden_keys]
        if relabel_coalition else [],
    )


def _relabel(session: Session, actor: Actor, refs: list[RecordRef]) -> int:
    models = {model.__tablename__: model for model in labelled_models()}
    by_type: dict[str, list[int]] = defaultdict(list)
    for ref in refs:
        by_type[ref.type].append(ref.id)
    done = 0
    for table, ids in by_type.items():
        model = models[table]
        for record in session.scalars(select(model).where(model.id.in_(ids))
                                      .order_by(model.id)):
            before = audit.snapshot(record)
            record.releasability = Releasability.COALITION
            session.flush()
            audit.record(session, actor=actor, action="handover.relabel", target=record,
                         before=before)
            done += 1
    return done


def _decision_text(plan: HandoverPlan, relabelled: int) -> str:
    text = (f"Coordination of {plan.format} handed over from {plan.from_lead or 'no lead'} to "
            f"{plan.to} on {plan.on.isoformat()}; every delivery remains a national decision.")
    outside = ", ".join(m.participant for m in plan.members_losing_sight)
    if relabelled:
        text += (f" {relabelled} NATO-labelled records were relabelled COALITION so that "
                 f"members outside NATO ({outside}) keep sight of them.")
    elif outside:
        text += (f" {len(plan.nato_labelled)} NATO-labelled records stay NATO: members outside "
                 f"NATO ({outside}) do not see them.")
    return text


def execute_handover(session: Session, *, actor: Actor, format_code: str, to_code: str,
                     on: dt.date | None = None, relabel_coalition: bool = False
                     ) -> HandoverResult:
    """One transaction (the caller's): nothing of the format is lost, the old lead's period is
    closed, not deleted, and the hand-over is recorded as an adopted decision."""
    plan = plan_handover(session, actor=actor, format_code=format_code, to_code=to_code, on=on,
                         relabel_coalition=relabel_coalition)
    relabelled = _relabel(session, actor, plan.relabel)
    fmt = registry_service.change_lead(
        session, actor=actor, code=plan.format, new_lead=plan.to_lead, on=plan.on,
        note=f"hand-over of coordination, approved by {actor.label}")
    decision = meeting_service.record_decision(
        session, actor=actor, meeting_id=None, format_code=plan.format, data=DecisionCreate(
            text=_decision_text(plan, relabelled), status=DecisionStatus.ADOPTED,
            decided_by=plan.from_lead, decided_on=plan.on, releasability=Releasability.PUBLIC))
    after = carried_over(session, format_id=fmt.id, skip_decision_id=decision.id)
    if after != plan.carried_over:
        # Cannot happen through the steps above; if it ever does, nothing is committed.
        raise Conflict(f"hand-over would not carry over every record: {plan.carried_over} "
                       f"before, {after} after")
    result = HandoverResult(plan=plan, carried_over_after=after, relabelled=relabelled,
                            decision_id=decision.id,
                            lead_periods_after=_lead_periods(session, fmt.id))
    audit.record(session, actor=actor, action="format.handover", target=fmt, after={
        "from_lead": plan.from_lead, "to_lead": plan.to_lead, "on": plan.on,
        "relabelled": [[r.type, r.id] for r in plan.relabel], "decision_id": decision.id,
        "carried_over": after})
    return result
