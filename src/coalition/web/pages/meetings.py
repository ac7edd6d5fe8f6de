"""Meetings: the list, and each meeting's announcements against what has been delivered since."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.meetings import service as meeting_service
from coalition.web.deps import SessionDep
from coalition.web.pages._base import PageActor, page_router, render

router = page_router()

PAGE_SIZE = 50


@router.get("/meetings")
def list_page(request: Request, db: SessionDep, actor: PageActor,
              cursor: str | None = None) -> Response:
    page = meeting_service.list_meetings(db, actor=actor, limit=PAGE_SIZE, cursor=cursor or None)
    return render(request, "meetings/list.html", {"page": page, "cursor": cursor})


@router.get("/meetings/{meeting_id}")
def detail(meeting_id: int, request: Request, db: SessionDep, actor: PageActor) -> Response:
    meeting = meeting_service.get_meeting(db, actor=actor, meeting_id=meeting_id)
    return render(request, "meetings/detail.html", {
        "meeting": meeting,
        "decisions": meeting_service.list_decisions(db, actor=actor, meeting_id=meeting.id),
    })
