"""Pledges: a filterable, sortable, paginated list; detail with history; create, edit, export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.access.labels import Releasability, Role
from coalition.errors import DomainError, FieldError, ValidationFailed
from coalition.pledges import flows as allocation_flows
from coalition.pledges import lifecycle
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus
from coalition.pledges.schemas import PledgeCreate, PledgeFilter, PledgeUpdate
from coalition.web.deps import SessionDep
from coalition.web.pages import _choices, _export, _forms
from coalition.web.pages._base import Form, PageActor, page_router, render, wants_fragment

router = page_router()

PAGE_SIZE = 50
DEFAULT_SORT = "-announced_on"
RESULTS_ID = "pledge-results"
FILTER_FIELDS = ("donor", "status", "item_type", "category", "funding", "announced_from",
                 "announced_to")
CREATE_FIELDS = ("external_id", "donor", "item_type", "quantity", "amount", "currency",
                 "fx_rate_to_eur", "fx_date", "funding", "parent_pledge_id", "announced_on",
                 "available_from", "format", "releasability", "notes")
UPDATE_FIELDS = ("quantity", "amount", "fx_rate_to_eur", "fx_date", "available_from",
                 "releasability", "notes")
# Columns the list can be sorted by on the server, as the service names them.
SORT_KEYS = tuple(pledge_service.SORTS)


def can_write(actor: Actor, donor_id: int | None = None) -> bool:
    """Mirrors the service's rule so pages offer only actions that can succeed."""
    if not policy.WRITE_PLEDGES.allows(actor):
        return False
    return actor.role is not Role.NATIONAL or donor_id is None or donor_id == actor.participant_id


def _filters(request: Request) -> tuple[PledgeFilter, dict[str, Any], _forms.FieldErrors]:
    raw = _forms.clean(request.query_params, FILTER_FIELDS)
    filters, errors = _forms.validate(PledgeFilter, raw, FILTER_FIELDS)
    return filters or PledgeFilter(), raw, errors


def _list_context(request: Request, db: Session, actor: Actor) -> dict[str, Any]:
    filters, raw, errors = _filters(request)
    sort = request.query_params.get("sort") or DEFAULT_SORT
    cursor = request.query_params.get("cursor") or None
    page = None
    if not errors:
        try:
            page = pledge_service.list_pledges(db, actor=actor, filters=filters, sort=sort,
                                               limit=PAGE_SIZE, cursor=cursor)
        except ValidationFailed as exc:
            errors = _forms.domain_errors(exc, (*FILTER_FIELDS, "sort", "cursor"))
    params = {**raw, "sort": sort if sort != DEFAULT_SORT else None}
    return {"page": page, "filters": raw, "errors": _forms.first_errors(errors),
            "sort": sort, "cursor": cursor, "params": params, "results_id": RESULTS_ID,
            "can_create": can_write(actor), "export_formats": _export.FORMATS}


@router.get("/pledges")
def list_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    context = _list_context(request, db, actor)
    if wants_fragment(request, RESULTS_ID):
        return render(request, "pledges/_results.html", context)
    context.update(statuses=_choices.enum_options(PledgeStatus),
                   fundings=_choices.enum_options(FundingMechanism),
                   donors=_choices.donors(db), categories=_choices.categories(db),
                   item_types=_choices.item_types(db))
    return render(request, "pledges/list.html", context)


@router.get("/pledges/export.{fmt}")
def export(fmt: str, request: Request, db: SessionDep, actor: PageActor) -> Response:
    filters, _raw, errors = _filters(request)
    if errors:
        raise ValidationFailed([FieldError(k, " ".join(v)) for k, v in errors.items()])
    return _export.download(db, actor=actor, resource="pledges", fmt=fmt, filters=filters)


def _form_context(db: Session, actor: Actor, *, values: dict[str, Any],
                  errors: _forms.FieldErrors, pledge: Pledge | None = None) -> dict[str, Any]:
    own = actor.participant_code if actor.role is Role.NATIONAL else None
    return {
        "values": values, "errors": _forms.first_errors(errors),
        "general_errors": errors.get(_forms.GENERAL, []), "pledge": pledge,
        "own_donor": own, "donors": [] if own else _choices.donors(db),
        "item_types": _choices.item_types(db) if pledge is None else [],
        "formats": _choices.formats(db) if pledge is None else [],
        "fundings": _choices.enum_options(FundingMechanism),
        "labels": [(r.value, r.value) for r in Releasability],
    }


def _ensure_may_create(actor: Actor) -> None:
    policy.ensure(actor, policy.WRITE_PLEDGES)
    if actor.role is Role.NATIONAL and actor.participant_code is None:
        raise ValidationFailed.single("donor", "your account speaks for no nation")


