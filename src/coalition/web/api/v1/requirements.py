"""The recipient's requirements."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, status

from coalition.catalog.models import CapabilityArea
from coalition.pledges import flows as allocation_flows
from coalition.pledges.schemas import AllocationRead
from coalition.requirements import service as requirement_service
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import (
    RequirementCreate,
    RequirementFilter,
    RequirementRead,
    RequirementUpdate,
)
from coalition.schemas_common import Schema
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(prefix="/requirements", tags=["requirements"])


class Reason(Schema):
    reason: str


@router.get("", response_model=PageOut[RequirementRead])
def list_requirements(session: SessionDep, actor: ActorDep, priority: int | None = None,
                      status: RequirementStatus | None = None,
                      capability_area: CapabilityArea | None = None,
                      item_type: str | None = None, needed_from: dt.date | None = None,
                      needed_to: dt.date | None = None, sort: str = "priority",
                      limit: Limit = 100, cursor: Cursor = None) -> PageOut[RequirementRead]:
    filters = RequirementFilter(priority=priority, status=status, capability_area=capability_area,
                                item_type=item_type, needed_from=needed_from, needed_to=needed_to)
    page = requirement_service.list_requirements(session, actor=actor, filters=filters,
                                                 sort=sort, limit=limit, cursor=cursor)
    return page_out(page, RequirementRead)


@router.get("/{requirement_id}", response_model=RequirementRead)
def get_requirement(requirement_id: int, session: SessionDep, actor: ActorDep
                    ) -> RequirementRead:
    return RequirementRead.model_validate(
        requirement_service.get_requirement(session, actor=actor, requirement_id=requirement_id))


@router.get("/{requirement_id}/allocations", response_model=list[AllocationRead])
def requirement_allocations(requirement_id: int, session: SessionDep, actor: ActorDep
                            ) -> list[AllocationRead]:
    requirement_service.get_requirement(session, actor=actor, requirement_id=requirement_id)
    return [AllocationRead.model_validate(a) for a in allocation_flows.list_allocations(
        session, actor=actor, requirement_id=requirement_id)]


@router.post("", response_model=RequirementRead, status_code=status.HTTP_201_CREATED)
def create_requirement(data: RequirementCreate, session: SessionDep, actor: ActorDep
                       ) -> RequirementRead:
    return RequirementRead.model_validate(
        requirement_service.create_requirement(session, actor=actor, data=data))


@router.patch("/{requirement_id}", response_model=RequirementRead)
def update_requirement(requirement_id: int, data: RequirementUpdate, session: SessionDep,
                       actor: ActorDep) -> RequirementRead:
    return RequirementRead.model_validate(requirement_service.update_requirement(
        session, actor=actor, requirement_id=requirement_id, data=data))


@router.post("/{requirement_id}/withdraw", response_model=RequirementRead)
def withdraw_requirement(requirement_id: int, data: Reason, session: SessionDep,
                         actor: ActorDep) -> RequirementRead:
    return RequirementRead.model_validate(requirement_service.withdraw_requirement(
        session, actor=actor, requirement_id=requirement_id, reason=data.reason))
