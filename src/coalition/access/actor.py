"""The identity a service call runs as, resolved once per request or command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.labels import Role
from coalition.access.models import User
from coalition.registry.models import Format, FormatMembership, Participant


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    user_id: int | None = None
    participant_id: int | None = None
    participant_code: str | None = None
    is_nato: bool = False
    # Formats the actor's nation currently belongs to (COALITION-labelled records of these).
    member_format_ids: frozenset[int] = field(default_factory=frozenset)
    # Formats whose secretariat the actor is (coordinators only).
    coordinated_format_ids: frozenset[int] = field(default_factory=frozenset)
    coordinates_nato_led_format: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def label(self) -> str:
        """How the actor appears in histories and the audit log."""
        if self.participant_code is None:
            return self.name
        return f"{self.name} ({self.participant_code})"


# The CLI runs on the operator's machine with direct database access: it acts as the system.
SYSTEM = Actor(name="system", role=Role.ADMIN)


def actor_for_user(session: Session, user: User, *, today: dt.date | None = None) -> Actor:
    """Resolves nation, NATO status and format memberships as of today (UTC)."""
    today = today or dt.datetime.now(dt.UTC).date()  # membership dates are UTC days
    participant: Participant | None = user.participant
    member_ids: frozenset[int] = frozenset()
    if participant is not None:
        member_ids = frozenset(
            session.scalars(
                select(FormatMembership.format_id).where(
                    FormatMembership.participant_id == participant.id,
                    FormatMembership.joined_on <= today,
                    (FormatMembership.left_on.is_(None)) | (FormatMembership.left_on > today),
                )
            )
        )
    coordinated: frozenset[int] = frozenset()
    nato_led = False
    if user.role is Role.COORDINATOR and user.format_id is not None:
        coordinated = frozenset({user.format_id})
        fmt = session.get(Format, user.format_id)
        nato_led = fmt is not None and fmt.lead is not None and fmt.lead.code == "NATO"
    return Actor(
        name=user.name,
        role=user.role,
        user_id=user.id,
        participant_id=participant.id if participant else None,
        participant_code=participant.code if participant else None,
        is_nato=participant.is_nato_member(today) if participant else False,
        member_format_ids=member_ids | coordinated,
        coordinated_format_ids=coordinated,
        coordinates_nato_led_format=nato_led,
    )
