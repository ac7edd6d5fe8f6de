"""Mounts the dashboard on the app: static files, page routes, the session cookie."""

from __future__ import annotations

import gc

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from coalition.web import problems
from coalition.web import session as web_session
from coalition.web.pages import (
    audit,
    auth,
    logistics,
    matching,
    meetings,
    overview,
    pledges,
    requirements,
    scenarios,
)
from coalition.web.pages._base import STATIC_DIR, render
from coalition.web.pages._cache import ReportCache

PAGES = (auth, overview, requirements, pledges, matching, logistics, meetings, scenarios, audit)


def freeze_startup_heap() -> None:
    """Moves everything alive after start-up (modules of numpy, OR-Tools, Altair...: some
    170,000 objects) out of the garbage collector's reach. Otherwise every full collection
    walks them all and a page that allocates many ORM objects pays 100-200 ms for it now and
    then. Call once, after the app is built, in the serving process only."""
    gc.collect()
    gc.freeze()


def install_pages(app: FastAPI) -> None:
    """Static files, the page routes, and the session cookie as a second way into the API."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.cookie_actor = web_session.cookie_actor
    app.state.report_cache = ReportCache()
    for module in PAGES:
        app.include_router(module.router)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A mistyped dashboard address gets a page a person can read; API clients keep
    problem+json."""
    assert isinstance(exc, StarletteHTTPException)
    wants_html = "text/html" in request.headers.get("accept", "")
    if request.url.path.startswith("/api/") or not wants_html:
        return await problems.http_error(request, exc)
    return render(request, "error.html", {"status_code": exc.status_code},
                  status_code=exc.status_code)
