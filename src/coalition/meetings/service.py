"""Rules of meetings: attendance by participants, pledges announced once, decisions recorded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.visibility import get_visible, visible
from coalition.errors import Conflict
from coalition.meetings.models import Decision, Meeting, MeetingAnnouncement, MeetingAttendee
from coalition.meetings.schemas import DecisionCreate, MeetingCreate
from coalition.paging import Page, paginate
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge
from coalition.registry import service as registry_service

SORTS = {"held_on": Meeting.held_on, "id": Meeting.id}


def get_meeting(session: Session, *, actor: Actor, meeting_id: int) -> Meeting:
    return get_visible(session, actor, Meeting, meeting_id, noun="meeting")


def list_meetings(session: Session, *, actor: Actor, format_code: str | None = None,
                  sort: str = "-held_on", limit: int = 100, cursor: str | None = None,
                  with_attendees: bool = False) -> Page[Meeting]:
    """Meetings without their collections (lists show none of them; the detail loads them),
    except the attendees when asked for (exports list them)."""
    stmt = visible(select(Meeting), actor, Meeting).options(
        lazyload(Meeting.announcements), lazyload(Meeting.decisions),
        *([] if with_attendees else [lazyload(Meeting.attendees)]))
    if format_code is not None:
        stmt = stmt.where(Meeting.format_id == registry_service.get_format(
            session, code=format_code).id)
    return paginate(session, stmt, id_column=Meeting.id, sortable=SORTS, sort=sort, limit=limit,
                    cursor=cursor)


def create_meeting(session: Session, *, actor: Actor, data: MeetingCreate) -> Meeting:
    """A meeting happens in a format, in a place or virtually, attended by participants."""
    policy.ensure(actor, policy.RECORD_MEETINGS)
    fmt = registry_service.get_format(session, code=data.format)
    policy.ensure_coordinates(actor, fmt.id, what="record meetings")
    chair = (registry_service.resolve_participant(session, code=data.chair, field="chair")
             if data.chair else None)
    meeting = Meeting(format_id=fmt.id, title=data.title, held_on=data.held_on,
                      place=data.place, is_virtual=data.is_virtual,
                      chair_id=chair.id if chair else None, agenda=data.agenda,
                      releasability=data.releasability)
    seen: set[int] = set()
    for index, code in enumerate(data.attendees):
        participant = registry_service.resolve_participant(session, code=code,
                                                           field=f"attendees[{index}]")
        if participant.id not in seen:
            seen.add(participant.id)
            meeting.attendees.append(MeetingAttendee(participant_id=participant.id))
    session.add(meeting)
    session.flush()
    audit.record(session, actor=actor, action="meeting.create", target=meeting)
    return meeting


def announce(session: Session, *, actor: Actor, meeting_id: int, pledge_id: int
             ) -> MeetingAnnouncement:
    """Links a pledge to the meeting where it was announced; a pledge is announced once."""
    policy.ensure(actor, policy.RECORD_MEETINGS)
    meeting = get_meeting(session, actor=actor, meeting_id=meeting_id)
    policy.ensure_coordinates(actor, meeting.format_id, what="record announcements")
    pledge = pledge_service.get_pledge(session, actor=actor, pledge_id=pledge_id)
    existing = session.scalar(select(MeetingAnnouncement)
                              .where(MeetingAnnouncement.pledge_id == pledge.id))
    if existing is not None:
        raise Conflict(f"pledge_id: pledge {pledge.id} was already announced at meeting "
                       f"{existing.meeting_id}")
    announcement = MeetingAnnouncement(meeting_id=meeting.id, pledge_id=pledge.id)
    session.add(announcement)
    session.flush()
    audit.record(session, actor=actor, action="meeting.announce", target=announcement)
    return announcement


def announced_pledge_ids(session: Session, *, actor: Actor, meeting_id: int) -> list[int]:
    """Only pledges the actor may see: an id alone would reveal that a pledge exists."""
    stmt = (select(MeetingAnnouncement.pledge_id)
            .join(Pledge, Pledge.id == MeetingAnnouncement.pledge_id)
            .where(MeetingAnnouncement.meeting_id == meeting_id)
            .order_by(MeetingAnnouncement.id))
    return list(session.scalars(visible(stmt, actor, Pledge)))


def record_decision(session: Session, *, actor: Actor, meeting_id: int | None,
                    format_code: str, data: DecisionCreate) -> Decision:
    policy.ensure(actor, policy.RECORD_MEETINGS)
    fmt = registry_service.get_format(session, code=format_code)
    policy.ensure_coordinates(actor, fmt.id, what="record decisions")
    if meeting_id is not None:
        get_meeting(session, actor=actor, meeting_id=meeting_id)
    decided_by = (registry_service.resolve_participant(session, code=data.decided_by,
                                                       field="decided_by")
                  if data.decided_by else None)
    decision = Decision(meeting_id=meeting_id, format_id=fmt.id, text=data.text,
                        status=data.status, decided_by_id=decided_by.id if decided_by else None,
                        decided_on=data.decided_on, approved_by=actor.label,
                        releasability=data.releasability)
    session.add(decision)
    session.flush()
    audit.record(session, actor=actor, action="decision.record", target=decision)
    return decision


def list_decisions(session: Session, *, actor: Actor, format_code: str | None = None,
                   meeting_id: int | None = None) -> list[Decision]:
    stmt = visible(select(Decision), actor, Decision)
    if meeting_id is not None:
        stmt = stmt.where(Decision.meeting_id == meeting_id)
    if format_code is not None:
        stmt = stmt.where(Decision.format_id == registry_service.get_format(
            session, code=format_code).id)
    return list(session.scalars(stmt.order_by(Decision.id)))
