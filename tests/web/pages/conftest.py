"""Page fixtures: world users with passwords, and a helper that signs a client in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coalition.access import passwords
from coalition.access.actor import SYSTEM
from tests.factories import World

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the algorithm is the same, tests need not wait for it."""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def with_passwords(world: World, session: Session) -> World:
    for name in world.actors:
        passwords.set_password(session, actor=SYSTEM, user_name=name, password=PASSWORD)
    session.commit()
    return world


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1) or match.group(2)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Signs the client in through the login form; returns the session's CSRF token."""
    form = client.get("/login")
    response = client.post("/login", data={"username": name, "password": password,
                                           "csrf_token": csrf_of(form.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def signed_in(client: TestClient, with_passwords: World) -> Callable[[str], str]:
    return lambda name: sign_in(client, name)
