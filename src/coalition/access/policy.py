"""Named permissions checked by services: who may do what, before any row changes."""

from __future__ import annotations

from dataclasses import dataclass

from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.errors import Forbidden


@dataclass(frozen=True)
class Permission:
    name: str
    roles: frozenset[Role]

    def allows(self, actor: Actor) -> bool:
        return actor.role in self.roles


def _perm(name: str, *roles: Role) -> Permission:
    return Permission(name, frozenset({Role.ADMIN, *roles}))


MANAGE_REGISTRY = _perm("manage registry", Role.COORDINATOR)
MANAGE_CATALOG = _perm("manage catalog", Role.COORDINATOR)
MANAGE_REQUIREMENTS = _perm("manage requirements", Role.COORDINATOR, Role.RECIPIENT)
WRITE_PLEDGES = _perm("write pledges", Role.COORDINATOR, Role.NATIONAL)
ALLOCATE = _perm("approve allocations", Role.COORDINATOR, Role.NATIONAL)
RUN_MATCHING = _perm("run matching", Role.COORDINATOR)
RECORD_MEETINGS = _perm("record meetings", Role.COORDINATOR)
RECORD_LOGISTICS = _perm("record logistics", Role.COORDINATOR, Role.RECIPIENT, Role.NATIONAL)
READ_AUDIT = _perm("read the audit log", Role.COORDINATOR)
MANAGE_USERS = _perm("manage users")
HAND_OVER = _perm("hand over the coordination of a format", Role.COORDINATOR)


def ensure(actor: Actor, permission: Permission) -> None:
    if not permission.allows(actor):
        raise Forbidden(f"role {actor.role.value} may not {permission.name}")


def ensure_own_nation(actor: Actor, participant_id: int, *, what: str) -> None:
    """National desks act only for their own nation; the sovereign decision stays national."""
    if actor.role is Role.NATIONAL and actor.participant_id != participant_id:
        raise Forbidden(f"a national user may only {what} of their own nation")


def ensure_speaks_for(actor: Actor, participant_id: int, *, what: str) -> None:
    """National desks and the recipient's staff act only for the participant they represent."""
    if actor.role in {Role.NATIONAL, Role.RECIPIENT} and actor.participant_id != participant_id:
        raise Forbidden(f"a {actor.role.value} user may only {what} of their own nation")


def ensure_coordinates(actor: Actor, format_id: int | None, *, what: str) -> None:
    """A format's secretariat acts for its own format's records; admins for any."""
    if actor.role is Role.COORDINATOR and format_id not in actor.coordinated_format_ids:
        raise Forbidden(f"a coordinator may only {what} of the format they coordinate")
