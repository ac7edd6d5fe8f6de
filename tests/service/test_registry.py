"""Registry rules: unique codes, memberships, a complete history of leads."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.errors import Conflict, Forbidden, ValidationFailed
from coalition.registry import service as registry_service
from coalition.registry.models import ParticipantKind
from coalition.registry.schemas import MembershipCreate, ParticipantCreate
from tests.factories import World


def test_participant_codes_are_unique(world: World, session: Session) -> None:
    with pytest.raises(Conflict, match="code"):
        registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
            kind=ParticipantKind.STATE, code="POL", name="Poland again"))


def test_state_code_must_be_alpha3(world: World, session: Session) -> None:
    with pytest.raises(ValidationFailed, match="alpha-3"):
        registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
            kind=ParticipantKind.STATE, code="PL", name="Poland"))


def test_national_user_cannot_edit_registry(world: World, session: Session) -> None:
    with pytest.raises(Forbidden):
        registry_service.create_participant(session, actor=world.actor("pol"),
                                            data=ParticipantCreate(
                                                kind=ParticipantKind.STATE, code="CHE",
                                                name="Switzerland"))


def test_change_lead_keeps_full_history(world: World, session: Session) -> None:
    fmt = registry_service.change_lead(session, actor=SYSTEM, code="UDCG", new_lead="NATO",
                                       on=dt.date(2024, 7, 10), note="hand-over")
    assert fmt.lead is not None and fmt.lead.code == "NATO"
    leads = registry_service.lead_history(session, format_id=fmt.id)
    assert [(x.participant.code, x.started_on, x.ended_on) for x in leads] == [
        ("USA", dt.date(2022, 4, 26), dt.date(2024, 7, 10)),
        ("NATO", dt.date(2024, 7, 10), None),
    ]
    with pytest.raises(Conflict, match="already leads"):
        registry_service.change_lead(session, actor=SYSTEM, code="UDCG", new_lead="NATO",
                                     on=dt.date(2024, 8, 1))


def test_membership_periods(world: World, session: Session) -> None:
    with pytest.raises(Conflict, match="already a member"):
        registry_service.add_member(session, actor=SYSTEM, code="UDCG", data=MembershipCreate(
            participant="POL", joined_on=dt.date(2023, 1, 1)))
    registry_service.remove_member(session, actor=SYSTEM, code="UDCG", participant="POL",
                                   on=dt.date(2025, 1, 1))
    fmt = registry_service.get_format(session, code="UDCG")
    current = {m.participant.code for m in registry_service.members(
        session, format_id=fmt.id, on=dt.date(2025, 6, 1))}
    assert "POL" not in current and "DEU" in current
