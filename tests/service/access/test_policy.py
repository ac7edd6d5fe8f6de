"""Who may write what beyond the role: nations act for themselves, a secretariat for its own
format's records (admins for any)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM, Actor
from coalition.access.labels import Releasability
from coalition.errors import Forbidden
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import DecisionCreate, MeetingCreate
from coalition.pledges import flows
from coalition.pledges import service as pledge_service
from coalition.pledges.models import PledgeStatus
from coalition.pledges.schemas import PledgeUpdate
from coalition.registry import service as registry_service
from coalition.registry.schemas import FormatUpdate, MembershipCreate
from coalition.requirements import service as requirement_service
from coalition.requirements.schemas import RequirementCreate, RequirementUpdate
from tests import factories
from tests.factories import DAY, World
from tests.service.access.principals import create_principals, extend_world

PUBLIC = Releasability.PUBLIC
Write = Callable[[Session, Actor, dict[str, Any]], object]

WRITES: dict[str, Write] = {
    "create requirement": lambda s, a, r: requirement_service.create_requirement(
        s, actor=a, data=RequirementCreate(item_type="155-a", quantity=5, priority=1,
                                           needed_by=DAY)),
    "update requirement": lambda s, a, r: requirement_service.update_requirement(
        s, actor=a, requirement_id=r["requirement"], data=RequirementUpdate(notes="x")),
    "withdraw requirement": lambda s, a, r: requirement_service.withdraw_requirement(
        s, actor=a, requirement_id=r["requirement"], reason="x"),
    "create pledge": lambda s, a, r: factories.pledge(s, donor="DEU", actor=a),
    "update pledge": lambda s, a, r: pledge_service.update_pledge(
        s, actor=a, pledge_id=r["pledge"], data=PledgeUpdate(notes="x")),
    "cancel pledge": lambda s, a, r: pledge_service.transition(
        s, actor=a, pledge_id=r["pledge"], to=PledgeStatus.CANCELLED, reason="x"),
    "allocate": lambda s, a, r: flows.allocate(s, actor=a, pledge_id=r["pledge"],
                                               requirement_id=r["requirement"], quantity=1),
    "cancel allocation": lambda s, a, r: flows.cancel_allocation(
        s, actor=a, allocation_id=r["allocation"], reason="x"),
    "record meeting": lambda s, a, r: meeting_service.create_meeting(
        s, actor=a, data=MeetingCreate(format="UDCG", title="x", held_on=DAY)),
    "announce": lambda s, a, r: meeting_service.announce(
        s, actor=a, meeting_id=r["meeting"], pledge_id=r["unannounced"]),
    "record decision": lambda s, a, r: meeting_service.record_decision(
        s, actor=a, meeting_id=None, format_code="UDCG", data=DecisionCreate(text="x")),
    "update format": lambda s, a, r: registry_service.update_format(
        s, actor=a, code="UDCG", data=FormatUpdate(name="x")),
    "add member": lambda s, a, r: registry_service.add_member(
        s, actor=a, code="UDCG", data=MembershipCreate(participant="CAN",
                                                        joined_on=dt.date(2024, 1, 1))),
    "change lead": lambda s, a, r: registry_service.change_lead(
        s, actor=a, code="UDCG", new_lead="NATO", on=dt.date(2024, 7, 10)),
}


def _records(session: Session) -> dict[str, Any]:
    """PUBLIC, so that every secretariat sees them: the format, not sight, must refuse."""
    pledge = factories.pledge(session, donor="DEU", confirm=True, releasability=PUBLIC)
    requirement = factories.requirement(session, quantity=50, releasability=PUBLIC)
    allocation = flows.allocate(session, actor=SYSTEM, pledge_id=pledge.id,
                                requirement_id=requirement.id, quantity=5)
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Ramstein", held_on=DAY))
    unannounced = factories.pledge(session, donor="DEU", releasability=PUBLIC)
    return {"pledge": pledge.id, "requirement": requirement.id, "allocation": allocation.id,
            "meeting": meeting.id, "unannounced": unannounced.id}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_secretariat_writes_only_its_own_formats_records(world: World, session: Session,
                                                           write: str) -> None:
    extend_world(session)
    actors = create_principals(session)
    records = _records(session)
    with pytest.raises(Forbidden, match="format they coordinate"):
        WRITES[write](session, actors["coordinator-NSATU"], records)
    savepoint = session.begin_nested()
    WRITES[write](session, actors["coordinator-UDCG"], records)
    savepoint.rollback()
    WRITES[write](session, actors["admin"], records)


def test_recipient_staff_change_only_their_own_requirements(world: World,
                                                            session: Session) -> None:
    extend_world(session)
    actors = create_principals(session)
    requirement = factories.requirement(session)
    with pytest.raises(Forbidden, match="own nation"):
        requirement_service.update_requirement(session, actor=actors["recipient-POL"],
                                               requirement_id=requirement.id,
                                               data=RequirementUpdate(notes="x"))
    with pytest.raises(Forbidden, match="own nation"):
        requirement_service.create_requirement(session, actor=actors["recipient-JPN"], data=(
            RequirementCreate(item_type="155-a", quantity=5, priority=1, needed_by=DAY)))
    updated = requirement_service.update_requirement(
        session, actor=actors["recipient-UKR"], requirement_id=requirement.id,
        data=RequirementUpdate(notes="x"))
    assert updated.notes == "x"
