"""Rules of sites and shipments: valid routes, allocations shipped within their quantity."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.labels import Releasability, Role
from coalition.access.visibility import can_see, get_visible, visible
from coalition.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from coalition.logistics.models import (
    DeliveryEvent,
    Shipment,
    ShipmentLeg,
    ShipmentLine,
    ShipmentStatus,
    Site,
    SiteKind,
)
from coalition.logistics.schemas import ShipmentCreate, SiteCreate
from coalition.paging import Page, paginate
from coalition.pledges.models import Allocation, AllocationStatus, PledgeStatus
from coalition.registry import service as registry_service
from coalition.requirements.models import Requirement
from coalition.requirements.service import resolve_format_id

SORTS = {"id": Shipment.id, "planned_departure": Shipment.planned_departure,
         "planned_arrival": Shipment.planned_arrival, "reference": Shipment.reference,
         "status": Shipment.status}
_UNSHIPPABLE = frozenset({PledgeStatus.WITHDRAWN, PledgeStatus.CANCELLED})


# --- sites ----------------------------------------------------------------------------------


def get_site(session: Session, *, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code.upper()))
    if site is None:
        raise NotFound(f"no site with code {code!r}")
    return site


def _resolve_site(session: Session, code: str, field: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code.upper()))
    if site is None:
        raise ValidationFailed.single(field, "unknown site code", code)
    return site


def list_sites(session: Session, *, kind: SiteKind | None = None,
               country: str | None = None) -> list[Site]:
    stmt = select(Site)
    if kind is not None:
        stmt = stmt.where(Site.kind == kind)
    if country is not None:
        stmt = stmt.where(Site.participant_id == registry_service.resolve_participant(
            session, code=country, field="country").id)
    return list(session.scalars(stmt.order_by(Site.kind, Site.code)))


def create_site(session: Session, *, actor: Actor, data: SiteCreate) -> Site:
    """The secretariat records any site; a nation records sites in its own country only."""
    policy.ensure(actor, policy.RECORD_LOGISTICS)
    country = registry_service.resolve_participant(session, code=data.country, field="country")
    if actor.role in (Role.NATIONAL, Role.RECIPIENT) and actor.participant_id != country.id:
        raise Forbidden("a national or recipient user records sites of their own country only")
    if session.scalar(select(Site.id).where(Site.code == data.code)) is not None:
        raise Conflict(f"code: site {data.code!r} already exists")
    site = Site(code=data.code, name=data.name, kind=data.kind, participant_id=country.id,
                latitude=data.latitude, longitude=data.longitude, notes=data.notes)
    session.add(site)
    session.flush()
    audit.record(session, actor=actor, action="site.create", target=site)
    return site


# --- shipments ------------------------------------------------------------------------------


def get_shipment(session: Session, *, actor: Actor, shipment_id: int) -> Shipment:
    """A shipment the actor may not see does not exist for them."""
    return get_visible(session, actor, Shipment, shipment_id, noun="shipment")


def get_shipment_by_reference(session: Session, *, actor: Actor, reference: str) -> Shipment:
    shipment = session.scalar(select(Shipment).where(Shipment.reference == reference))
    if shipment is None or not can_see(actor, shipment):
        raise NotFound(f"no shipment with reference {reference!r}")
    return shipment


def list_shipments(session: Session, *, actor: Actor, status: ShipmentStatus | None = None,
                   donor: str | None = None, hub: str | None = None, sort: str = "-id",
                   limit: int = 100, cursor: str | None = None) -> Page[Shipment]:
    stmt = visible(select(Shipment), actor, Shipment)
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    if donor is not None:
        stmt = stmt.where(Shipment.donor_id == registry_service.resolve_participant(
            session, code=donor, field="donor").id)
    if hub is not None:
        site = _resolve_site(session, hub, "hub")
        stmt = stmt.where(Shipment.id.in_(select(ShipmentLeg.shipment_id)
                                          .where(ShipmentLeg.to_site_id == site.id)))
    return paginate(session, stmt, id_column=Shipment.id, sortable=SORTS, sort=sort,
                    limit=limit, cursor=cursor)


def shipment_events(session: Session, *, actor: Actor, shipment_id: int
                    ) -> list[DeliveryEvent]:
    """The shipment's events in the order its state is derived from."""
    get_shipment(session, actor=actor, shipment_id=shipment_id)
    return list(session.scalars(select(DeliveryEvent)
                                .where(DeliveryEvent.shipment_id == shipment_id)
                                .order_by(DeliveryEvent.occurred_at, DeliveryEvent.external_id)))


