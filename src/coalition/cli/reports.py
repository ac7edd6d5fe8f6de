"""`coalition report donors|categories|areas|timeline|concentration|delivery`"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.analytics import charts, reports
from coalition.analytics.schemas import (
    AreaReport,
    CategoryReport,
    ConcentrationReport,
    DeliveryReport,
    DonorReport,
    Period,
    Report,
    ReportFilter,
    ReportKind,
    TimelineReport,
)
from coalition.cli._run import (
    JsonOption,
    console,
    err_console,
    print_json,
    print_table,
    service_call,
)

app = typer.Typer(help="Reports over pledges: totals, shares of GDP, timeline, concentration, "
                  "delivery; as a table, JSON, CSV or a chart (PNG/SVG).", no_args_is_help=True)

CsvOption = typer.Option(False, "--csv", help="Print CSV (money in EUR).")
ChartOption = typer.Option(None, "--chart", help="Also write the chart to FILE.png or FILE.svg.",
                           metavar="FILE")
FromOption = typer.Option(None, "--from", formats=["%Y-%m-%d"],
                          help="Pledges announced on or after this day.")
ToOption = typer.Option(None, "--to", formats=["%Y-%m-%d"],
                        help="Pledges announced on or before this day.")
DonorOption = typer.Option(None, "--donor", help="Only this donor, e.g. DEU.")
CategoryOption = typer.Option(None, "--category", help="Only this category and its children.")
WithdrawnOption = typer.Option(False, "--include-withdrawn",
                               help="Count withdrawn and cancelled pledges too.")
AsOption = typer.Option(None, "--as", metavar="USER",
                        help="Compute as this user sees it (default: everything).")


def _m(cents: int) -> str:
    return f"{Decimal(cents) / 10**8:,.2f}"


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value}"


def _actor(session: Session, user: str | None) -> Actor:
    if user is None:
        return SYSTEM
    return actor_for_user(session, access_service.get_user(session, name=user))


def _run(kind: ReportKind, *, as_json: bool, as_csv: bool, chart: Path | None,
         announced_from: dt.datetime | None, announced_to: dt.datetime | None,
         donor: str | None, category: str | None, include_withdrawn: bool, user: str | None,
         by: Period = Period.MONTH) -> None:
    if chart is not None and chart.suffix.lower() not in {".png", ".svg"}:
        err_console.print(f"[bold red]error:[/] --chart: {chart} must end in .png or .svg",
                          soft_wrap=True)
        raise typer.Exit(2)
    filters = ReportFilter(announced_from=announced_from.date() if announced_from else None,
                           announced_to=announced_to.date() if announced_to else None,
                           donor=donor, category=category, include_withdrawn=include_withdrawn)
    report = service_call(lambda s: reports.build(s, actor=_actor(s, user), kind=kind,
                                                  filters=filters, by=by))
    if as_json:
        print_json(report)
    elif as_csv:
        typer.echo(reports.to_csv(report), nl=False)
    else:
        _print(report)
    if chart is not None:
        chart.write_bytes(charts.render(report, charts.ChartFormat(chart.suffix.lower()[1:])))
        (err_console if as_json or as_csv else console).print(f"chart written to {chart}",
                                                                    soft_wrap=True)


def _print(report: Report) -> None:
    title, columns, numeric, rows, caption = TABLES[report.kind](report)
    print_table(title, columns, rows, numeric=numeric, caption=caption)


Table = tuple[str, list[str], list[str], Sequence[Sequence[Any]], str]
LEVELS = {"unconcentrated": "low", "moderately concentrated": "moderate",
          "highly concentrated": "high"}


def _donors(r: Any) -> Table:
    report: DonorReport = r
    rows = [(d.donor, d.name, d.pledges, _m(d.value_eur_cents), _pct(d.share_of_total_pct),
             d.gdp_year or "", _pct(d.share_of_gdp_pct)) for d in report.rows]
    return ("Pledges by donor", ["donor", "name", "pledges", "EUR m", "% of total", "GDP year",
                                 "% of GDP"],
            ["pledges", "EUR m", "% of total", "% of GDP"], rows,
            f"{report.total_pledges:,} pledges, EUR {_m(report.total_value_eur_cents)} m. "
            "GDP converted at the ECB annual average USD/EUR rate of its year.")


def _categories(r: Any) -> Table:
    report: CategoryReport = r
    rows = [("  " * c.depth + c.name, c.category, c.pledges, f"{c.quantity:,}",
             _m(c.value_eur_cents), _pct(c.share_of_total_pct)) for c in report.rows]
    return ("Pledges by category (including sub-categories)",
            ["category", "code", "pledges", "quantity", "EUR m", "% of total"],
            ["pledges", "quantity", "EUR m", "% of total"], rows,
            f"EUR {_m(report.total_value_eur_cents)} m in total")


def _areas(r: Any) -> Table:
    report: AreaReport = r
    rows = [(charts.area_name(a.area), a.pledges, f"{a.quantity:,}", _m(a.value_eur_cents),
             _pct(a.share_of_total_pct)) for a in report.rows]
    return ("Pledges by capability area", ["area", "pledges", "quantity", "EUR m", "% of total"],
            ["pledges", "quantity", "EUR m", "% of total"], rows,
            f"EUR {_m(report.total_value_eur_cents)} m in total")


def _timeline(r: Any) -> Table:
    report: TimelineReport = r
    rows = [(t.label, t.pledges, _m(t.pledged_eur_cents), _m(t.confirmed_eur_cents),
             _m(t.delivered_eur_cents), _m(t.cumulative_pledged_eur_cents),
             _m(t.cumulative_delivered_eur_cents)) for t in report.rows]
    money = ["pledged", "confirmed", "delivered", "running pledged", "running delivered"]
    return (f"Pledges by {report.by.value} announced (EUR m)",
            [report.by.value, "pledges", *money], ["pledges", *money], rows,
            "delivered: what the pledges announced then have delivered to date")


def _concentration(r: Any) -> Table:
    report: ConcentrationReport = r
    rows = [(charts.area_name(c.area), _m(c.value_eur_cents), c.donors, c.top_donor,
             _pct(c.top_donor_share_pct), f"{c.hhi:,.0f}", LEVELS[c.level.value])
            for c in report.rows]
    return ("Concentration of supply per capability area",
            ["area", "EUR m", "donors", "top donor", "top %", "HHI", "level"],
            ["EUR m", "donors", "top %", "HHI"], rows,
            "HHI 0-10,000: sum of squared % shares; < 1,500 low, > 2,500 high")


def _delivery(r: Any) -> Table:
    report: DeliveryReport = r
    rows = [(charts.area_name(d.area), d.pledges, _m(d.pledged_eur_cents),
             _m(d.confirmed_eur_cents), _m(d.delivered_eur_cents), _pct(d.delivered_pct),
             _pct(reports.share_pct(d.delivered_quantity, d.pledged_quantity)),
             d.delivered_pledges, _pct(d.median_days_to_delivery))
            for d in [*report.rows, report.total]]
    numbers = ["pledges", "pledged", "confirmed", "delivered", "value %", "qty %", "in full",
               "median days"]
    return ("Pledged, confirmed and delivered (EUR m)", ["area", *numbers], numbers, rows,
            "value %, qty %: delivered share; in full: pledges delivered in full; median days: "
            "from announcement to that delivery")


TABLES: dict[ReportKind, Callable[[Any], Table]] = {
    ReportKind.DONORS: _donors, ReportKind.CATEGORIES: _categories, ReportKind.AREAS: _areas,
    ReportKind.TIMELINE: _timeline, ReportKind.CONCENTRATION: _concentration,
    ReportKind.DELIVERY: _delivery,
}


@app.command("donors")
def donors(as_json: bool = JsonOption, as_csv: bool = CsvOption, chart: Path | None = ChartOption,
           announced_from: dt.datetime | None = FromOption,
           announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
           category: str | None = CategoryOption, include_withdrawn: bool = WithdrawnOption,
           user: str | None = AsOption) -> None:
    """Value and count per donor, and each donor's total as a share of its GDP."""
    _run(ReportKind.DONORS, **locals())


