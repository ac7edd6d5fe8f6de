"""Overview: the headline figures and charts of everything the user may see."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.pledges import service as pledge_service
from coalition.requirements import service as requirement_service
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter
from coalition.web.deps import SessionDep
from coalition.web.pages._base import PageActor, page_router, render

router = page_router()


@router.get("/")
def overview(request: Request, db: SessionDep, actor: PageActor) -> Response:
    open_critical = sum(
        requirement_service.list_requirements(
            db, actor=actor, filters=RequirementFilter(priority=1, status=status), limit=1).total
        for status in (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET))
    return render(request, "overview.html", {
        "pledges": pledge_service.list_pledges(db, actor=actor, limit=1).total,
        "requirements": requirement_service.list_requirements(db, actor=actor, limit=1).total,
        "open_critical": open_critical,
    })
