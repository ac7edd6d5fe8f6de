"""Requirements: what the recipient needs, by priority and capability area, with coverage."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.catalog.models import CapabilityArea
from coalition.errors import ValidationFailed
from coalition.logistics import queries as logistics_queries
from coalition.matching import service as matching_service
from coalition.requirements import service as requirement_service
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter
from coalition.web.deps import SessionDep
from coalition.web.pages import _choices, _forms
from coalition.web.pages._base import PageActor, is_htmx, page_router, render, wants_fragment

router = page_router()

PAGE_SIZE = 50
DEFAULT_SORT = "priority"
RESULTS_ID = "requirement-results"
FILTER_FIELDS = ("priority", "status", "capability_area", "item_type", "needed_from",
                 "needed_to")
PRIORITIES = [("1", "1 · critical"), ("2", "2 · high"), ("3", "3 · medium"), ("4", "4 · low"),
              ("5", "5 · nice to have")]


def _list_context(request: Request, db: Session, actor: Actor) -> dict[str, Any]:
    raw = _forms.clean(request.query_params, FILTER_FIELDS)
    filters, errors = _forms.validate(RequirementFilter, raw, FILTER_FIELDS)
    sort = request.query_params.get("sort") or DEFAULT_SORT
    cursor = request.query_params.get("cursor") or None
    page = None
    if filters is not None:
        try:
            page = requirement_service.list_requirements(db, actor=actor, filters=filters,
                                                         sort=sort, limit=PAGE_SIZE,
                                                         cursor=cursor)
        except ValidationFailed as exc:
            errors = _forms.domain_errors(exc, (*FILTER_FIELDS, "sort", "cursor"))
    params = {**raw, "sort": sort if sort != DEFAULT_SORT else None}
    return {"page": page, "filters": raw, "errors": _forms.first_errors(errors), "sort": sort,
            "cursor": cursor, "params": params, "results_id": RESULTS_ID}


@router.get("/requirements")
def list_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    context = _list_context(request, db, actor)
    if wants_fragment(request, RESULTS_ID):
        return render(request, "requirements/_results.html", context)
    context.update(priorities=PRIORITIES, statuses=_choices.enum_options(RequirementStatus),
                   areas=_choices.enum_options(CapabilityArea),
                   item_types=_choices.item_types(db))
    return render(request, "requirements/list.html", context)


@router.get("/requirements/{requirement_id}")
def detail(requirement_id: int, request: Request, db: SessionDep, actor: PageActor
           ) -> Response:
    requirement = requirement_service.get_requirement(db, actor=actor,
                                                      requirement_id=requirement_id)
    trace = logistics_queries.where_is(db, actor=actor, requirement_id=requirement.id)
    return render(request, "requirements/detail.html", {
        "requirement": requirement, "trace": trace, "priorities": dict(PRIORITIES),
        "may_explain": matching_service.VIEW_MATCHING.allows(actor),
    })


@router.get("/requirements/{requirement_id}/explain")
def explain(requirement_id: int, request: Request, db: SessionDep, actor: PageActor
            ) -> Response:
    """Why the matching proposed what it did for this need, or nothing."""
    explanation = matching_service.explain_requirement(db, actor=actor,
                                                       requirement_id=requirement_id)
    if is_htmx(request):
        return render(request, "requirements/_explanation.html", {"explanation": explanation})
    requirement = requirement_service.get_requirement(db, actor=actor,
                                                      requirement_id=requirement_id)
    return render(request, "requirements/detail.html", {
        "requirement": requirement, "priorities": dict(PRIORITIES), "may_explain": True,
        "trace": logistics_queries.where_is(db, actor=actor, requirement_id=requirement_id),
        "explanation": explanation,
    })
