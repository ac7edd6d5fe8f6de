"""Reports over the pledges the caller may see: JSON, CSV, and charts (SVG, PNG, chart data)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from coalition.analytics import charts, reports
from coalition.analytics.schemas import (
    AreaReport,
    CategoryReport,
    ChartData,
    ConcentrationReport,
    DeliveryReport,
    DonorReport,
    Period,
    Report,
    ReportFilter,
    ReportKind,
    TimelineReport,
)
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(prefix="/reports", tags=["reports"])


class OutputFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    SVG = "svg"
    PNG = "png"


def report_filter(announced_from: dt.date | None = None, announced_to: dt.date | None = None,
                  donor: str | None = None, category: str | None = None,
                  include_withdrawn: bool = False) -> ReportFilter:
    return ReportFilter(announced_from=announced_from, announced_to=announced_to, donor=donor,
                        category=category, include_withdrawn=include_withdrawn)


FilterDep = Annotated[ReportFilter, Depends(report_filter)]
FILES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {}, "image/svg+xml": {}, "image/png": {}}}}


def _render(report: Report, fmt: OutputFormat) -> Any:
    if fmt is OutputFormat.JSON:
        return report
    if fmt is OutputFormat.CSV:
        return Response(reports.to_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{report.kind.value}.csv"'})
    chart = charts.ChartFormat(fmt.value)
    return Response(charts.render(report, chart), media_type=charts.MEDIA_TYPES[chart])


@router.get("/donors", response_model=DonorReport, responses=FILES)
def donors(session: SessionDep, actor: ActorDep, filters: FilterDep,
           format: OutputFormat = OutputFormat.JSON) -> Any:
    """Value and count per donor and each donor's share of its GDP."""
    return _render(reports.donors(session, actor=actor, filters=filters), format)


@router.get("/categories", response_model=CategoryReport, responses=FILES)
def categories(session: SessionDep, actor: ActorDep, filters: FilterDep,
               format: OutputFormat = OutputFormat.JSON) -> Any:
    """Totals per category of the catalog, including sub-categories."""
    return _render(reports.categories(session, actor=actor, filters=filters), format)


@router.get("/areas", response_model=AreaReport, responses=FILES)
def areas(session: SessionDep, actor: ActorDep, filters: FilterDep,
          format: OutputFormat = OutputFormat.JSON) -> Any:
    """Totals per capability area."""
    return _render(reports.areas(session, actor=actor, filters=filters), format)


@router.get("/timeline", response_model=TimelineReport, responses=FILES)
def timeline(session: SessionDep, actor: ActorDep, filters: FilterDep,
             by: Period = Period.MONTH, format: OutputFormat = OutputFormat.JSON) -> Any:
    """Pledged, confirmed and delivered value by month or by meeting announced."""
    return _render(reports.timeline(session, actor=actor, filters=filters, by=by), format)


@router.get("/concentration", response_model=ConcentrationReport, responses=FILES)
def concentration(session: SessionDep, actor: ActorDep, filters: FilterDep,
                  format: OutputFormat = OutputFormat.JSON) -> Any:
    """Per capability area: the top donor's share and the Herfindahl-Hirschman index."""
    return _render(reports.concentration(session, actor=actor, filters=filters), format)


@router.get("/delivery", response_model=DeliveryReport, responses=FILES)
def delivery(session: SessionDep, actor: ActorDep, filters: FilterDep,
             format: OutputFormat = OutputFormat.JSON) -> Any:
    """Pledged vs confirmed vs delivered, and the median days to delivery."""
    return _render(reports.delivery(session, actor=actor, filters=filters), format)


@router.get("/{kind}/chart.json", response_model=ChartData)
def chart_data(kind: ReportKind, session: SessionDep, actor: ActorDep, filters: FilterDep,
               by: Period = Period.MONTH) -> ChartData:
    """The numbers a report's chart plots, in display units (for Chart.js)."""
    return charts.chart_data(reports.build(session, actor=actor, kind=kind, filters=filters,
                                           by=by))


@router.get("/{kind}/chart.{ext}", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}})
def chart_file(kind: ReportKind, ext: charts.ChartFormat, session: SessionDep, actor: ActorDep,
               filters: FilterDep, by: Period = Period.MONTH) -> Response:
    """A report's chart as an SVG or PNG image."""
    report = reports.build(session, actor=actor, kind=kind, filters=filters, by=by)
    return Response(charts.render(report, ext), media_type=charts.MEDIA_TYPES[ext])
