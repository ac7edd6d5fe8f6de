"""The audit chain: tamper evidence on both databases, labels copied from targets, the log
filtered like the records, and no secret in any entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from coalition.access import audit, passwords
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability, Role
from coalition.access.models import AuditEntry
from coalition.errors import Forbidden, ValidationFailed
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges import flows
from tests import factories
from tests.factories import DAY, World
from tests.service.access.principals import create_principals, extend_world

_COLUMNS = ["at", "actor", "action", "target_type", "target_id", "before", "after",
            "request_id", "releasability", "owner_participant_id", "format_id", "prev_hash",
            "hash"]


def _chain_ids(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def _row(session: Session, entry_id: int) -> dict[str, Any]:
    entry = session.get_one(AuditEntry, entry_id)
    return {c: getattr(entry, c) for c in _COLUMNS}


def _set(session: Session, entry_id: int, values: dict[str, Any]) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**values)
                    .execution_options(synchronize_session=False))


def tamper(session: Session, how: str, entry_id: int) -> int:
    """Changes the database directly, as someone bypassing the application would; returns the
    entry verification must name."""
    ids = _chain_ids(session)
    if how == "change":
        _set(session, entry_id, {"after": '{"quantity":1}'})
    elif how == "change-and-rehash":
        entry = session.get_one(AuditEntry, entry_id)
        entry.after = '{"quantity":1}'
        _set(session, entry_id, {"after": entry.after, "hash": audit.compute_hash(entry)})
    elif how == "delete":
        session.execute(delete(AuditEntry).where(AuditEntry.id == entry_id))
    elif how == "swap":
        other = ids[ids.index(entry_id) + 1] if entry_id != ids[-1] else ids[-2]
        first, second = sorted((entry_id, other))
        a, b = _row(session, first), _row(session, second)
        _set(session, first, {"hash": "swap-in-progress".ljust(64, "-")})
        _set(session, second, a)
        _set(session, first, b)
        entry_id = first
    session.expire_all()
    return entry_id


@pytest.mark.parametrize("how", ["change", "change-and-rehash", "delete", "swap"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_tampering_with_any_single_entry_is_named(world: World, session: Session, how: str,
                                                   where: str) -> None:
    factories.pledge(session, confirm=True)
    ids = _chain_ids(session)
    assert audit.verify_chain(session).ok
    target = {"first": ids[0], "middle": ids[len(ids) // 2], "last": ids[-1]}[where]
    expected_id = tamper(session, how, target)
    report = audit.verify_chain(session)
    assert not report.ok
    assert report.first_bad_id == expected_id, report.reason
    word = {"change": "changed", "change-and-rehash": "changed", "delete": "deleted",
            "swap": "reordered"}[how]
    assert report.reason.startswith(word), report.reason


def test_intact_chain_reports_entries_and_head(world: World, session: Session) -> None:
    report = audit.verify_chain(session, batch=7)  # several batches
    count = session.scalar(select(func.count()).select_from(AuditEntry))
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    assert report.ok and report.entries == count and report.head_hash == last


def test_append_after_deleting_the_newest_entry_still_shows(world: World, session: Session
                                                            ) -> None:
    last = _chain_ids(session)[-1]
    tamper(session, "delete", last)
    factories.pledge(session)  # a later write chains onto the recorded head, not the row
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == last and "deleted" in report.reason


def test_entries_copy_label_owner_and_format_from_target(world: World, session: Session
                                                         ) -> None:
    pledge = factories.pledge(session, donor="DEU", releasability=Releasability.NATO,
                              confirm=True)
    requirement = factories.requirement(session, quantity=10)
    allocation = flows.allocate(session, actor=SYSTEM, pledge_id=pledge.id,
                                requirement_id=requirement.id, quantity=5)
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Ramstein", held_on=DAY))
    meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id, pledge_id=pledge.id)
    entries = {e.action: e for e in session.scalars(select(AuditEntry))}
    for action in ("pledge.create", "allocation.create", "meeting.announce"):
        entry = entries[action]
        assert (entry.releasability, entry.owner_participant_id, entry.format_id) == (
            "NATO", pledge.donor_id, pledge.format_id), action
    assert entries["allocation.create"].target_id == str(allocation.id)
    assert entries["requirement.create"].owner_participant_id == requirement.recipient_id


def test_no_secret_reaches_the_log(world: World, session: Session) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol",
                           password="correct horse battery")
    issued = access_service.issue_token_for(session, actor=SYSTEM, user_name="pol")
    access_service.deactivate_user(session, actor=SYSTEM, name="pol")
    user = access_service.get_user(session, name="pol")
    text = " ".join(f"{e.before} {e.after}" for e in session.scalars(select(AuditEntry)))
    assert user.password_hash and user.password_hash not in text
    assert issued.token not in text and access_service.hash_token(issued.token) not in text
    assert "password_hash" not in text and "token_hash" not in text


def _logged(session: Session, actor_name: str, actors: dict[str, Any], **filters: Any
            ) -> set[tuple[str, str]]:
    page = audit.list_entries(session, actor=actors[actor_name], limit=500, **filters)
    return {(e.action, e.target_id) for e in page.items}


def test_log_is_filtered_like_the_records(world: World, session: Session) -> None:
    extend_world(session)
    actors = create_principals(session)
    nato = factories.pledge(session, donor="DEU", releasability=Releasability.NATO)
    national = factories.pledge(session, donor="DEU", releasability=Releasability.NATIONAL)
    public = factories.pledge(session, donor="DEU", releasability=Releasability.PUBLIC)
    created = {label: ("pledge.create", str(p.id))
               for label, p in [("NATO", nato), ("NATIONAL", national), ("PUBLIC", public)]}
    admin = _logged(session, "admin", actors, action="pledge")
    udcg = _logged(session, "coordinator-UDCG", actors, action="pledge")
    nsatu = _logged(session, "coordinator-NSATU", actors, action="pledge")
    assert set(created.values()) <= admin
    assert set(created.values()) <= udcg  # every record of the format it coordinates
    assert created["NATO"] in nsatu and created["PUBLIC"] in nsatu
    assert created["NATIONAL"] not in nsatu
    # Users, tokens and the registry are not labelled: their entries are for admins only.
    assert _logged(session, "coordinator-UDCG", actors, target="users") == set()
    assert _logged(session, "admin", actors, target="users")


@pytest.mark.parametrize("name", ["national-POL", "recipient-UKR", "analyst-JPN", "observer"])
def test_log_and_verify_are_for_coordinators_and_admins(world: World, session: Session,
                                                        name: str) -> None:
    extend_world(session)
    actors = create_principals(session)
    with pytest.raises(Forbidden):
        audit.list_entries(session, actor=actors[name])
    with pytest.raises(Forbidden):
        audit.verify(session, actor=actors[name])


def test_log_filters_by_target_actor_and_action(world: World, session: Session) -> None:
    pledge = factories.pledge(session, actor=world.actor("pol"), confirm=True)
    factories.pledge(session)
    admin = world.actor("admin")
    page = audit.list_entries(session, actor=admin, target=f"pledges:{pledge.id}")
    assert [e.action for e in page.items] == ["pledge.confirmed", "pledge.create"]
    by_pol = audit.list_entries(session, actor=admin, actor_name="pol")
    assert {e.actor for e in by_pol.items} == {"pol (POL)"} and by_pol.total == 2
    confirmed = audit.list_entries(session, actor=admin, action="pledge.confirmed")
    assert confirmed.total == 1
    assert audit.list_entries(session, actor=admin, action="pledge").total == 3
    with pytest.raises(ValidationFailed):
        audit.list_entries(session, actor=admin, target=":3")


def test_log_pages_with_cursor(world: World, session: Session) -> None:
    admin = world.actor("admin")
    seen: list[int] = []
    cursor = None
    while True:
        page = audit.list_entries(session, actor=admin, limit=7, cursor=cursor)
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == page.total == len(set(seen))


def test_entry_and_write_share_one_transaction(world: World, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    savepoint = session.begin_nested()
    factories.pledge(session)
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert audit.verify_chain(session).ok


def test_deactivating_the_last_admin_is_refused(world: World, session: Session) -> None:
    from coalition.errors import Conflict

    with pytest.raises(Conflict, match="last active administrator"):
        access_service.deactivate_user(session, actor=SYSTEM, name="admin")
    access_service.create_user(session, actor=SYSTEM, name="admin2", role=Role.ADMIN)
    assert not access_service.deactivate_user(session, actor=SYSTEM, name="admin").is_active


def test_tokens_expire_on_time(world: World, session: Session) -> None:
    issued = access_service.issue_token_for(session, actor=SYSTEM, user_name="jpn",
                                            expires_in=dt.timedelta(days=1))
    assert issued.record.expires_at is not None
    assert access_service.authenticate(session, token=issued.token).participant_code == "JPN"


def test_token_last_use_is_recorded_to_the_minute(world: World, session: Session) -> None:
    issued = access_service.issue_token_for(session, actor=SYSTEM, user_name="jpn")
    access_service.authenticate(session, token=issued.token)
    first = issued.record.last_used_at
    assert first is not None
    access_service.authenticate(session, token=issued.token)
    assert issued.record.last_used_at == first  # a second read within the minute writes nothing
    issued.record.last_used_at = first - access_service.LAST_USED_RESOLUTION
    access_service.authenticate(session, token=issued.token)
    assert issued.record.last_used_at > first
