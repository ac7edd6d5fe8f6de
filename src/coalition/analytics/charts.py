"""Charts of the reports: one `ChartData` per report, drawn by Altair here and by Chart.js in
the dashboard, so a file and a page always show the same numbers in the same units.

Rendering goes through vl-convert (bundled Vega and fonts), so it works offline.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import altair as alt
import vl_convert

from coalition.analytics.schemas import (
    AreaReport,
    CategoryReport,
    ChartData,
    ChartPanel,
    ChartSeries,
    ConcentrationReport,
    DeliveryReport,
    DonorReport,
    Period,
    Report,
    TimelineReport,
)
from coalition.catalog.models import CapabilityArea
from coalition.money import from_cents

WIDTH = 460
BAR_STEP = 18
PALETTE = ["#1f4e79", "#7fa7d0", "#e07b24", "#4f9d69", "#b04a5a", "#8d6cab"]
SERIES_COLOURS = {"Pledged": "#1f4e79", "Confirmed": "#7fa7d0", "Delivered": "#e07b24"}
LEVEL_COLOURS = {"unconcentrated": "#4f9d69", "moderately concentrated": "#e0a224",
                 "highly concentrated": "#b04a5a"}


class ChartFormat(enum.StrEnum):
    SVG = "svg"
    PNG = "png"


MEDIA_TYPES = {ChartFormat.SVG: "image/svg+xml", ChartFormat.PNG: "image/png"}


def area_name(area: CapabilityArea | None) -> str:
    if area is None:
        return "All areas"
    return {"it": "IT", "air_defence": "Air defence", "air_force": "Air force"}.get(
        area.value, area.value.replace("_", " ").capitalize())


def money_unit(max_cents: int) -> tuple[str, int]:
    """The unit a money axis reads best in, and cents per unit."""
    if max_cents >= 100 * 10**9:
        return "bn EUR", 100 * 10**9
    if max_cents >= 100 * 10**6:
        return "m EUR", 100 * 10**6
    return "EUR", 100


def _scaled(cents: int, per_unit: int) -> Decimal:
    return (Decimal(cents) / per_unit).quantize(Decimal("0.001"))


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def chart_data(report: Report) -> ChartData:
    """What to plot for a report, in display units."""
    if isinstance(report, DonorReport):
        return _donors(report)
    if isinstance(report, CategoryReport):
        return _categories(report)
    if isinstance(report, AreaReport):
        return _areas(report)
    if isinstance(report, TimelineReport):
        return _timeline(report)
    if isinstance(report, ConcentrationReport):
        return _concentration(report)
    return _delivery(report)


def _donors(report: DonorReport) -> ChartData:
    unit, per = money_unit(max((r.value_eur_cents for r in report.rows), default=0))
    labels = [f"{r.name} ({r.donor})" for r in report.rows]
    value = ChartPanel(
        title="Pledged value", mark="bar", horizontal=True, category_axis="Donor",
        value_axis=f"Pledged value ({unit})", unit=unit, labels=labels,
        series=[ChartSeries(label="Pledged value",
                            values=[_scaled(r.value_eur_cents, per) for r in report.rows])],
        notes=[f"{_scaled(r.value_eur_cents, per):,.2f} ({_pct(r.share_of_total_pct)})"
               for r in report.rows])
    gdp = ChartPanel(
        title="Pledged value as a share of GDP", mark="bar", horizontal=True,
        category_axis="Donor", value_axis="Share of GDP (%)", unit="%", labels=labels,
        series=[ChartSeries(label="Share of GDP", values=[r.share_of_gdp_pct
                                                           for r in report.rows])],
        notes=[f"{r.share_of_gdp_pct:.3f} %" if r.share_of_gdp_pct is not None else "no GDP"
               for r in report.rows])
    total = from_cents(report.total_value_eur_cents)
    return ChartData(kind=report.kind, title="Military aid pledged, by donor",
                     subtitle=f"{report.total_pledges:,} pledges, {total:,.0f} EUR in total. "
                     "Joint-fund contributions count for their donor. GDP: World Bank, "
                     "converted at the ECB annual average USD/EUR rate of its year.",
                     panels=[value, gdp])


def _categories(report: CategoryReport) -> ChartData:
    # Categories with item types of their own: their bars add up to the total, no double count.
    rows = [r for r in report.rows if r.own_value_eur_cents > 0]
    rows.sort(key=lambda r: -r.own_value_eur_cents)
    unit, per = money_unit(max((r.own_value_eur_cents for r in rows), default=0))
    roots = {r.category: r.name for r in report.rows if r.depth == 0}
    panel = ChartPanel(
        title="Pledged value by category", mark="bar", horizontal=True, category_axis="Category",
        value_axis=f"Pledged value ({unit})", unit=unit, labels=[r.name for r in rows],
        series=[ChartSeries(label="Pledged value",
                            values=[_scaled(r.own_value_eur_cents, per) for r in rows])],
        notes=[_pct(r.share_of_total_pct) for r in rows],
        groups=[roots.get(r.root, r.root) for r in rows])
    return ChartData(kind=report.kind, title="Pledged value by category",
                     subtitle=f"{from_cents(report.total_value_eur_cents):,.0f} EUR in total. "
                     "Joint-fund purchases count, the contributions that paid for them do not.",
                     panels=[panel])


def _areas(report: AreaReport) -> ChartData:
    unit, per = money_unit(max((r.value_eur_cents for r in report.rows), default=0))
    panel = ChartPanel(
        title="Pledged value by capability area", mark="bar", horizontal=True,
        category_axis="Capability area", value_axis=f"Pledged value ({unit})", unit=unit,
        labels=[area_name(r.area) for r in report.rows],
        series=[ChartSeries(label="Pledged value",
                            values=[_scaled(r.value_eur_cents, per) for r in report.rows])],
        notes=[_pct(r.share_of_total_pct) for r in report.rows])
    return ChartData(kind=report.kind, title="Pledged value by capability area",
                     subtitle=f"{from_cents(report.total_value_eur_cents):,.0f} EUR in total. "
                     "Joint-fund purchases count, the contributions that paid for them do not.",
                     panels=[panel])


def _timeline(report: TimelineReport) -> ChartData:
    rows = [r for r in report.rows if report.by is Period.MONTH or r.meeting_id is not None]
    days = [str(r.starts_on) for r in rows]
    # A meeting reads best as its date; two meetings on one day keep apart by their id.
    labels = [r.period if report.by is Period.MONTH
              else day if days.count(day) == 1 else f"{day} #{r.meeting_id}"
              for r, day in zip(rows, days, strict=True)]
    left_out = [r for r in report.rows if r not in rows]
    unit, per = money_unit(max((r.cumulative_pledged_eur_cents for r in rows), default=0))
    by_month = report.by is Period.MONTH
    panel = ChartPanel(
        title="Cumulative value", mark="line", horizontal=False, temporal=by_month,
        category_axis="Month announced" if by_month else "Meeting announced at",
        value_axis=f"Cumulative value ({unit})", unit=unit,
        labels=labels, notes=[r.label for r in rows],
        series=[ChartSeries(label=name, values=[_scaled(getattr(r, field), per) for r in rows])
                for name, field in (("Pledged", "cumulative_pledged_eur_cents"),
                                    ("Confirmed", "cumulative_confirmed_eur_cents"),
                                    ("Delivered", "cumulative_delivered_eur_cents"))])
    subtitle = ("Running totals of pledges by date of announcement; 'delivered' is what those "
                "pledges have delivered to date.")
    if left_out:
        outside = sum(r.pledged_eur_cents for r in left_out)
        subtitle += f" Not at a meeting (not shown): {from_cents(outside):,.0f} EUR."
    return ChartData(kind=report.kind, title="Pledged, confirmed and delivered over time",
                     subtitle=subtitle, panels=[panel])


def _concentration(report: ConcentrationReport) -> ChartData:
    panel = ChartPanel(
        title="Concentration of supply (HHI)", mark="bar", horizontal=True,
        category_axis="Capability area", value_axis="Herfindahl-Hirschman index (0-10,000)",
        unit="HHI", labels=[area_name(r.area) for r in report.rows],
        series=[ChartSeries(label="HHI", values=[r.hhi for r in report.rows])],
        notes=[f"top: {r.top_donor} {r.top_donor_share_pct:.0f} % of {r.donors} donors"
               for r in report.rows],
        groups=[r.level.value for r in report.rows], rules=[Decimal(1500), Decimal(2500)])
    return ChartData(kind=report.kind, title="Dependence on one donor, by capability area",
                     subtitle="HHI of donors' shares of pledged value; above 2,500 is highly "
                     "concentrated (2010 US merger guidelines). Joint-fund purchases count for "
                     "the nation that paid.", panels=[panel])


def _delivery(report: DeliveryReport) -> ChartData:
    rows = report.rows
    unit, per = money_unit(max((r.pledged_eur_cents for r in rows), default=0))
    labels = [area_name(r.area) for r in rows]
    value = ChartPanel(
        title="Pledged, confirmed and delivered value", mark="bar", horizontal=True,
        category_axis="Capability area", value_axis=f"Value ({unit})", unit=unit, labels=labels,
        series=[ChartSeries(label=name, values=[_scaled(getattr(r, field), per) for r in rows])
                for name, field in (("Pledged", "pledged_eur_cents"),
                                    ("Confirmed", "confirmed_eur_cents"),
                                    ("Delivered", "delivered_eur_cents"))])
    days = ChartPanel(
        title="Median days from announcement to delivery", mark="bar", horizontal=True,
        category_axis="Capability area", value_axis="Median days", unit="days", labels=labels,
        series=[ChartSeries(label="Median days",
                            values=[r.median_days_to_delivery for r in rows])],
        notes=[f"{r.delivered_pledges} delivered" for r in rows])
    t = report.total
    median = "n/a" if t.median_days_to_delivery is None else f"{t.median_days_to_delivery} days"
    return ChartData(kind=report.kind, title="From pledge to delivery, by capability area",
                     subtitle=f"Delivered {_pct(t.delivered_pct)} of "
                     f"{from_cents(t.pledged_eur_cents):,.0f} EUR pledged; median time to "
                     f"delivery {median} ({t.delivered_pledges} pledges delivered in full).",
                     panels=[value, days])


def _values(panel: ChartPanel) -> list[dict[str, Any]]:
    rows = []
    for i, label in enumerate(panel.labels):
        for series in panel.series:
            value = series.values[i]
            rows.append({
                "label": label, "series": series.label, "order": i,
                "value": None if value is None else float(value),
                "note": panel.notes[i] if panel.notes else
                ("" if value is None else f"{value:,.2f}"),
                "group": panel.groups[i] if panel.groups else series.label,
            })
    return rows


def _colour_scale(panel: ChartPanel) -> alt.Scale:
    if panel.groups and set(panel.groups) <= set(LEVEL_COLOURS):
        return alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values()))
    names = [s.label for s in panel.series]
    if not panel.groups and set(names) <= set(SERIES_COLOURS):
        return alt.Scale(domain=names, range=[SERIES_COLOURS[n] for n in names])
    return alt.Scale(domain=list(dict.fromkeys(panel.groups)), range=PALETTE)


def _panel(panel: ChartPanel, index: int) -> Any:
    data = {"values": _values(panel)}
    value = alt.X("value:Q", title=panel.value_axis) if panel.horizontal else \
        alt.Y("value:Q", title=panel.value_axis)
    tooltip = [alt.Tooltip("label:N", title=panel.category_axis), alt.Tooltip("note:N", title=" "),
               alt.Tooltip("series:N"), alt.Tooltip("value:Q", format=",.3f", title=panel.unit)]
    if panel.mark == "line":
        x = (alt.X("label:T", timeUnit="yearmonth", title=panel.category_axis) if panel.temporal
             else alt.X("label:N", sort=panel.labels, title=panel.category_axis,
                        axis=alt.Axis(labelAngle=-45, labelLimit=220)))
        chart = alt.Chart(data).mark_line(point=not panel.temporal, strokeWidth=2).encode(
            x=x, y=value, color=alt.Color("series:N", title=None, scale=_colour_scale(panel)),
            tooltip=tooltip).properties(width=WIDTH + 160, height=320, title=panel.title)
        return alt.layer(chart)
    several = len(panel.series) > 1
    category = alt.Y("label:N", sort=panel.labels, title=panel.category_axis,
                     axis=alt.Axis(labelLimit=260))
    colour = (alt.Color("group:N", title=None, scale=_colour_scale(panel),
                        legend=alt.Legend(orient="bottom"))
              if several or panel.groups else alt.value(PALETTE[2 * index % len(PALETTE)]))
    encoding: dict[str, Any] = {"y": category, "x": value, "color": colour, "tooltip": tooltip}
    if several:
        encoding["yOffset"] = alt.YOffset("series:N", sort=[s.label for s in panel.series])
    height = BAR_STEP * len(panel.labels) * (len(panel.series) if several else 1)
    base = alt.Chart(data).properties(width=WIDTH, height=max(height, 60), title=panel.title)
    layers = [base.mark_bar().encode(**encoding)]
    if not several:
        layers.append(base.mark_text(align="left", dx=4, fontSize=10, color="#333").encode(
            y=category, x=alt.X("value:Q"), text="note:N"))
    if panel.rules:
        rules = alt.Chart({"values": [{"rule": float(r)} for r in panel.rules]})
        layers.append(rules.mark_rule(strokeDash=[4, 3], color="#555").encode(x="rule:Q"))
    return alt.layer(*layers)


def vega_lite(data: ChartData) -> dict[str, Any]:
    """The chart as a Vega-Lite spec (what vl-convert renders, or vega-embed shows)."""
    panels = [_panel(p, i) for i, p in enumerate(data.panels)]
    title = alt.TitleParams(data.title, subtitle=data.subtitle, anchor="start", fontSize=16,
                            subtitleFontSize=11)
    chart: Any = panels[0] if len(panels) == 1 else alt.hconcat(*panels, spacing=40)
    spec: dict[str, Any] = chart.properties(title=title).configure_view(stroke=None) \
        .configure_axis(labelFontSize=11, titleFontSize=12).to_dict()
    return spec


def render(report: Report, fmt: ChartFormat) -> bytes:
    """The report's chart as an SVG or PNG file's bytes."""
    spec = vega_lite(chart_data(report))
    if fmt is ChartFormat.SVG:
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")  # type: ignore[no-any-return]
    return vl_convert.vegalite_to_png(spec, scale=2)  # type: ignore[no-any-return]
