"""Participants, coordination formats and capability coalitions."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status

from coalition.registry import handover as handover_service
from coalition.registry import service as registry_service
from coalition.registry.models import ParticipantKind
from coalition.registry.schemas import (
    CoalitionCreate,
    CoalitionRead,
    FormatCreate,
    FormatDetail,
    FormatRead,
    FormatUpdate,
    LeadRead,
    MembershipCreate,
    MembershipRead,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
)
from coalition.schemas_common import Schema
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["registry"])


class LeadChange(Schema):
    lead: str
    on: dt.date
    note: str = ""


@router.get("/participants", response_model=PageOut[ParticipantRead])
def list_participants(session: SessionDep, actor: ActorDep, kind: ParticipantKind | None = None,
                      donor: bool | None = None, nato: bool | None = None,
                      q: str | None = None, sort: str = "code", limit: Limit = 100,
                      cursor: Cursor = None) -> PageOut[ParticipantRead]:
    page = registry_service.list_participants(session, kind=kind, donor=donor, nato=nato,
                                              search=q, sort=sort, limit=limit, cursor=cursor)
    return page_out(page, ParticipantRead)


@router.get("/participants/{code}", response_model=ParticipantRead)
def get_participant(code: str, session: SessionDep, actor: ActorDep) -> ParticipantRead:
    return ParticipantRead.model_validate(registry_service.get_participant(session, code=code))


@router.post("/participants", response_model=ParticipantRead,
             status_code=status.HTTP_201_CREATED)
def create_participant(data: ParticipantCreate, session: SessionDep, actor: ActorDep
                       ) -> ParticipantRead:
    return ParticipantRead.model_validate(
        registry_service.create_participant(session, actor=actor, data=data))


@router.patch("/participants/{code}", response_model=ParticipantRead)
def update_participant(code: str, data: ParticipantUpdate, session: SessionDep,
                       actor: ActorDep) -> ParticipantRead:
    return ParticipantRead.model_validate(
        registry_service.update_participant(session, actor=actor, code=code, data=data))


@router.get("/formats", response_model=list[FormatRead])
def list_formats(session: SessionDep, actor: ActorDep) -> list[FormatRead]:
    return [FormatRead.model_validate(f) for f in registry_service.list_formats(session)]


def _detail(session: SessionDep, code: str) -> FormatDetail:
    fmt = registry_service.get_format(session, code=code)
    return FormatDetail(
        **FormatRead.model_validate(fmt).model_dump(),
        members=[MembershipRead.model_validate(m)
                 for m in registry_service.members(session, format_id=fmt.id)],
        leads=[LeadRead.model_validate(x)
               for x in registry_service.lead_history(session, format_id=fmt.id)],
    )


@router.get("/formats/{code}", response_model=FormatDetail)
def get_format(code: str, session: SessionDep, actor: ActorDep) -> FormatDetail:
    return _detail(session, code)


@router.post("/formats", response_model=FormatDetail, status_code=status.HTTP_201_CREATED)
def create_format(data: FormatCreate, session: SessionDep, actor: ActorDep) -> FormatDetail:
    fmt = registry_service.create_format(session, actor=actor, data=data)
    return _detail(session, fmt.code)


@router.patch("/formats/{code}", response_model=FormatDetail)
def update_format(code: str, data: FormatUpdate, session: SessionDep, actor: ActorDep
                  ) -> FormatDetail:
    registry_service.update_format(session, actor=actor, code=code, data=data)
    return _detail(session, code)


@router.post("/formats/{code}/members", response_model=FormatDetail,
             status_code=status.HTTP_201_CREATED)
def add_member(code: str, data: MembershipCreate, session: SessionDep, actor: ActorDep
               ) -> FormatDetail:
    registry_service.add_member(session, actor=actor, code=code, data=data)
    return _detail(session, code)


@router.post("/formats/{code}/lead", response_model=FormatDetail)
def change_lead(code: str, data: LeadChange, session: SessionDep, actor: ActorDep
                ) -> FormatDetail:
    registry_service.change_lead(session, actor=actor, code=code, new_lead=data.lead,
                                 on=data.on, note=data.note)
    return _detail(session, code)


@router.post("/formats/{code}/handover",
             response_model=handover_service.HandoverResult | handover_service.HandoverPlan)
def handover(code: str, data: handover_service.HandoverRequest, session: SessionDep,
             actor: ActorDep) -> handover_service.HandoverResult | handover_service.HandoverPlan:
    """Hand coordination to a new lead in one transaction; `dry_run` returns the impact report."""
    work = handover_service.plan_handover if data.dry_run else handover_service.execute_handover
    return work(session, actor=actor, format_code=code, to_code=data.to, on=data.on,
                relabel_coalition=data.relabel_coalition)


@router.get("/coalitions", response_model=list[CoalitionRead])
def list_coalitions(session: SessionDep, actor: ActorDep) -> list[CoalitionRead]:
    return [CoalitionRead.model_validate(c) for c in registry_service.list_coalitions(session)]


@router.get("/coalitions/{code}", response_model=CoalitionRead)
def get_coalition(code: str, session: SessionDep, actor: ActorDep) -> CoalitionRead:
    return CoalitionRead.model_validate(registry_service.get_coalition(session, code=code))


@router.post("/coalitions", response_model=CoalitionRead, status_code=status.HTTP_201_CREATED)
def create_coalition(data: CoalitionCreate, session: SessionDep, actor: ActorDep
                     ) -> CoalitionRead:
    return CoalitionRead.model_validate(
        registry_service.create_coalition(session, actor=actor, data=data))
