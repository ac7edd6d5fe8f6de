"""Rules of requirements: valid needs, coverage-derived status, visibility by label."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.visibility import get_visible, visible
from coalition.catalog import service as catalog_service
from coalition.errors import Conflict, InvalidTransition, ValidationFailed
from coalition.paging import Page, paginate
from coalition.registry import service as registry_service
from coalition.registry.models import Format
from coalition.requirements.models import Requirement, RequirementStatus
from coalition.requirements.schemas import RequirementCreate, RequirementFilter, RequirementUpdate

DEFAULT_FORMAT = "UDCG"
SORTS = {"id": Requirement.id, "priority": Requirement.priority,
         "needed_by": Requirement.needed_by, "quantity": Requirement.quantity,
         "reference": Requirement.reference}


def derive_status(requirement: Requirement) -> RequirementStatus:
    """Met when fully committed, partially met when some is; withdrawn is final."""
    if requirement.status is RequirementStatus.WITHDRAWN:
        return RequirementStatus.WITHDRAWN
    if requirement.quantity_committed >= requirement.quantity:
        return RequirementStatus.MET
    if requirement.quantity_committed > 0:
        return RequirementStatus.PARTIALLY_MET
    return RequirementStatus.OPEN


def resolve_format_id(session: Session, code: str | None) -> int | None:
    fmt = session.scalar(select(Format).where(Format.code == (code or DEFAULT_FORMAT)))
    if fmt is None and code is not None:
        raise ValidationFailed.single("format", "unknown format code", code)
    return fmt.id if fmt else None


def get_requirement(session: Session, *, actor: Actor, requirement_id: int,
                    for_update: bool = False) -> Requirement:
    """A requirement the actor may not see does not exist for them."""
    return get_visible(session, actor, Requirement, requirement_id, noun="requirement",
                       for_update=for_update)


def list_requirements(
    session: Session,
    *,
    actor: Actor,
    filters: RequirementFilter | None = None,
    sort: str = "priority",
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Requirement]:
    return paginate(session, filtered_query(session, actor=actor, filters=filters),
                    id_column=Requirement.id, sortable=SORTS, sort=sort, limit=limit,
                    cursor=cursor)


def filtered_query(session: Session, *, actor: Actor, filters: RequirementFilter | None
                   ) -> Select[Requirement]:
    """The visible requirements matching the filters (lists and exports share it)."""
    stmt = visible(select(Requirement), actor, Requirement)
    f = filters or RequirementFilter()
    if f.priority is not None:
        stmt = stmt.where(Requirement.priority == f.priority)
    if f.status is not None:
        stmt = stmt.where(Requirement.status == f.status)
    if f.capability_area is not None:
        stmt = stmt.where(Requirement.capability_area == f.capability_area)
    if f.item_type is not None:
        item = catalog_service.resolve_item_type(session, code=f.item_type)
        stmt = stmt.where(Requirement.item_type_id == item.id)
    if f.needed_from is not None:
        stmt = stmt.where(Requirement.needed_by >= f.needed_from)
    if f.needed_to is not None:
        stmt = stmt.where(Requirement.needed_by <= f.needed_to)
    return stmt


def create_requirement(session: Session, *, actor: Actor, data: RequirementCreate) -> Requirement:
    """Only the recipient's staff and coordinators state needs."""
    policy.ensure(actor, policy.MANAGE_REQUIREMENTS)
    recipient = registry_service.resolve_participant(session, code=data.recipient,
                                                     field="recipient")
    if not recipient.is_recipient:
        raise ValidationFailed.single("recipient", "participant is not a recipient", data.recipient)
    policy.ensure_speaks_for(actor, recipient.id, what="state requirements")
    format_id = resolve_format_id(session, data.format)
    policy.ensure_coordinates(actor, format_id, what="state requirements")
    item = catalog_service.resolve_item_type(session, code=data.item_type)
    reference = data.reference or f"REQ-{uuid.uuid4().hex[:10].upper()}"
    if session.scalar(select(Requirement.id).where(Requirement.reference == reference)):
        raise Conflict(f"reference: requirement {reference!r} already exists")
    requirement = Requirement(
        reference=reference, recipient_id=recipient.id, item_type_id=item.id,
        quantity=data.quantity, priority=data.priority, needed_by=data.needed_by,
        capability_area=data.capability_area or item.capability_area, notes=data.notes,
        format_id=format_id, releasability=data.releasability, status=RequirementStatus.OPEN,
        quantity_committed=0, quantity_in_transit=0,
        quantity_delivered=0,
    )
    session.add(requirement)
    session.flush()
    audit.record(session, actor=actor, action="requirement.create", target=requirement)
    return requirement


def update_requirement(session: Session, *, actor: Actor, requirement_id: int,
                       data: RequirementUpdate) -> Requirement:
    """A need cannot shrink below what donors have already committed to it."""
    policy.ensure(actor, policy.MANAGE_REQUIREMENTS)
    requirement = get_requirement(session, actor=actor, requirement_id=requirement_id,
                                  for_update=True)
    policy.ensure_speaks_for(actor, requirement.recipient_id, what="change requirements")
    policy.ensure_coordinates(actor, requirement.format_id, what="change requirements")
    if requirement.status is RequirementStatus.WITHDRAWN:
        raise InvalidTransition("a withdrawn requirement cannot be changed")
    if data.quantity is not None and data.quantity < requirement.quantity_committed:
        raise ValidationFailed.single(
            "quantity", f"cannot be below the {requirement.quantity_committed} already committed",
            data.quantity)
    before = audit.snapshot(requirement)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(requirement, key, value)
    requirement.status = derive_status(requirement)
    session.flush()
    audit.record(session, actor=actor, action="requirement.update", target=requirement,
                 before=before)
    return requirement


def withdraw_requirement(session: Session, *, actor: Actor, requirement_id: int,
                         reason: str) -> Requirement:
    policy.ensure(actor, policy.MANAGE_REQUIREMENTS)
    requirement = get_requirement(session, actor=actor, requirement_id=requirement_id,
                                  for_update=True)
    policy.ensure_speaks_for(actor, requirement.recipient_id, what="withdraw requirements")
    policy.ensure_coordinates(actor, requirement.format_id, what="withdraw requirements")
    if requirement.status is RequirementStatus.WITHDRAWN:
        raise InvalidTransition("requirement is already withdrawn")
    before = audit.snapshot(requirement)
    requirement.status = RequirementStatus.WITHDRAWN
    requirement.notes = (requirement.notes + f"\nWithdrawn: {reason}").strip()
    session.flush()
    audit.record(session, actor=actor, action="requirement.withdraw", target=requirement,
                 before=before)
    return requirement
