"""Rules of pledges: valid offers in EUR, the state machine with history, national ownership."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.visibility import can_see, get_visible, visible
from coalition.catalog import service as catalog_service
from coalition.catalog.models import ItemType
from coalition.errors import Conflict, InvalidTransition, ValidationFailed
from coalition.money import convert_to_eur_cents
from coalition.paging import Page, paginate
from coalition.pledges import lifecycle
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus, PledgeTransition
from coalition.pledges.schemas import PledgeCreate, PledgeFilter, PledgeUpdate
from coalition.registry import service as registry_service
from coalition.requirements.service import resolve_format_id

SORTS = {"id": Pledge.id, "announced_on": Pledge.announced_on,
         "available_from": Pledge.available_from, "quantity": Pledge.quantity,
         "value_eur": Pledge.value_eur_cents, "status": Pledge.status}


def get_pledge(session: Session, *, actor: Actor, pledge_id: int,
               for_update: bool = False) -> Pledge:
    """A pledge the actor may not see does not exist for them."""
    return get_visible(session, actor, Pledge, pledge_id, noun="pledge", for_update=for_update)


def filtered_query(session: Session, *, actor: Actor, filters: PledgeFilter | None
                   ) -> Select[Pledge]:
    """The visible pledges matching the filters (lists, exports and reports share it)."""
    stmt = visible(select(Pledge), actor, Pledge)
    f = filters or PledgeFilter()
    if f.donor is not None:
        donor = registry_service.resolve_participant(session, code=f.donor, field="donor")
        stmt = stmt.where(Pledge.donor_id == donor.id)
    if f.status is not None:
        stmt = stmt.where(Pledge.status == f.status)
    if f.item_type is not None:
        item = catalog_service.resolve_item_type(session, code=f.item_type)
        stmt = stmt.where(Pledge.item_type_id == item.id)
    if f.category is not None:
        subtree = catalog_service._category_subtree(session, f.category)
        stmt = stmt.where(Pledge.item_type_id.in_(
            select(ItemType.id).where(ItemType.category_id.in_(subtree))))
    if f.funding is not None:
        stmt = stmt.where(Pledge.funding == f.funding)
    if f.announced_from is not None:
        stmt = stmt.where(Pledge.announced_on >= f.announced_from)
    if f.announced_to is not None:
        stmt = stmt.where(Pledge.announced_on <= f.announced_to)
    return stmt


def list_pledges(
    session: Session,
    *,
    actor: Actor,
    filters: PledgeFilter | None = None,
    sort: str = "-announced_on",
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Pledge]:
    return paginate(session, filtered_query(session, actor=actor, filters=filters),
                    id_column=Pledge.id, sortable=SORTS, sort=sort, limit=limit, cursor=cursor)


def history(session: Session, *, pledge_id: int) -> list[PledgeTransition]:
    return list(session.scalars(select(PledgeTransition)
                                .where(PledgeTransition.pledge_id == pledge_id)
                                .order_by(PledgeTransition.at, PledgeTransition.id)))


def _fx(currency: str, rate: Decimal | None) -> Decimal:
    if currency == "EUR":
        if rate is not None and rate != 1:
            raise ValidationFailed.single("fx_rate_to_eur", "must be 1 for EUR amounts", rate)
        return Decimal(1)
    if rate is None:
        raise ValidationFailed.single("fx_rate_to_eur", "required when currency is not EUR")
    return rate


def create_pledge(session: Session, *, actor: Actor, data: PledgeCreate) -> Pledge:
    """National desks pledge for their own nation only; the value is converted to EUR cents."""
    policy.ensure(actor, policy.WRITE_PLEDGES)
    donor = registry_service.resolve_participant(session, code=data.donor, field="donor")
    policy.ensure_own_nation(actor, donor.id, what="write pledges")
    format_id = resolve_format_id(session, data.format)
    policy.ensure_coordinates(actor, format_id, what="record pledges")
    if not donor.is_donor:
        raise ValidationFailed.single("donor", "participant is not registered as a donor",
                                      data.donor)
    item = catalog_service.resolve_item_type(session, code=data.item_type)
    if data.external_id and session.scalar(
        select(Pledge.id).where(Pledge.external_id == data.external_id)
    ):
        raise Conflict(f"external_id: pledge {data.external_id!r} already exists")
    if data.available_from < data.announced_on - dt.timedelta(days=3650):
        raise ValidationFailed.single("available_from", "implausibly early", data.available_from)
    parent_id = _check_parent(session, actor, data)
    rate = _fx(data.currency, data.fx_rate_to_eur)
    pledge = Pledge(
        external_id=data.external_id, donor_id=donor.id, item_type_id=item.id,
        quantity=data.quantity, amount=data.amount, currency=data.currency, fx_rate_to_eur=rate,
        fx_date=data.fx_date or data.announced_on,
        value_eur_cents=convert_to_eur_cents(data.amount, rate), funding=data.funding,
        parent_pledge_id=parent_id, announced_on=data.announced_on,
        available_from=data.available_from, format_id=format_id,
        releasability=data.releasability, status=PledgeStatus.ANNOUNCED, quantity_allocated=0,
        quantity_shipped=0, quantity_delivered=0, notes=data.notes,
    )
    session.add(pledge)
    session.flush()
    session.add(PledgeTransition(pledge_id=pledge.id, from_status=None,
                                 to_status=PledgeStatus.ANNOUNCED, actor=actor.label,
                                 reason="pledge recorded"))
    audit.record(session, actor=actor, action="pledge.create", target=pledge)
    return pledge


def _check_parent(session: Session, actor: Actor, data: PledgeCreate) -> int | None:
    """A joint-fund purchase must name a contribution to a joint fund as its parent."""
    if data.parent_pledge_id is None:
        return None
    parent = session.get(Pledge, data.parent_pledge_id)
    if parent is None or not can_see(actor, parent):
        raise ValidationFailed.single("parent_pledge_id", "no such pledge", data.parent_pledge_id)
    if parent.funding is not FundingMechanism.JOINT_FUND_CONTRIBUTION:
        raise ValidationFailed.single("parent_pledge_id",
                                      "parent must be a joint-fund contribution",
                                      data.parent_pledge_id)
    return parent.id


def update_pledge(session: Session, *, actor: Actor, pledge_id: int, data: PledgeUpdate
                  ) -> Pledge:
    """Quantity never drops below what is already allocated; terminal pledges are frozen."""
    policy.ensure(actor, policy.WRITE_PLEDGES)
    pledge = get_pledge(session, actor=actor, pledge_id=pledge_id, for_update=True)
    policy.ensure_own_nation(actor, pledge.donor_id, what="change pledges")
    policy.ensure_coordinates(actor, pledge.format_id, what="change pledges")
    if pledge.status in lifecycle.TERMINAL:
        raise InvalidTransition(f"status: a {pledge.status.value} pledge can no longer change")
    if data.quantity is not None and data.quantity < pledge.quantity_allocated:
        raise ValidationFailed.single(
            "quantity", f"cannot be below the {pledge.quantity_allocated} already allocated",
            data.quantity)
    before = audit.snapshot(pledge)
    changes = data.model_dump(exclude_unset=True)
    if "fx_rate_to_eur" in changes:
        changes["fx_rate_to_eur"] = _fx(pledge.currency, changes["fx_rate_to_eur"])
    for key, value in changes.items():
        setattr(pledge, key, value)
    pledge.value_eur_cents = convert_to_eur_cents(pledge.amount, pledge.fx_rate_to_eur)
    new_status = lifecycle.status_for_quantities(pledge)
    if new_status is not pledge.status:
        advance(session, actor=actor, pledge=pledge, to=new_status, reason="quantity changed")
    session.flush()
    audit.record(session, actor=actor, action="pledge.update", target=pledge, before=before)
    return pledge


def advance(session: Session, *, actor: Actor, pledge: Pledge, to: PledgeStatus,
            reason: str) -> None:
    """Checks one status change against the state machine and appends it to the history."""
    lifecycle.check(pledge, to)
    session.add(PledgeTransition(pledge_id=pledge.id, from_status=pledge.status, to_status=to,
                                 actor=actor.label, reason=reason))
    pledge.status = to


def transition(session: Session, *, actor: Actor, pledge_id: int, to: PledgeStatus,
               reason: str) -> Pledge:
    """People confirm, withdraw or cancel; allocated/shipped/delivered follow from quantities."""
    policy.ensure(actor, policy.WRITE_PLEDGES)
    pledge = get_pledge(session, actor=actor, pledge_id=pledge_id, for_update=True)
    policy.ensure_own_nation(actor, pledge.donor_id, what="change the status of pledges")
    policy.ensure_coordinates(actor, pledge.format_id, what="change the status of pledges")
    if to not in lifecycle.REQUESTABLE:
        raise InvalidTransition(
            f"status: {to.value} is reached through allocations and deliveries, not on request")
    if to in {PledgeStatus.WITHDRAWN, PledgeStatus.CANCELLED} and not reason.strip():
        raise ValidationFailed.single("reason", f"a reason is required to mark a pledge {to.value}")
    before = audit.snapshot(pledge)
    advance(session, actor=actor, pledge=pledge, to=to, reason=reason)
    session.flush()
    audit.record(session, actor=actor, action=f"pledge.{to.value}", target=pledge, before=before)
    return pledge
