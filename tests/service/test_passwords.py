"""Dashboard passwords: argon2id hashes, who may set them, one answer for every refusal."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import passwords
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.models import AuditEntry, User
from coalition.errors import Forbidden, Unauthenticated, ValidationFailed
from tests.factories import World

GOOD = "a long enough passphrase"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_set_password_stores_argon2id_and_audits_without_the_hash(
        session: Session, world: World) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol", password=GOOD)
    user = session.scalar(select(User).where(User.name == "pol"))
    assert user is not None and user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.set_password"))
    assert entry is not None
    assert json.loads(entry.after or "{}") == {"user": "pol", "replaced": False}
    assert user.password_hash not in (entry.after or "")


def test_authenticate_password_returns_the_users_actor(session: Session, world: World) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol", password=GOOD)
    actor = passwords.authenticate_password(session, name="pol", password=GOOD)
    assert actor.name == "pol" and actor.participant_code == "POL"


@pytest.mark.parametrize(("name", "password"), [("pol", "wrong passphrase!"),
                                                ("nobody", GOOD), ("deu", GOOD)])
def test_authenticate_refuses_alike(session: Session, world: World, name: str,
                                    password: str) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol", password=GOOD)
    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        passwords.authenticate_password(session, name=name, password=password)


def test_deactivated_user_cannot_sign_in(session: Session, world: World) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol", password=GOOD)
    access_service.deactivate_user(session, actor=SYSTEM, name="pol")
    with pytest.raises(Unauthenticated):
        passwords.authenticate_password(session, name="pol", password=GOOD)


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 12"), (" padded passphrase ", "spaces"),
    ("pol-is-my-password", "user name"), ("x" * 257, "at most 256")])
def test_weak_passwords_are_refused(session: Session, world: World, password: str,
                                    message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        passwords.set_password(session, actor=SYSTEM, user_name="pol", password=password)


def test_users_set_only_their_own_password(session: Session, world: World) -> None:
    passwords.set_password(session, actor=world.actor("pol"), user_name="pol", password=GOOD)
    with pytest.raises(Forbidden):
        passwords.set_password(session, actor=world.actor("pol"), user_name="deu",
                               password=GOOD)
    passwords.set_password(session, actor=world.actor("admin"), user_name="deu", password=GOOD)


def test_outdated_hash_parameters_are_upgraded_at_sign_in(
        session: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    passwords.set_password(session, actor=SYSTEM, user_name="pol", password=GOOD)
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    passwords.authenticate_password(session, name="pol", password=GOOD)
    user = session.scalar(select(User).where(User.name == "pol"))
    assert user is not None and "m=2048,t=2" in (user.password_hash or "")
