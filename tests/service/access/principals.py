"""Who asks: one principal per role and kind of nation, shared by the visibility table, the
authorization matrix and the API tests.

The factories' world (UDCG led by the USA; USA DEU POL JPN AUS UKR) gets two more states that
are not UDCG members (CAN in NATO, CHE outside) and NSATU, a NATO-led format of USA DEU POL UKR.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.access.labels import Role
from coalition.registry import service as registry_service
from coalition.registry.models import ParticipantKind
from coalition.registry.schemas import FormatCreate, MembershipCreate, ParticipantCreate
from tests.factories import DAY


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role | None  # None: no credentials at all
    nation: str | None = None
    format: str | None = None

    @property
    def user_name(self) -> str:
        return f"p-{self.name}"


NATO_NATION, NON_NATO_NATION, RECIPIENT_NATION = "POL", "JPN", "UKR"
NATIONS = (NATO_NATION, NON_NATO_NATION, RECIPIENT_NATION)

PRINCIPALS: list[Principal] = [
    Principal("admin", Role.ADMIN),
    Principal("coordinator-UDCG", Role.COORDINATOR, format="UDCG"),
    Principal("coordinator-NSATU", Role.COORDINATOR, format="NSATU"),
    *[Principal(f"{role.value}-{nation}", role, nation)
      for role in (Role.NATIONAL, Role.RECIPIENT, Role.ANALYST) for nation in NATIONS],
    Principal("national-CAN", Role.NATIONAL, "CAN"),
    Principal("national-CHE", Role.NATIONAL, "CHE"),
    Principal("observer", Role.OBSERVER),
    Principal("observer-POL", Role.OBSERVER, "POL"),
    Principal("anonymous", None),
]
BY_NAME = {p.name: p for p in PRINCIPALS}


def extend_world(session: Session) -> None:
    """Adds CAN, CHE and the NATO-led NSATU to the factories' world."""
    for code, name, nato in [("CAN", "Canada", 1949), ("CHE", "Switzerland", None)]:
        registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
            kind=ParticipantKind.STATE, code=code, name=name, nato_member_since=nato,
            is_donor=True))
    registry_service.create_format(session, actor=SYSTEM, data=FormatCreate(
        code="NSATU", name="NSATU", lead="NATO", lead_since=dt.date(2024, 1, 1)))
    for code in ("USA", "DEU", "POL", "UKR"):
        registry_service.add_member(session, actor=SYSTEM, code="NSATU", data=MembershipCreate(
            participant=code, joined_on=dt.date(2024, 1, 1)))


def create_principals(session: Session) -> dict[str, Actor]:
    """A user per principal (anonymous excluded), resolved as of the factories' DAY."""
    actors: dict[str, Actor] = {}
    for p in PRINCIPALS:
        if p.role is None:
            continue
        user = access_service.create_user(session, actor=SYSTEM, name=p.user_name, role=p.role,
                                          nation=p.nation, format_code=p.format)
        actors[p.name] = actor_for_user(session, user, today=DAY)
    return actors
