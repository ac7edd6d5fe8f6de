"""The FastAPI application: JSON API v1, OpenAPI, and (when present) the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from coalition import __version__
from coalition.access.audit import request_id_var
from coalition.access.throttle import LoginThrottle
from coalition.db import get_engine
from coalition.web import problems
from coalition.web.api.v1 import (
    access,
    catalog,
    health,
    io,
    logistics,
    matching,
    meetings,
    pledges,
    registry,
    reports,
    requirements,
)
from coalition.web.pages.site import install_pages

API_V1 = "/api/v1"


def create_app(engine: Engine | None = None,
               session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    """`session_factory` lets tests run each request inside their own rolled-back transaction."""
    app = FastAPI(
        title="Coalition API",
        version=__version__,
        description="System of record for multinational security-assistance coordination. "
        "Authenticate with `Authorization: Bearer <token>`; errors are RFC 9457 problem+json.",
    )
    app.state.engine = engine or get_engine()
    app.state.session_factory = session_factory or sessionmaker(bind=app.state.engine,
                                                                expire_on_commit=False)
    app.state.login_throttle = LoginThrottle()
    problems.install(app)

    @app.middleware("http")
    async def request_id(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id_var.set(rid[:64])
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers["X-Request-ID"] = rid[:64]
        return response

    # io first: its /pledges/export must match before /pledges/{pledge_id} and the like.
    for module in (io, health, registry, catalog, requirements, pledges, meetings, access,
                   reports, matching, logistics):
        app.include_router(module.router, prefix=API_V1)
    install_pages(app)
    return app
