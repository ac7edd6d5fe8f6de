"""Sites, shipments, bulk delivery events and the logistics reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from pydantic import TypeAdapter

from coalition.logistics import ingest, queries
from coalition.logistics import service as logistics_service
from coalition.logistics.models import Shipment, ShipmentStatus, SiteKind
from coalition.logistics.schemas import (
    BatchResult,
    DeliveryEventIn,
    DeliveryEventRead,
    Discrepancy,
    DonorDelivery,
    HubTraffic,
    LateShipment,
    LegRead,
    LineRead,
    RequirementTrace,
    ShipmentCreate,
    ShipmentDetail,
    ShipmentRead,
    SiteCreate,
    SiteRead,
)
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["logistics"])

# The batch is validated row by row by the service (errors name the row); the schema is
# published here so clients see the row shape.
_BATCH_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "array", "maxItems": ingest.MAX_BATCH,
    "items": TypeAdapter(DeliveryEventIn).json_schema()}}}}}


def _detail(session: SessionDep, actor: ActorDep, shipment: Shipment) -> ShipmentDetail:
    return ShipmentDetail(
        **ShipmentRead.model_validate(shipment).model_dump(),
        legs=[LegRead.model_validate(leg) for leg in shipment.legs],
        lines=[LineRead.model_validate(line) for line in shipment.lines],
        events=[DeliveryEventRead.model_validate(e) for e in logistics_service.shipment_events(
            session, actor=actor, shipment_id=shipment.id)],
        notes=shipment.notes, created_by=shipment.created_by)


@router.get("/sites", response_model=list[SiteRead])
def list_sites(session: SessionDep, actor: ActorDep, kind: SiteKind | None = None,
               country: str | None = None) -> list[SiteRead]:
    return [SiteRead.model_validate(s)
            for s in logistics_service.list_sites(session, kind=kind, country=country)]


@router.post("/sites", response_model=SiteRead, status_code=status.HTTP_201_CREATED)
def create_site(data: SiteCreate, session: SessionDep, actor: ActorDep) -> SiteRead:
    return SiteRead.model_validate(logistics_service.create_site(session, actor=actor,
                                                                 data=data))


@router.get("/shipments", response_model=PageOut[ShipmentRead])
def list_shipments(session: SessionDep, actor: ActorDep, status: ShipmentStatus | None = None,
                   donor: str | None = None, hub: str | None = None, sort: str = "-id",
                   limit: Limit = 100, cursor: Cursor = None) -> PageOut[ShipmentRead]:
    page = logistics_service.list_shipments(session, actor=actor, status=status, donor=donor,
                                            hub=hub, sort=sort, limit=limit, cursor=cursor)
    return page_out(page, ShipmentRead)


@router.post("/shipments", response_model=ShipmentDetail, status_code=status.HTTP_201_CREATED)
def create_shipment(data: ShipmentCreate, session: SessionDep, actor: ActorDep
                    ) -> ShipmentDetail:
    return _detail(session, actor, logistics_service.create_shipment(session, actor=actor,
                                                                     data=data))


@router.get("/shipments/late", response_model=list[LateShipment])
def late_shipments(session: SessionDep, actor: ActorDep,
                   as_of: dt.datetime | None = Query(None, description="Default: now.")
                   ) -> list[LateShipment]:
    return queries.late_shipments(session, actor=actor, as_of=as_of)


@router.get("/shipments/discrepancies", response_model=list[Discrepancy])
def discrepancies(session: SessionDep, actor: ActorDep) -> list[Discrepancy]:
    return queries.discrepancies(session, actor=actor)


@router.get("/shipments/{shipment_id}", response_model=ShipmentDetail)
def get_shipment(shipment_id: int, session: SessionDep, actor: ActorDep) -> ShipmentDetail:
    return _detail(session, actor, logistics_service.get_shipment(session, actor=actor,
                                                                  shipment_id=shipment_id))


@router.post("/delivery-events:batch", response_model=BatchResult, openapi_extra=_BATCH_SCHEMA)
def ingest_events(rows: Annotated[list[dict[str, Any]], Body(max_length=ingest.MAX_BATCH)],
                  session: SessionDep, actor: ActorDep,
                  source: str | None = Query(None, max_length=80,
                                             description="Default source of the rows.")
                  ) -> BatchResult:
    """Up to 10,000 delivery events, all or nothing; resent events are harmless."""
    return ingest.ingest_events(session, actor=actor, rows=rows, source=source)


@router.get("/hubs/{code}/in-transit", response_model=list[HubTraffic])
def in_transit_through_hub(code: str, session: SessionDep, actor: ActorDep
                           ) -> list[HubTraffic]:
    return queries.through_hub(session, actor=actor, hub=code)


@router.get("/requirements/{requirement_id}/logistics", response_model=RequirementTrace)
def where_is(requirement_id: int, session: SessionDep, actor: ActorDep) -> RequirementTrace:
    return queries.where_is(session, actor=actor, requirement_id=requirement_id)


@router.get("/logistics/delivery-by-donor", response_model=list[DonorDelivery])
def delivery_by_donor(session: SessionDep, actor: ActorDep) -> list[DonorDelivery]:
    return queries.delivery_by_donor(session, actor=actor)
