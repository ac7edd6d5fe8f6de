"""API fixtures: an app whose requests run inside the test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.web.app import create_app
from tests.factories import World


@pytest.fixture
def client(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(engine, session_factory)) as c:
        yield c


@pytest.fixture
def tokens(world: World, session: Session) -> dict[str, str]:
    """A bearer token per world user, by user name."""
    out = {}
    for name in world.actors:
        user = access_service.get_user(session, name=name)
        out[name] = access_service.issue_token(session, actor=SYSTEM, user=user).token
    session.commit()
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