@app.command("categories")
def categories(as_json: bool = JsonOption, as_csv: bool = CsvOption,
               chart: Path | None = ChartOption, announced_from: dt.datetime | None = FromOption,
               announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
               category: str | None = CategoryOption, include_withdrawn: bool = WithdrawnOption,
               user: str | None = AsOption) -> None:
    """Totals per category of the catalog, each including its sub-categories."""
    _run(ReportKind.CATEGORIES, **locals())


@app.command("areas")
def areas(as_json: bool = JsonOption, as_csv: bool = CsvOption, chart: Path | None = ChartOption,
          announced_from: dt.datetime | None = FromOption,
          announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
          category: str | None = CategoryOption, include_withdrawn: bool = WithdrawnOption,
          user: str | None = AsOption) -> None:
    """Totals per capability area."""
    _run(ReportKind.AREAS, **locals())


@app.command("timeline")
def timeline(as_json: bool = JsonOption, as_csv: bool = CsvOption,
             chart: Path | None = ChartOption, announced_from: dt.datetime | None = FromOption,
             announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
             category: str | None = CategoryOption, include_withdrawn: bool = WithdrawnOption,
             user: str | None = AsOption,
             by: Period = typer.Option(Period.MONTH, "--by", help="month or meeting.")) -> None:
    """Pledged, confirmed and delivered value by month or by meeting announced."""
    _run(ReportKind.TIMELINE, **locals())


@app.command("concentration")
def concentration(as_json: bool = JsonOption, as_csv: bool = CsvOption,
                  chart: Path | None = ChartOption,
                  announced_from: dt.datetime | None = FromOption,
                  announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
                  category: str | None = CategoryOption,
                  include_withdrawn: bool = WithdrawnOption, user: str | None = AsOption) -> None:
    """Dependence on one donor: top donor's share and HHI per capability area."""
    _run(ReportKind.CONCENTRATION, **locals())


@app.command("delivery")
def delivery(as_json: bool = JsonOption, as_csv: bool = CsvOption,
             chart: Path | None = ChartOption, announced_from: dt.datetime | None = FromOption,
             announced_to: dt.datetime | None = ToOption, donor: str | None = DonorOption,
             category: str | None = CategoryOption, include_withdrawn: bool = WithdrawnOption,
             user: str | None = AsOption) -> None:
    """Pledged vs confirmed vs delivered, and the median days from announcement to delivery."""
    _run(ReportKind.DELIVERY, **locals())
