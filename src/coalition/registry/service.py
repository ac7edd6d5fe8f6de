"""Rules of the registry: unique codes, membership periods, a lead history never lost."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.errors import Conflict, NotFound, ValidationFailed
from coalition.paging import Page, paginate
from coalition.registry.models import (
    CapabilityCoalition,
    CoalitionMember,
    Format,
    FormatLead,
    FormatMembership,
    Participant,
    ParticipantKind,
)
from coalition.registry.schemas import (
    CoalitionCreate,
    FormatCreate,
    FormatUpdate,
    MembershipCreate,
    ParticipantCreate,
    ParticipantUpdate,
)

PARTICIPANT_SORTS = {"code": Participant.code, "name": Participant.name,
                     "gdp_usd": Participant.gdp_usd, "id": Participant.id}


def get_participant(session: Session, *, code: str, field: str = "participant") -> Participant:
    participant = session.scalar(select(Participant).where(Participant.code == code.upper()))
    if participant is None:
        raise NotFound(f"{field}: no participant with code {code!r}")
    return participant


def resolve_participant(session: Session, *, code: str, field: str) -> Participant:
    """Like get_participant, but a bad code in input is a validation error naming the field."""
    participant = session.scalar(select(Participant).where(Participant.code == code.upper()))
    if participant is None:
        raise ValidationFailed.single(field, "unknown participant code", code)
    return participant


def list_participants(
    session: Session,
    *,
    kind: ParticipantKind | None = None,
    donor: bool | None = None,
    nato: bool | None = None,
    search: str | None = None,
    sort: str = "code",
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Participant]:
    stmt: Select[Participant] = select(Participant)
    if kind is not None:
        stmt = stmt.where(Participant.kind == kind)
    if donor is not None:
        stmt = stmt.where(Participant.is_donor.is_(donor))
    if nato is not None:
        stmt = stmt.where(Participant.nato_member_since.is_not(None) if nato
                          else Participant.nato_member_since.is_(None))
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(Participant.name.ilike(pattern) | Participant.code.ilike(pattern))
    return paginate(session, stmt, id_column=Participant.id, sortable=PARTICIPANT_SORTS,
                    sort=sort, limit=limit, cursor=cursor)


def create_participant(session: Session, *, actor: Actor, data: ParticipantCreate) -> Participant:
    """Codes are unique; states use ISO 3166 alpha-3 (three capital letters)."""
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    if data.kind is ParticipantKind.STATE and len(data.code) != 3:
        raise ValidationFailed.single("code", "a state's code is its ISO 3166 alpha-3 code",
                                      data.code)
    if session.scalar(select(Participant.id).where(Participant.code == data.code)) is not None:
        raise Conflict(f"code: participant {data.code!r} already exists")
    participant = Participant(**data.model_dump())
    session.add(participant)
    session.flush()
    audit.record(session, actor=actor, action="participant.create", target=participant)
    return participant


def update_participant(
    session: Session, *, actor: Actor, code: str, data: ParticipantUpdate
) -> Participant:
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    participant = get_participant(session, code=code)
    before = audit.snapshot(participant)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(participant, key, value)
    session.flush()
    audit.record(session, actor=actor, action="participant.update", target=participant,
                 before=before)
    return participant


def get_format(session: Session, *, code: str) -> Format:
    fmt = session.scalar(select(Format).where(Format.code == code.upper()))
    if fmt is None:
        raise NotFound(f"no coordination format with code {code!r}")
    return fmt


def list_formats(session: Session) -> list[Format]:
    return list(session.scalars(select(Format).order_by(Format.code)))


def create_format(session: Session, *, actor: Actor, data: FormatCreate) -> Format:
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    if session.scalar(select(Format.id).where(Format.code == data.code)) is not None:
        raise Conflict(f"code: format {data.code!r} already exists")
    fmt = Format(code=data.code, name=data.name, description=data.description)
    session.add(fmt)
    session.flush()
    if data.lead is not None:
        lead = resolve_participant(session, code=data.lead, field="lead")
        _open_lead(session, fmt, lead, data.lead_since or dt.date.today(), note="founding lead")
    audit.record(session, actor=actor, action="format.create", target=fmt)
    return fmt


def update_format(session: Session, *, actor: Actor, code: str, data: FormatUpdate) -> Format:
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    fmt = get_format(session, code=code)
    policy.ensure_coordinates(actor, fmt.id, what="change the format")
    before = audit.snapshot(fmt)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(fmt, key, value)
    session.flush()
    audit.record(session, actor=actor, action="format.update", target=fmt, before=before)
    return fmt


def _open_lead(session: Session, fmt: Format, lead: Participant, since: dt.date,
               *, note: str) -> FormatLead:
    row = FormatLead(format_id=fmt.id, participant_id=lead.id, started_on=since, note=note)
    session.add(row)
    fmt.lead_participant_id = lead.id
    session.flush()
    session.refresh(fmt)
    return row


def change_lead(
    session: Session, *, actor: Actor, code: str, new_lead: str, on: dt.date, note: str = ""
) -> Format:
    """The old lead's period is closed, never deleted: the history of leads is complete."""
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    fmt = get_format(session, code=code)
    policy.ensure_coordinates(actor, fmt.id, what="change the lead")
    lead = resolve_participant(session, code=new_lead, field="lead")
    if fmt.lead_participant_id == lead.id:
        raise Conflict(f"{lead.code} already leads {fmt.code}")
    before = audit.snapshot(fmt)
    current = session.scalar(
        select(FormatLead).where(FormatLead.format_id == fmt.id, FormatLead.ended_on.is_(None))
    )
    if current is not None:
        if on < current.started_on:
            raise ValidationFailed.single("on", "hand-over cannot predate the current lead's start",
                                          on)
        current.ended_on = on
    _open_lead(session, fmt, lead, on, note=note)
    audit.record(session, actor=actor, action="format.change_lead", target=fmt, before=before)
    return fmt


