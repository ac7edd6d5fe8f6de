"""Shorthand dependency types for routes: the unit of work and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from coalition.access import service as access_service
from coalition.access.actor import Actor
from coalition.db import unit_of_work
from coalition.errors import Unauthenticated


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response leaves."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with unit_of_work(factory, reads=request.method in {"GET", "HEAD"}) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def get_actor(request: Request, session: SessionDep) -> Actor:
    """Bearer token first; the dashboard's signed session cookie resolves the same identity."""
    token = bearer_token(request)
    if token is None:
        resolver = getattr(request.app.state, "cookie_actor", None)
        actor: Actor | None = resolver(request, session) if resolver else None
        if actor is not None:
            return actor
        raise Unauthenticated("send 'Authorization: Bearer <token>' (coalition tokens create)")
    return access_service.authenticate(session, token=token)


ActorDep = Annotated[Actor, Depends(get_actor)]
