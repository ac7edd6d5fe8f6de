"""The authorization matrix: every /api/v1 route x principal (role x nation) x label x owner,
against `authz_expectations.ROUTES`.

One world per database and one token per principal serve every request; each request runs in
a savepoint rolled back afterwards, so writes that succeed leave the next request the same
world. Refusals must be problem+json.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.catalog.models import CapabilityArea
from coalition.db import make_engine
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges import flows
from coalition.registry import service as registry_service
from coalition.registry.schemas import CoalitionCreate, ParticipantUpdate
from coalition.web.app import create_app
from tests import factories
from tests.factories import DAY, build_world
from tests.service.access.principals import PRINCIPALS, create_principals, extend_world
from tests.service.logistics import kit
from tests.service.matching.helpers import proposals_for
from tests.web.authz_expectations import LABELS, OTHER_DONOR, RECIPIENT, ROUTES, Ctx
from tests.web.conftest import auth

API = "/api/v1/"
OWNERS = ("POL", "JPN", "UKR", "CAN", "CHE", OTHER_DONOR)


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every JSON API route, from the route table and from OpenAPI."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in contexts() if contexts else [route]:
            path = getattr(item, "path", "")
            found |= {(m, path) for m in getattr(item, "methods", None) or ()
                      if path.startswith(API) and m != "HEAD"}
    found |= {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
              if path.startswith(API) for method in operations}
    return found


def test_every_api_route_has_an_expectation() -> None:
    routes = api_routes(create_app(make_engine("sqlite://")))
    assert len(routes) > 40
    assert sorted(routes - set(ROUTES)) == [], "add these routes to authz_expectations.ROUTES"
    assert sorted(set(ROUTES) - routes) == [], "these expectations name no route"


def _build(session: Session) -> Ctx:
    build_world(session)
    extend_world(session)
    create_principals(session)
    # Ukraine may pledge here too, so "own pledge" exists for every nation's principals.
    registry_service.update_participant(session, actor=SYSTEM, code="UKR",
                                        data=ParticipantUpdate(is_donor=True))
    registry_service.create_coalition(session, actor=SYSTEM, data=CoalitionCreate(
        code="ARTY", name="Artillery", capability_area=CapabilityArea.ARTILLERY, format="UDCG"))
    public_need = factories.requirement(session, quantity=100_000,
                                        releasability=Releasability.PUBLIC)
    ctx: Ctx = {"pledge": {}, "allocation": {}, "meeting": {}, "requirement": {},
                "public_requirement": public_need.id}
    for label in LABELS:
        ctx["requirement"][(RECIPIENT, label)] = factories.requirement(
            session, quantity=1000, releasability=label).id
        for owner in OWNERS:
            pledge = factories.pledge(session, donor=owner, confirm=True, releasability=label)
            ctx["pledge"][(owner, label)] = pledge.id
            ctx["allocation"][(owner, label)] = flows.allocate(
                session, actor=SYSTEM, pledge_id=pledge.id, requirement_id=public_need.id,
                quantity=10).id
            ctx["meeting"][(owner, label)] = meeting_service.create_meeting(
                session, actor=SYSTEM, data=MeetingCreate(
                    format="UDCG", title=f"{owner} {label.value}", held_on=DAY, chair=owner,
                    releasability=label)).id
    ctx["run"], ctx["proposal"] = proposals_for(session, ctx["pledge"], public_need.id)
    ctx["shipment"] = kit.matrix_shipments(session, ctx["allocation"])
    ctx["unannounced_pledge"] = factories.pledge(session, donor=OTHER_DONOR,
                                                 releasability=Releasability.PUBLIC).id
    ctx["spare_token_id"] = access_service.issue_token_for(
        session, actor=SYSTEM, user_name="p-observer").record.id
    return ctx


@dataclass
class Matrix:
    app: FastAPI
    connection: Connection
    ctx: Ctx
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def matrix(engine: Engine) -> Iterator[Matrix]:
    with engine.connect() as conn:
        outer = conn.begin()
        factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        try:
            with factory() as session:
                ctx = _build(session)
                tokens = {p.name: access_service.issue_token_for(
                    session, actor=SYSTEM, user_name=p.user_name).token
                    for p in PRINCIPALS if p.role is not None}
                session.commit()
            yield Matrix(create_app(engine, factory), conn, ctx, tokens)
        finally:
            outer.rollback()


async def _inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    return func(*args)


async def _answers(m: Matrix, key: tuple[str, str]) -> list[str]:
    method, template = key
    route = ROUTES[key]
    mismatches = []
    transport = httpx.ASGITransport(app=m.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
        for principal in PRINCIPALS:
            headers = auth(m.tokens[principal.name]) if principal.role else {}
            for case in route.cases(principal):
                req = route.request(m.ctx, case)
                # Reads change nothing but a token's last use: only writes need undoing.
                savepoint = m.connection.begin_nested() if method != "GET" else None
                try:
                    response = await client.request(method, template.format(**req.path),
                                                    json=req.json, params=req.params,
                                                    files=req.files, data=req.data,
                                                    headers=headers)
                finally:
                    if savepoint is not None:
                        savepoint.rollback()
                want = route.expected(principal, case)
                label = case.label.value if case.label else "-"
                if response.status_code != want:
                    mismatches.append(f"{principal.name} {label} owner={case.owner}: "
                                      f"{response.status_code} (want {want}) "
                                      f"{response.text[:120]}")
                elif want >= 400:
                    assert response.headers["content-type"] == "application/problem+json"
    return mismatches


@pytest.mark.parametrize("key", sorted(ROUTES), ids=[f"{m} {p.removeprefix(API)}"
                                                     for m, p in sorted(ROUTES)])
def test_route_answers_every_principal_as_expected(matrix: Matrix, key: tuple[str, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # One request at a time, so sync routes run in the event loop's thread instead of the
    # thread pool: the same code, at half the cost, which keeps thousands of requests fast.
    monkeypatch.setattr(anyio.to_thread, "run_sync", _inline)
    assert asyncio.run(_answers(matrix, key)) == []
