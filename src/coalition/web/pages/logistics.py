"""Logistics: shipments and their status, late ones first, a map of hubs and routes, and the
receipts that do not match what was sent."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.db import utcnow
from coalition.errors import ValidationFailed
from coalition.logistics import queries as logistics_queries
from coalition.logistics import service as logistics_service
from coalition.logistics.models import ShipmentStatus
from coalition.logistics.schemas import LateShipment
from coalition.web.deps import SessionDep
from coalition.web.pages import _choices, _forms
from coalition.web.pages._base import PageActor, page_router, render, wants_fragment
from coalition.web.pages._cache import ReportCache
from coalition.web.pages._maps import route_map

router = page_router()

PAGE_SIZE = 50
# Routes drawn on the map: the newest shipments; the table below lists them all.
MAP_SHIPMENTS = 80
# Late shipments and discrepancies shown in their panels; every late one is also highlighted
# in the full list below.
LISTED = 10
RESULTS_ID = "shipment-results"
FILTER_FIELDS = ("status", "donor", "hub")


def _cache(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.report_cache
    return cache


def _late(request: Request, db: Session, actor: Actor) -> list[LateShipment]:
    """Late shipments as of this minute: lateness moves with the clock as well as with the
    data, and is reported in whole hours, so a minute-old answer is as good as a new one."""
    minute = utcnow().replace(second=0, microsecond=0)
    return _cache(request).get(db, actor, ("late", minute), lambda: (
        logistics_queries.late_shipments(db, actor=actor, as_of=minute)))


@router.get("/logistics")
def logistics_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    raw = _forms.clean(request.query_params, FILTER_FIELDS)
    cursor = request.query_params.get("cursor") or None
    errors: _forms.FieldErrors = {}
    page = None
    try:
        status = ShipmentStatus(raw["status"]) if "status" in raw else None
        page = logistics_service.list_shipments(db, actor=actor, status=status,
                                                donor=raw.get("donor"), hub=raw.get("hub"),
                                                limit=PAGE_SIZE, cursor=cursor)
    except ValueError:
        errors = {"status": ["Choose one of the listed statuses."]}
    except ValidationFailed as exc:
        errors = _forms.domain_errors(exc, (*FILTER_FIELDS, "cursor"))
    late = _late(request, db, actor)
    context: dict[str, Any] = {
        "page": page, "filters": raw, "params": raw, "cursor": cursor,
        "errors": _forms.first_errors(errors), "results_id": RESULTS_ID,
        "late_ids": {s.shipment_id: s for s in late},
    }
    if wants_fragment(request, RESULTS_ID):
        return render(request, "logistics/_results.html", context)
    hubs = logistics_queries.hubs_with_traffic(db, actor=actor)
    recent = logistics_service.list_shipments(db, actor=actor, limit=MAP_SHIPMENTS).items
    discrepancies = _cache(request).get(db, actor, "discrepancies", lambda: (
        logistics_queries.discrepancies(db, actor=actor)))
    context.update(
        map_spec=route_map(hubs, recent, set(context["late_ids"])), hubs=hubs,
        late=late[:LISTED], late_total=len(late), discrepancies=discrepancies[:LISTED],
        discrepancy_total=len(discrepancies), statuses=_choices.enum_options(ShipmentStatus),
        donors=_choices.donors(db), hub_options=[(h.code, h.name) for h, _ in hubs],
        mapped=len(recent))
    return render(request, "logistics/page.html", context)


@router.get("/logistics/shipments/{shipment_id}")
def shipment_detail(shipment_id: int, request: Request, db: SessionDep, actor: PageActor
                    ) -> Response:
    shipment = logistics_service.get_shipment(db, actor=actor, shipment_id=shipment_id)
    events = logistics_service.shipment_events(db, actor=actor, shipment_id=shipment.id)
    late = {s.shipment_id: s for s in _late(request, db, actor)}
    return render(request, "logistics/shipment.html", {
        "shipment": shipment, "events": events, "late": late.get(shipment.id),
        "map_spec": route_map([], [shipment], set(late)),
    })
