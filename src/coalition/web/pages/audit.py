"""Audit: the tamper-evident log (coordinators and admins) and the chain's verification."""

from __future__ import annotations

from fastapi import Request, Response

from coalition.access import audit, policy
from coalition.web.deps import SessionDep
from coalition.web.pages._base import PageActor, is_htmx, page_router, render

router = page_router()


@router.get("/audit")
def audit_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    policy.ensure(actor, policy.READ_AUDIT)
    return render(request, "audit/page.html", {})


@router.get("/audit/verify")
def verify(request: Request, db: SessionDep, actor: PageActor) -> Response:
    policy.ensure(actor, policy.READ_AUDIT)
    report = audit.verify_chain(db)
    if is_htmx(request):
        return render(request, "audit/_verification.html", {"report": report})
    return render(request, "audit/page.html", {"report": report})
