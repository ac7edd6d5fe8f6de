"""Matching: coordinators run the optimal matching and review its proposals with their
reasons; each donor's national desk approves or declines its own nation's proposals in place."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.errors import DomainError, NotFound, ValidationFailed
from coalition.matching import service as matching_service
from coalition.matching.models import MatchRun, Proposal, ProposalStatus
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement
from coalition.web.deps import SessionDep
from coalition.web.pages import _choices, _forms
from coalition.web.pages._base import (
    Form,
    PageActor,
    is_htmx,
    page_router,
    render,
    wants_fragment,
)

router = page_router()

PAGE_SIZE = 50
RESULTS_ID = "proposal-results"
FILTER_FIELDS = ("run", "status", "donor", "sort")


def _may_decide(actor: Actor) -> bool:
    return matching_service.DECIDE.allows(actor)


def _defaults(actor: Actor, run: MatchRun | None) -> dict[str, str]:
    """A desk first sees what awaits its decision; the secretariat its latest run."""
    if _may_decide(actor) and actor.participant_code:
        return {"donor": actor.participant_code, "status": ProposalStatus.PROPOSED.value}
    return {"run": str(run.id)} if run is not None else {}


def _needs(db: Session, actor: Actor, proposals: list[Proposal]) -> dict[int, Requirement]:
    """The requirement of each proposal, for its remaining need (proposals are only listed
    when both their pledge and their requirement are visible)."""
    return {rid: requirement_service.get_requirement(db, actor=actor, requirement_id=rid)
            for rid in {p.requirement_id for p in proposals}}


def _results(request: Request, db: Session, actor: Actor, *,
             query: dict[str, str] | None = None) -> dict[str, Any]:
    latest = matching_service.latest_run(db, actor=actor)
    raw = _forms.clean(query if query is not None else request.query_params, FILTER_FIELDS)
    if query is None and not any(k in request.query_params for k in FILTER_FIELDS):
        raw = _defaults(actor, latest)
    cursor = request.query_params.get("cursor") or None
    errors: _forms.FieldErrors = {}
    page = None
    try:
        page = matching_service.list_proposals(
            db, actor=actor, run_id=int(raw["run"]) if raw.get("run") else None,
            donor=raw.get("donor"), status=ProposalStatus(raw["status"]) if raw.get("status")
            else None, sort=raw.get("sort", "id"), limit=PAGE_SIZE, cursor=cursor)
    except ValueError:
        errors = {"status": ["Choose a listed status and a run number."]}
    except ValidationFailed as exc:
        errors = _forms.domain_errors(exc, (*FILTER_FIELDS, "cursor"))
    items = list(page.items) if page is not None else []
    return {"page": page, "filters": raw, "params": raw, "cursor": cursor,
            "errors": _forms.first_errors(errors), "results_id": RESULTS_ID,
            "needs": _needs(db, actor, items), "may_decide": _may_decide(actor),
            "own_donor_id": actor.participant_id, "latest": latest,
            "row_errors": {}, "notice": None}


def _page(request: Request, db: Session, actor: Actor, context: dict[str, Any]) -> dict[str, Any]:
    latest = context["latest"]
    return {**context, "may_run": policy.RUN_MATCHING.allows(actor),
            "summary": matching_service.summarise(db, actor=actor, run=latest) if latest else None,
            "runs": matching_service.list_runs(db, actor=actor, limit=10).items,
            "statuses": _choices.enum_options(ProposalStatus), "donors": _choices.donors(db)}


@router.get("/matching")
def matching_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    policy.ensure(actor, matching_service.VIEW_MATCHING)
    context = _results(request, db, actor)
    if wants_fragment(request, RESULTS_ID):
        return render(request, "matching/_results.html", context)
    return render(request, "matching/page.html", _page(request, db, actor, context))


@router.post("/matching/runs")
def run(request: Request, db: SessionDep, actor: PageActor, form: Form) -> Response:
    dry_run = form.get("dry_run") == "1"
    result = matching_service.run_matching(db, actor=actor, dry_run=dry_run)
    if dry_run:
        if is_htmx(request):
            return render(request, "matching/_dry_run.html", {"summary": result.summary})
        context = _page(request, db, actor, _results(request, db, actor))
        return render(request, "matching/page.html", {**context, "dry_run": result.summary})
    target = f"/matching?run={result.summary.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _decide(request: Request, db: Session, actor: Actor, form: FormData, proposal_id: int,
            verb: str) -> Response:
    """Approve or decline, then answer with the refreshed list so every remaining quantity
    on the page follows; a refusal is shown on the proposal's own row."""
    reason = form.get("reason")
    query = _forms.clean(form, FILTER_FIELDS)
    row_errors: dict[int, str] = {}
    notice = None
    try:
        if verb == "approve":
            done = matching_service.approve_proposal(db, actor=actor, proposal_id=proposal_id)
            notice = (f"Proposal {done.id} approved: {done.quantity:,} of pledge "
                      f"{done.pledge_id} allocated to requirement {done.requirement_id}.")
        else:
            done = matching_service.decline_proposal(
                db, actor=actor, proposal_id=proposal_id,
                reason=reason if isinstance(reason, str) else "")
            notice = (f"Proposal {done.id} declined; this pledge will not be proposed for "
                      "that requirement again.")
    except NotFound:
        raise
    except DomainError as exc:
        db.rollback()
        row_errors[proposal_id] = exc.detail.split(": ", 1)[-1]
    context = _results(request, db, actor, query=query)
    context.update(row_errors=row_errors, notice=notice)
    if not is_htmx(request):
        if row_errors:
            return render(request, "matching/page.html", _page(request, db, actor, context),
                          status_code=422)
        return RedirectResponse("/matching", status_code=303)
    return render(request, "matching/_results.html", context,
                  status_code=422 if row_errors else 200)


@router.post("/matching/proposals/{proposal_id}/approve")
def approve(proposal_id: int, request: Request, db: SessionDep, actor: PageActor,
            form: Form) -> Response:
    return _decide(request, db, actor, form, proposal_id, "approve")


@router.post("/matching/proposals/{proposal_id}/decline")
def decline(proposal_id: int, request: Request, db: SessionDep, actor: PageActor,
            form: Form) -> Response:
    return _decide(request, db, actor, form, proposal_id, "decline")
