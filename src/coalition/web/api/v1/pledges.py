"""Pledges, their status transitions, and allocations to requirements."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status

from coalition.pledges import flows as allocation_flows
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus
from coalition.pledges.schemas import (
    AllocationCreate,
    AllocationRead,
    PledgeCreate,
    PledgeDetail,
    PledgeFilter,
    PledgeRead,
    PledgeUpdate,
    TransitionRead,
    TransitionRequest,
)
from coalition.schemas_common import Schema
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["pledges"])


class Reason(Schema):
    reason: str


def _detail(session: SessionDep, pledge: Pledge) -> PledgeDetail:
    return PledgeDetail(
        **PledgeRead.model_validate(pledge).model_dump(),
        value_eur_cents=pledge.value_eur_cents,
        history=[TransitionRead.model_validate(t)
                 for t in pledge_service.history(session, pledge_id=pledge.id)],
    )


@router.get("/pledges", response_model=PageOut[PledgeRead])
def list_pledges(session: SessionDep, actor: ActorDep, donor: str | None = None,
                 status: PledgeStatus | None = None, item_type: str | None = None,
                 category: str | None = None, funding: FundingMechanism | None = None,
                 announced_from: dt.date | None = None, announced_to: dt.date | None = None,
                 sort: str = "-announced_on", limit: Limit = 100, cursor: Cursor = None
                 ) -> PageOut[PledgeRead]:
    filters = PledgeFilter(donor=donor, status=status, item_type=item_type, category=category,
                           funding=funding, announced_from=announced_from,
                           announced_to=announced_to)
    page = pledge_service.list_pledges(session, actor=actor, filters=filters, sort=sort,
                                       limit=limit, cursor=cursor)
    return page_out(page, PledgeRead)


@router.get("/pledges/{pledge_id}", response_model=PledgeDetail)
def get_pledge(pledge_id: int, session: SessionDep, actor: ActorDep) -> PledgeDetail:
    return _detail(session, pledge_service.get_pledge(session, actor=actor, pledge_id=pledge_id))


@router.post("/pledges", response_model=PledgeDetail, status_code=status.HTTP_201_CREATED)
def create_pledge(data: PledgeCreate, session: SessionDep, actor: ActorDep) -> PledgeDetail:
    return _detail(session, pledge_service.create_pledge(session, actor=actor, data=data))


@router.patch("/pledges/{pledge_id}", response_model=PledgeDetail)
def update_pledge(pledge_id: int, data: PledgeUpdate, session: SessionDep, actor: ActorDep
                  ) -> PledgeDetail:
    return _detail(session, pledge_service.update_pledge(session, actor=actor,
                                                         pledge_id=pledge_id, data=data))


@router.post("/pledges/{pledge_id}/transitions", response_model=PledgeDetail)
def transition_pledge(pledge_id: int, data: TransitionRequest, session: SessionDep,
                      actor: ActorDep) -> PledgeDetail:
    return _detail(session, pledge_service.transition(session, actor=actor, pledge_id=pledge_id,
                                                      to=data.to, reason=data.reason))


@router.get("/pledges/{pledge_id}/allocations", response_model=list[AllocationRead])
def pledge_allocations(pledge_id: int, session: SessionDep, actor: ActorDep
                       ) -> list[AllocationRead]:
    pledge_service.get_pledge(session, actor=actor, pledge_id=pledge_id)
    return [AllocationRead.model_validate(a)
            for a in allocation_flows.list_allocations(session, actor=actor, pledge_id=pledge_id)]


@router.post("/allocations", response_model=AllocationRead, status_code=status.HTTP_201_CREATED)
def create_allocation(data: AllocationCreate, session: SessionDep, actor: ActorDep
                      ) -> AllocationRead:
    return AllocationRead.model_validate(allocation_flows.allocate(
        session, actor=actor, pledge_id=data.pledge_id, requirement_id=data.requirement_id,
        quantity=data.quantity))


@router.post("/allocations/{allocation_id}/cancel", response_model=AllocationRead)
def cancel_allocation(allocation_id: int, data: Reason, session: SessionDep, actor: ActorDep
                      ) -> AllocationRead:
    return AllocationRead.model_validate(allocation_flows.cancel_allocation(
        session, actor=actor, allocation_id=allocation_id, reason=data.reason))
