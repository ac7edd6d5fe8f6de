"""Meetings of coordination formats and their decisions."""

from __future__ import annotations

from fastapi import APIRouter, status

from coalition.meetings import report
from coalition.meetings import service as meeting_service
from coalition.meetings.models import Meeting
from coalition.meetings.schemas import (
    AttendeeRead,
    DecisionCreate,
    DecisionRead,
    MeetingCreate,
    MeetingDetail,
    MeetingRead,
    MeetingReport,
)
from coalition.schemas_common import Schema
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["meetings"])


class AnnouncementCreate(Schema):
    pledge_id: int


class DecisionAtMeeting(DecisionCreate):
    pass


def _detail(session: SessionDep, actor: ActorDep, meeting: Meeting) -> MeetingDetail:
    return MeetingDetail(
        **MeetingRead.model_validate(meeting).model_dump(),
        agenda=meeting.agenda,
        attendees=[AttendeeRead.model_validate(a) for a in meeting.attendees],
        announced_pledge_ids=meeting_service.announced_pledge_ids(session, actor=actor,
                                                                  meeting_id=meeting.id),
        decisions=[DecisionRead.model_validate(d) for d in meeting_service.list_decisions(
            session, actor=actor, meeting_id=meeting.id)],
    )


@router.get("/meetings", response_model=PageOut[MeetingRead])
def list_meetings(session: SessionDep, actor: ActorDep, format: str | None = None,
                  sort: str = "-held_on", limit: Limit = 100, cursor: Cursor = None
                  ) -> PageOut[MeetingRead]:
    page = meeting_service.list_meetings(session, actor=actor, format_code=format, sort=sort,
                                         limit=limit, cursor=cursor)
    return page_out(page, MeetingRead)


@router.get("/meetings/{meeting_id}", response_model=MeetingDetail)
def get_meeting(meeting_id: int, session: SessionDep, actor: ActorDep) -> MeetingDetail:
    return _detail(session, actor, meeting_service.get_meeting(session, actor=actor,
                                                               meeting_id=meeting_id))


@router.post("/meetings", response_model=MeetingDetail, status_code=status.HTTP_201_CREATED)
def create_meeting(data: MeetingCreate, session: SessionDep, actor: ActorDep) -> MeetingDetail:
    return _detail(session, actor,
                   meeting_service.create_meeting(session, actor=actor, data=data))


@router.post("/meetings/{meeting_id}/announcements", response_model=MeetingDetail,
             status_code=status.HTTP_201_CREATED)
def announce(meeting_id: int, data: AnnouncementCreate, session: SessionDep, actor: ActorDep
             ) -> MeetingDetail:
    meeting_service.announce(session, actor=actor, meeting_id=meeting_id,
                             pledge_id=data.pledge_id)
    return _detail(session, actor, meeting_service.get_meeting(session, actor=actor,
                                                               meeting_id=meeting_id))


@router.post("/meetings/{meeting_id}/decisions", response_model=DecisionRead,
             status_code=status.HTTP_201_CREATED)
def record_decision(meeting_id: int, data: DecisionAtMeeting, session: SessionDep,
                    actor: ActorDep) -> DecisionRead:
    meeting = meeting_service.get_meeting(session, actor=actor, meeting_id=meeting_id)
    return DecisionRead.model_validate(meeting_service.record_decision(
        session, actor=actor, meeting_id=meeting.id, format_code=meeting.format.code, data=data))


@router.get("/meetings/{meeting_id}/report", response_model=MeetingReport)
def meeting_report(meeting_id: int, session: SessionDep, actor: ActorDep) -> MeetingReport:
    """What was announced there, and what has been confirmed, shipped and delivered since."""
    return report.meeting_report(session, actor=actor, meeting_id=meeting_id)


@router.get("/decisions", response_model=list[DecisionRead])
def list_decisions(session: SessionDep, actor: ActorDep, format: str | None = None
                   ) -> list[DecisionRead]:
    return [DecisionRead.model_validate(d)
            for d in meeting_service.list_decisions(session, actor=actor, format_code=format)]
