"""Mounts the dashboard on the app: static files, page routes, the session cookie."""

from __future__ import annotations

import gc

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

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
from coalition.web.pages._base import STATIC_DIR
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