@router.get("/pledges/new")
def new_form(request: Request, db: SessionDep, actor: PageActor) -> Response:
    _ensure_may_create(actor)
    today = dt.date.today().isoformat()
    values = {"donor": actor.participant_code or "", "currency": "EUR", "announced_on": today,
              "available_from": today, "funding": FundingMechanism.STOCK_DONATION.value,
              "releasability": Releasability.COALITION.value}
    return render(request, "pledges/form.html", _form_context(db, actor, values=values,
                                                               errors={}))


@router.post("/pledges/new")
def create(request: Request, db: SessionDep, actor: PageActor, form: Form) -> Response:
    _ensure_may_create(actor)
    values = _forms.clean(form, CREATE_FIELDS)
    if actor.role is Role.NATIONAL:
        values["donor"] = actor.participant_code
    data, errors = _forms.validate(PledgeCreate, values, CREATE_FIELDS)
    if data is not None:
        try:
            pledge = pledge_service.create_pledge(db, actor=actor, data=data)
            return RedirectResponse(f"/pledges/{pledge.id}?saved=created", status_code=303)
        except DomainError as exc:
            db.rollback()
            errors = _forms.domain_errors(exc, CREATE_FIELDS)
    return render(request, "pledges/form.html",
                  _form_context(db, actor, values=values, errors=errors), status_code=422)


def _detail_context(db: Session, actor: Actor, pledge: Pledge) -> dict[str, Any]:
    return {
        "pledge": pledge,
        "history": pledge_service.history(db, pledge_id=pledge.id),
        "allocations": allocation_flows.list_allocations(db, actor=actor, pledge_id=pledge.id),
        "can_edit": can_write(actor, pledge.donor_id) and pledge.status not in lifecycle.TERMINAL,
        "transitions": [s for s in sorted(lifecycle.ALLOWED[pledge.status] & lifecycle.REQUESTABLE)
                        if can_write(actor, pledge.donor_id)],
        "transition_errors": {}, "general_errors": [],
    }


@router.get("/pledges/{pledge_id}")
def detail(pledge_id: int, request: Request, db: SessionDep, actor: PageActor,
           saved: str | None = None) -> Response:
    pledge = pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id)
    context = _detail_context(db, actor, pledge)
    context["saved"] = saved
    return render(request, "pledges/detail.html", context)


@router.post("/pledges/{pledge_id}/transition")
def transition(pledge_id: int, request: Request, db: SessionDep, actor: PageActor,
               submitted: Form) -> Response:
    form = _forms.clean(submitted, ("to", "reason"))
    try:
        to = PledgeStatus(form.get("to", ""))
        pledge_service.transition(db, actor=actor, pledge_id=pledge_id, to=to,
                                  reason=form.get("reason", ""))
        return RedirectResponse(f"/pledges/{pledge_id}?saved={to.value}", status_code=303)
    except ValueError:
        errors: _forms.FieldErrors = {"to": ["Choose a status."]}
    except DomainError as exc:
        db.rollback()
        errors = _forms.domain_errors(exc, ("to", "reason"))
    pledge = pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id)
    context = _detail_context(db, actor, pledge)
    context.update(transition_errors=_forms.first_errors(errors), reason=form.get("reason", ""),
                   general_errors=errors.get(_forms.GENERAL, []), chosen=form.get("to"))
    return render(request, "pledges/detail.html", context, status_code=422)


@router.get("/pledges/{pledge_id}/edit")
def edit_form(pledge_id: int, request: Request, db: SessionDep, actor: PageActor) -> Response:
    pledge = pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id)
    policy.ensure(actor, policy.WRITE_PLEDGES)
    policy.ensure_own_nation(actor, pledge.donor_id, what="change pledges")
    values = {name: getattr(pledge, name) for name in UPDATE_FIELDS}
    values["releasability"] = pledge.releasability.value
    return render(request, "pledges/form.html",
                  _form_context(db, actor, values=values, errors={}, pledge=pledge))


@router.post("/pledges/{pledge_id}/edit")
def update(pledge_id: int, request: Request, db: SessionDep, actor: PageActor,
           form: Form) -> Response:
    pledge = pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id)
    values = _forms.clean(form, UPDATE_FIELDS)
    # An emptied notes box means "no notes", not "leave unchanged".
    values.setdefault("notes", "")
    if pledge.currency == "EUR":
        values.pop("fx_rate_to_eur", None)
    data, errors = _forms.validate(PledgeUpdate, values, UPDATE_FIELDS)
    if data is not None:
        try:
            pledge_service.update_pledge(db, actor=actor, pledge_id=pledge_id, data=data)
            return RedirectResponse(f"/pledges/{pledge_id}?saved=updated", status_code=303)
        except DomainError as exc:
            db.rollback()
            errors = _forms.domain_errors(exc, UPDATE_FIELDS)
            pledge = pledge_service.get_pledge(db, actor=actor, pledge_id=pledge_id)
    return render(request, "pledges/form.html",
                  _form_context(db, actor, values=values, errors=errors, pledge=pledge),
                  status_code=422)
