"""Meetings: the list, and each meeting's announcements against what has been delivered since."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.analytics import reports
from coalition.analytics.schemas import Period, TimelineRow
from coalition.errors import NotFound
from coalition.meetings import service as meeting_service
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge
from coalition.web.deps import SessionDep
from coalition.web.pages._base import PageActor, page_router, render
from coalition.web.pages._cache import ReportCache

router = page_router()

PAGE_SIZE = 50


def _by_meeting(request: Request, db: Session, actor: Actor) -> dict[int, TimelineRow]:
    """Announced, confirmed and delivered value per meeting (analytics' timeline by meeting)."""
    cache: ReportCache = request.app.state.report_cache
    report = cache.get(db, actor, "timeline-by-meeting",
                       lambda: reports.timeline(db, actor=actor, by=Period.MEETING))
    return {row.meeting_id: row for row in report.rows if row.meeting_id is not None}


@router.get("/meetings")
def list_page(request: Request, db: SessionDep, actor: PageActor,
              cursor: str | None = None) -> Response:
    page = meeting_service.list_meetings(db, actor=actor, limit=PAGE_SIZE, cursor=cursor or None)
    return render(request, "meetings/list.html", {
        "page": page, "cursor": cursor, "figures": _by_meeting(request, db, actor),
    })


def _announced(db: Session, actor: Actor, meeting_id: int) -> list[Pledge]:
    pledges = []
    for pledge_id in meeting_service.announced_pledge_ids(db, actor=actor,
                                                          meeting_id=meeting_id):
        try:
            pledges.append(pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id))
        except NotFound:  # withdrawn from the reader's sight since the list was read
            continue
    return pledges


@router.get("/meetings/{meeting_id}")
def detail(meeting_id: int, request: Request, db: SessionDep, actor: PageActor) -> Response:
    meeting = meeting_service.get_meeting(db, actor=actor, meeting_id=meeting_id)
    return render(request, "meetings/detail.html", {
        "meeting": meeting,
        "decisions": meeting_service.list_decisions(db, actor=actor, meeting_id=meeting.id),
        "announced": _announced(db, actor, meeting.id),
        "figures": _by_meeting(request, db, actor).get(meeting.id),
    })
