"""Factories: a small, valid world in one call, and one-line builders for single records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.access.labels import Releasability, Role
from coalition.catalog import service as catalog_service
from coalition.catalog.models import CapabilityArea
from coalition.catalog.schemas import CategoryCreate, ItemTypeCreate
from coalition.pledges import service as pledge_service
from coalition.pledges.models import Pledge, PledgeStatus
from coalition.pledges.schemas import PledgeCreate
from coalition.registry import service as registry_service
from coalition.registry.models import ParticipantKind
from coalition.registry.schemas import FormatCreate, MembershipCreate, ParticipantCreate
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement
from coalition.requirements.schemas import RequirementCreate

DAY = dt.date(2024, 6, 13)

STATES = [
    # code, name, NATO since, donor, recipient
    ("USA", "United States", 1949, True, False),
    ("DEU", "Germany", 1955, True, False),
    ("POL", "Poland", 1999, True, False),
    ("JPN", "Japan", None, True, False),
    ("AUS", "Australia", None, True, False),
    ("UKR", "Ukraine", None, False, True),
]


@dataclass
class World:
    """A format UDCG (all states, lead USA), three item types, and one actor per role."""

    session: Session
    actors: dict[str, Actor]

    def actor(self, name: str) -> Actor:
        return self.actors[name]


def build_world(session: Session) -> World:
    for code, name, nato, donor, recipient in STATES:
        registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
            kind=ParticipantKind.STATE, code=code, name=name, nato_member_since=nato,
            gdp_usd=1_000_000_000_000, gdp_year=2023, is_donor=donor, is_recipient=recipient))
    registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
        kind=ParticipantKind.ORGANISATION, code="NATO", name="NATO"))
    registry_service.create_format(session, actor=SYSTEM, data=FormatCreate(
        code="UDCG", name="Ukraine Defense Contact Group", lead="USA",
        lead_since=dt.date(2022, 4, 26)))
    for code, *_ in STATES:
        registry_service.add_member(session, actor=SYSTEM, code="UDCG", data=MembershipCreate(
            participant=code, joined_on=dt.date(2022, 4, 26)))
    catalog_service.create_category(session, actor=SYSTEM,
                                    data=CategoryCreate(code="ammo", name="Ammunition"))
    for code, name, group, value in [
        ("155-a", "155mm shell A", "155mm NATO", "3000"),
        ("155-b", "155mm shell B", "155mm NATO", "3500"),
        ("152-a", "152mm shell", "152mm", "2500"),
    ]:
        catalog_service.create_item_type(session, actor=SYSTEM, data=ItemTypeCreate(
            code=code, name=name, unit="round", unit_value_eur=Decimal(value),
            capability_area=CapabilityArea.ARTILLERY, compatibility_group=group,
            category="ammo"))
    users = [("coord", Role.COORDINATOR, None, "UDCG"), ("pol", Role.NATIONAL, "POL", None),
             ("deu", Role.NATIONAL, "DEU", None), ("jpn", Role.NATIONAL, "JPN", None),
             ("ukr", Role.RECIPIENT, "UKR", None), ("observer", Role.OBSERVER, None, None),
             ("analyst-jpn", Role.ANALYST, "JPN", None), ("admin", Role.ADMIN, None, None)]
    actors = {}
    for name, role, nation, fmt in users:
        user = access_service.create_user(session, actor=SYSTEM, name=name, role=role,
                                          nation=nation, format_code=fmt)
        actors[name] = actor_for_user(session, user, today=DAY)
    session.flush()
    return World(session=session, actors=actors)


def pledge(session: Session, *, donor: str = "POL", item_type: str = "155-a",
           quantity: int = 100, confirm: bool = False, actor: Actor = SYSTEM,
           **overrides: Any) -> Pledge:
    data: dict[str, Any] = {"donor": donor, "item_type": item_type, "quantity": quantity,
                            "amount": Decimal(quantity) * 3000, "announced_on": DAY,
                            "available_from": DAY + dt.timedelta(days=30),
                            "releasability": Releasability.COALITION}
    data.update(overrides)
    created = pledge_service.create_pledge(session, actor=actor, data=PledgeCreate(**data))
    if confirm:
        pledge_service.transition(session, actor=actor, pledge_id=created.id,
                                  to=PledgeStatus.CONFIRMED, reason="test")
    return created


def requirement(session: Session, *, item_type: str = "155-a", quantity: int = 100,
                priority: int = 1, **overrides: Any) -> Requirement:
    data: dict[str, Any] = {"item_type": item_type, "quantity": quantity, "priority": priority,
                            "needed_by": DAY + dt.timedelta(days=90)}
    data.update(overrides)
    return requirement_service.create_requirement(session, actor=SYSTEM,
                                                  data=RequirementCreate(**data))
