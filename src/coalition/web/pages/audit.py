"""Audit: the tamper-evident log (coordinators and admins) and the chain's verification."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access import audit
from coalition.access.actor import Actor
from coalition.errors import ValidationFailed
from coalition.web.deps import SessionDep
from coalition.web.pages import _forms
from coalition.web.pages._base import PageActor, is_htmx, page_router, render, wants_fragment

router = page_router()

PAGE_SIZE = 50
RESULTS_ID = "audit-results"
FILTER_FIELDS = ("target", "actor_name", "action")


def _log_context(request: Request, db: Session, actor: Actor) -> dict[str, Any]:
    raw = _forms.clean(request.query_params, FILTER_FIELDS)
    cursor = request.query_params.get("cursor") or None
    errors: _forms.FieldErrors = {}
    page = None
    try:
        page = audit.list_entries(db, actor=actor, limit=PAGE_SIZE, cursor=cursor, **raw)
    except ValidationFailed as exc:
        errors = _forms.domain_errors(exc, (*FILTER_FIELDS, "cursor"))
    return {"page": page, "filters": raw, "params": raw, "cursor": cursor,
            "errors": _forms.first_errors(errors), "results_id": RESULTS_ID}


@router.get("/audit")
def audit_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    context = _log_context(request, db, actor)
    if wants_fragment(request, RESULTS_ID):
        return render(request, "audit/_results.html", context)
    return render(request, "audit/page.html", context)


@router.get("/audit/verify")
def verify(request: Request, db: SessionDep, actor: PageActor) -> Response:
    report = audit.verify(db, actor=actor)
    if is_htmx(request):
        return render(request, "audit/_verification.html", {"report": report})
    context = _log_context(request, db, actor)
    context["report"] = report
    return render(request, "audit/page.html", context)
