"""Meetings: the list, and each meeting's announcements against what has been delivered since."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.analytics import reports
from coalition.analytics.schemas import Period, TimelineRow
from coalition.meetings import service as meeting_service
from coalition.meetings.report import meeting_report
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


@router.get("/meetings/{meeting_id}")
def detail(meeting_id: int, request: Request, db: SessionDep, actor: PageActor) -> Response:
    meeting = meeting_service.get_meeting(db, actor=actor, meeting_id=meeting_id)
    report = meeting_report(db, actor=actor, meeting_id=meeting.id)
    return render(request, "meetings/detail.html", {
        "meeting": meeting, "decisions": report.decisions, "report": report,
        "totals": report.totals,
    })
