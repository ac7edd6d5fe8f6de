"""Requirement rules: valid needs, recipient ownership, coverage status, filters."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.errors import Forbidden, InvalidTransition, ValidationFailed
from coalition.requirements import service as requirement_service
from coalition.requirements.schemas import RequirementCreate, RequirementFilter
from tests import factories
from tests.factories import World


def test_requirement_takes_capability_area_from_item(world: World, session: Session) -> None:
    r = factories.requirement(session)
    assert r.capability_area.value == "artillery"
    assert r.quantity_remaining == 100


def test_recipient_must_be_a_recipient(world: World, session: Session) -> None:
    with pytest.raises(ValidationFailed, match="recipient"):
        factories.requirement(session, recipient="POL")


def test_national_desk_cannot_state_needs(world: World, session: Session) -> None:
    with pytest.raises(Forbidden):
        requirement_service.create_requirement(session, actor=world.actor("pol"),
                                               data=RequirementCreate(
                                                   item_type="155-a", quantity=1, priority=1,
                                                   needed_by=dt.date(2025, 1, 1)))


def test_recipient_staff_state_needs(world: World, session: Session) -> None:
    r = requirement_service.create_requirement(session, actor=world.actor("ukr"),
                                               data=RequirementCreate(
                                                   item_type="155-a", quantity=1, priority=2,
                                                   needed_by=dt.date(2025, 1, 1)))
    assert r.recipient.code == "UKR"


def test_withdrawn_requirement_is_frozen(world: World, session: Session) -> None:
    r = factories.requirement(session)
    requirement_service.withdraw_requirement(session, actor=SYSTEM, requirement_id=r.id,
                                             reason="no longer needed")
    with pytest.raises(InvalidTransition):
        requirement_service.withdraw_requirement(session, actor=SYSTEM, requirement_id=r.id,
                                                 reason="again")


def test_list_filters_and_paginates(world: World, session: Session) -> None:
    for priority in (1, 1, 2, 3, 1):
        factories.requirement(session, priority=priority)
    page = requirement_service.list_requirements(
        session, actor=SYSTEM, filters=RequirementFilter(priority=1), limit=2)
    assert page.total == 3 and len(page.items) == 2 and page.next_cursor
    rest = requirement_service.list_requirements(
        session, actor=SYSTEM, filters=RequirementFilter(priority=1), limit=2,
        cursor=page.next_cursor)
    ids = [r.id for r in page.items] + [r.id for r in rest.items]
    assert len(set(ids)) == 3 and rest.next_cursor is None


def test_bad_sort_names_the_field(world: World, session: Session) -> None:
    with pytest.raises(ValidationFailed) as err:
        requirement_service.list_requirements(session, actor=SYSTEM, sort="colour")
    assert err.value.errors[0].field == "sort"