def lead_history(session: Session, *, format_id: int) -> list[FormatLead]:
    return list(session.scalars(
        select(FormatLead).where(FormatLead.format_id == format_id)
        .order_by(FormatLead.started_on, FormatLead.id)
    ))


def members(
    session: Session, *, format_id: int, on: dt.date | None = None
) -> list[FormatMembership]:
    stmt = select(FormatMembership).where(FormatMembership.format_id == format_id)
    if on is not None:
        stmt = stmt.where(FormatMembership.joined_on <= on,
                          (FormatMembership.left_on.is_(None)) | (FormatMembership.left_on > on))
    return list(session.scalars(stmt.order_by(FormatMembership.id)))


def add_member(session: Session, *, actor: Actor, code: str, data: MembershipCreate
               ) -> FormatMembership:
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    fmt = get_format(session, code=code)
    policy.ensure_coordinates(actor, fmt.id, what="add members")
    participant = resolve_participant(session, code=data.participant, field="participant")
    active = session.scalar(select(FormatMembership.id).where(
        FormatMembership.format_id == fmt.id, FormatMembership.participant_id == participant.id,
        FormatMembership.left_on.is_(None)))
    if active is not None:
        raise Conflict(f"{participant.code} is already a member of {fmt.code}")
    membership = FormatMembership(format_id=fmt.id, participant_id=participant.id,
                                  joined_on=data.joined_on)
    session.add(membership)
    session.flush()
    audit.record(session, actor=actor, action="format.add_member", target=membership)
    return membership


def remove_member(session: Session, *, actor: Actor, code: str, participant: str,
                  on: dt.date) -> FormatMembership:
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    fmt = get_format(session, code=code)
    policy.ensure_coordinates(actor, fmt.id, what="remove members")
    member = resolve_participant(session, code=participant, field="participant")
    membership = session.scalar(select(FormatMembership).where(
        FormatMembership.format_id == fmt.id, FormatMembership.participant_id == member.id,
        FormatMembership.left_on.is_(None)))
    if membership is None:
        raise NotFound(f"{member.code} is not a current member of {fmt.code}")
    if on < membership.joined_on:
        raise ValidationFailed.single("on", "cannot leave before joining", on)
    before = audit.snapshot(membership)
    membership.left_on = on
    audit.record(session, actor=actor, action="format.remove_member", target=membership,
                 before=before)
    return membership


def create_coalition(session: Session, *, actor: Actor, data: CoalitionCreate
                     ) -> CapabilityCoalition:
    """A capability coalition has at least one lead nation among its members."""
    policy.ensure(actor, policy.MANAGE_REGISTRY)
    if session.scalar(select(CapabilityCoalition.id)
                      .where(CapabilityCoalition.code == data.code)) is not None:
        raise Conflict(f"code: coalition {data.code!r} already exists")
    fmt_id = get_format(session, code=data.format).id if data.format else None
    coalition = CapabilityCoalition(code=data.code, name=data.name,
                                    capability_area=data.capability_area, format_id=fmt_id)
    for index, member in enumerate(data.members):
        participant = resolve_participant(session, code=member.participant,
                                          field=f"members[{index}].participant")
        coalition.members.append(CoalitionMember(participant_id=participant.id, role=member.role,
                                                 joined_on=member.joined_on))
    session.add(coalition)
    session.flush()
    audit.record(session, actor=actor, action="coalition.create", target=coalition)
    return coalition


def list_coalitions(session: Session) -> list[CapabilityCoalition]:
    return list(session.scalars(select(CapabilityCoalition).order_by(CapabilityCoalition.code)))


def get_coalition(session: Session, *, code: str) -> CapabilityCoalition:
    coalition = session.scalar(
        select(CapabilityCoalition).where(CapabilityCoalition.code == code.upper()))
    if coalition is None:
        raise NotFound(f"no capability coalition with code {code!r}")
    return coalition