def create_shipment(session: Session, *, actor: Actor, data: ShipmentCreate) -> Shipment:
    """A shipment carries active allocations of one donor to one recipient, from a donor depot
    via logistics hubs to a depot of the recipient. Lines never plan more of an allocation
    than it holds; cancelled shipments give theirs back. Planned by the donor nation or the
    secretariat."""
    policy.ensure(actor, policy.RECORD_LOGISTICS)
    if actor.role is Role.RECIPIENT:
        raise Forbidden("shipments are planned by the donor nation or the secretariat")
    if session.scalar(select(Shipment.id).where(Shipment.reference == data.reference)):
        raise Conflict(f"reference: shipment {data.reference!r} already exists")
    if data.planned_arrival < data.planned_departure:
        raise ValidationFailed.single("planned_arrival", "is before the planned departure",
                                      data.planned_arrival.isoformat())
    origin, route = _route(session, data)
    allocations = _allocations(session, actor, data)
    pledges = [a.pledge for a in allocations.values()]
    donors = {p.donor_id for p in pledges}
    if len(donors) != 1:
        raise ValidationFailed.single("lines", "all lines must carry pledges of one donor")
    donor_id = donors.pop()
    policy.ensure_own_nation(actor, donor_id, what="plan shipments")
    recipients = set(session.scalars(select(Requirement.recipient_id).where(
        Requirement.id.in_({a.requirement_id for a in allocations.values()}))))
    if len(recipients) != 1:
        raise ValidationFailed.single("lines", "all lines must go to one recipient")
    recipient_id = recipients.pop()
    destination = route[-1]
    if destination.participant_id != recipient_id:
        raise ValidationFailed.single(f"legs[{len(route) - 1}].to",
                                      "is not a depot of the recipient", destination.code)
    _check_quantities(session, data, allocations)
    labels = {p.releasability for p in pledges}
    formats = {p.format_id for p in pledges}
    format_id = (resolve_format_id(session, data.format) if data.format or len(formats) != 1
                 else formats.pop())
    policy.ensure_coordinates(actor, format_id, what="plan shipments")
    shipment = Shipment(
        reference=data.reference, donor_id=donor_id, recipient_id=recipient_id,
        origin_site_id=origin.id, destination_site_id=destination.id,
        planned_departure=data.planned_departure, planned_arrival=data.planned_arrival,
        format_id=format_id,
        releasability=data.releasability or (labels.pop() if len(labels) == 1
                                             else Releasability.NATIONAL),
        notes=data.notes, created_by=actor.label, status=ShipmentStatus.PLANNED,
        event_count=0)
    previous = origin
    for seq, (leg, site) in enumerate(zip(data.legs, route, strict=True), start=1):
        shipment.legs.append(ShipmentLeg(seq=seq, from_site_id=previous.id, to_site_id=site.id,
                                         mode=leg.mode, reference=leg.reference))
        previous = site
    for line in data.lines:
        shipment.lines.append(ShipmentLine(allocation_id=line.allocation_id,
                                           quantity=line.quantity, quantity_received=0,
                                           quantity_damaged=0, quantity_missing=0))
    session.add(shipment)
    session.flush()
    audit.record(session, actor=actor, action="shipment.create", target=shipment)
    return shipment


def _route(session: Session, data: ShipmentCreate) -> tuple[Site, list[Site]]:
    origin = _resolve_site(session, data.origin, "origin")
    if origin.kind is not SiteKind.DONOR_DEPOT:
        raise ValidationFailed.single("origin", "must be a donor depot", data.origin)
    route = [_resolve_site(session, leg.to, f"legs[{i}].to") for i, leg in enumerate(data.legs)]
    errors = []
    for i, site in enumerate(route):
        wanted = SiteKind.RECIPIENT_DEPOT if i == len(route) - 1 else SiteKind.LOGISTICS_HUB
        if site.kind is not wanted:
            errors.append(FieldError(f"legs[{i}].to", f"must be a {wanted.value.replace('_', ' ')}",
                                     value=site.code))
    if len({s.id for s in route} | {origin.id}) != len(route) + 1:
        errors.append(FieldError("legs", "the route visits a site twice"))
    if errors:
        raise ValidationFailed(errors)
    return origin, route


def _allocations(session: Session, actor: Actor, data: ShipmentCreate) -> dict[int, Allocation]:
    """The lines' allocations, locked: active, of visible pledges still to be delivered."""
    ids = [line.allocation_id for line in data.lines]
    found = {a.id: a for a in session.scalars(
        select(Allocation).where(Allocation.id.in_(ids)).order_by(Allocation.id)
        .with_for_update(of=Allocation))}
    errors = []
    seen: set[int] = set()
    for i, allocation_id in enumerate(ids):
        field = f"lines[{i}].allocation_id"
        allocation = found.get(allocation_id)
        if allocation_id in seen:
            errors.append(FieldError(field, "appears twice", value=str(allocation_id)))
        elif allocation is None or not can_see(actor, allocation.pledge):
            # As for any record named by id: what the actor may not see does not exist.
            raise NotFound(f"no allocation with id {allocation_id}")
        elif allocation.status is not AllocationStatus.ACTIVE:
            errors.append(FieldError(field, "allocation is cancelled", value=str(allocation_id)))
        elif allocation.pledge.status in _UNSHIPPABLE:
            errors.append(FieldError(field, f"pledge {allocation.pledge_id} is "
                                     f"{allocation.pledge.status.value}",
                                     value=str(allocation_id)))
        seen.add(allocation_id)
    if errors:
        raise ValidationFailed(errors)
    return found


def _check_quantities(session: Session, data: ShipmentCreate,
                      allocations: dict[int, Allocation]) -> None:
    planned: dict[int, int] = defaultdict(int)
    for allocation_id, quantity in session.execute(
        select(ShipmentLine.allocation_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.allocation_id.in_(allocations),
               Shipment.status != ShipmentStatus.CANCELLED)
        .group_by(ShipmentLine.allocation_id)):
        planned[allocation_id] = int(quantity)
    errors = []
    for i, line in enumerate(data.lines):
        allocation = allocations[line.allocation_id]
        left = allocation.quantity - planned[allocation.id]
        if line.quantity > left:
            errors.append(FieldError(f"lines[{i}].quantity", f"allocation {allocation.id} has "
                                     f"{left} of {allocation.quantity} left to ship",
                                     value=str(line.quantity)))
    if errors:
        raise ValidationFailed(errors)

