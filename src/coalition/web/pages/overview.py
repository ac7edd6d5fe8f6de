"""Overview: headline figures and charts over everything the user may see."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.analytics import charts, reports
from coalition.errors import NotFound
from coalition.requirements import service as requirement_service
from coalition.requirements.models import RequirementStatus
from coalition.requirements.schemas import RequirementFilter
from coalition.web.deps import SessionDep
from coalition.web.pages._base import PageActor, page_router, render
from coalition.web.pages._cache import ReportCache
from coalition.web.pages._charts import panel_spec

router = page_router()

TOP_DONORS = 10
LABEL_CHARS = 22
CHARTS = ("donors", "timeline", "concentration")


def _cache(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.report_cache
    return cache


def _open_critical(db: Session, actor: Actor) -> int:
    return sum(requirement_service.list_requirements(
        db, actor=actor, filters=RequirementFilter(priority=1, status=status), limit=1).total
        for status in (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET))


@router.get("/")
def overview(request: Request, db: SessionDep, actor: PageActor) -> Response:
    delivery = _cache(request).get(db, actor, "delivery",
                                   lambda: reports.delivery(db, actor=actor))
    return render(request, "overview/page.html", {
        "total": delivery.total, "basis": delivery.basis,
        "open_critical": _open_critical(db, actor), "charts": CHARTS,
    })


def _donors(db: Session, actor: Actor) -> dict[str, Any]:
    report = reports.donors(db, actor=actor)
    top = report.model_copy(update={"rows": report.rows[:TOP_DONORS]})
    # Long names ("Prioritised Ukraine Requirements List fund") would be cut off on the axis.
    labels = [r.name if len(r.name) <= LABEL_CHARS else r.donor for r in top.rows]
    value, gdp = (p.model_copy(update={"labels": labels}) for p in charts.chart_data(top).panels)
    return {"title": f"Top {TOP_DONORS} donors", "rows": top.rows, "basis": report.basis,
            "specs": [("Pledged value", panel_spec(value, empty="No pledges released to you.")),
                      ("Share of GDP", panel_spec(gdp, empty="No donor with a known GDP."))]}


def _timeline(db: Session, actor: Actor) -> dict[str, Any]:
    report = reports.timeline(db, actor=actor)
    data = charts.chart_data(report)
    return {"title": data.title, "basis": data.subtitle, "rows": [],
            "specs": [(data.panels[0].title,
                       panel_spec(data.panels[0], empty="No pledges released to you."))]}


def _concentration(db: Session, actor: Actor) -> dict[str, Any]:
    report = reports.concentration(db, actor=actor)
    data = charts.chart_data(report)
    return {"title": data.title, "basis": data.subtitle, "rows": report.rows,
            "area_name": charts.area_name,
            "specs": [(data.panels[0].title,
                       panel_spec(data.panels[0], empty="No supply released to you."))]}


BUILDERS = {"donors": _donors, "timeline": _timeline, "concentration": _concentration}


@router.get("/overview/charts/{name}")
def chart(name: str, request: Request, db: SessionDep, actor: PageActor) -> Response:
    build = BUILDERS.get(name)
    if build is None:
        raise NotFound(f"no chart named {name!r}")
    context = _cache(request).get(db, actor, ("overview", name), lambda: build(db, actor))
    return render(request, f"overview/_{name}.html", {**context, "name": name})
