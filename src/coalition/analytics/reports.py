"""The reports people quote: totals, shares of GDP, timelines, delivery and concentration.

Each report runs a handful of GROUP BY queries (`queries`) over the pledges the actor may see and
finishes the arithmetic on the aggregated rows, never on individual pledges.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.analytics import queries
from coalition.analytics.schemas import (
    AreaReport,
    AreaRow,
    CategoryReport,
    CategoryRow,
    ConcentrationLevel,
    ConcentrationReport,
    ConcentrationRow,
    DeliveryReport,
    DeliveryRow,
    DonorReport,
    DonorRow,
    Period,
    Report,
    ReportFilter,
    ReportKind,
    TimelineReport,
    TimelineRow,
    View,
)
from coalition.catalog.models import CapabilityArea
from coalition.money import from_cents

# ECB euro reference rate, annual average, USD per EUR. GDP (World Bank, current USD) is converted
# at the average of its own year; a year not listed takes the nearest listed year's rate.
USD_PER_EUR: dict[int, Decimal] = {
    2020: Decimal("1.1422"), 2021: Decimal("1.1827"), 2022: Decimal("1.0530"),
    2023: Decimal("1.0813"), 2024: Decimal("1.0824"),
}
DONOR_BASIS = ("Visible standing pledges by donor; a contribution to a joint fund counts for its "
               "donor, the fund's purchases from it do not.")
ITEM_BASIS = ("Visible standing pledges by what is supplied; a joint fund's purchases count, the "
              "contributions that paid for them do not.")


def share_pct(part: int, whole: int, places: int = 2) -> Decimal:
    """part / whole in percent, rounded half-up; 0 when there is no whole."""
    if whole <= 0:
        return Decimal(0)
    return _round(Decimal(part * 100) / Decimal(whole), places)


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def hhi(values: Iterable[int]) -> Decimal:
    """Herfindahl-Hirschman index of market shares in percent: sum of squared shares, 0-10,000.

    Exact in integers (10,000 x Σv² / (Σv)²), rounded half-up to hundredths; 0 for no supply.
    """
    vals = [v for v in values if v > 0]
    total = sum(vals)
    if total == 0:
        return Decimal(0)
    hundredths, rest = divmod(1_000_000 * sum(v * v for v in vals), total * total)
    if 2 * rest >= total * total:
        hundredths += 1
    return Decimal(hundredths).scaleb(-2)


def concentration_level(index: Decimal) -> ConcentrationLevel:
    if index < 1500:
        return ConcentrationLevel.LOW
    if index <= 2500:
        return ConcentrationLevel.MODERATE
    return ConcentrationLevel.HIGH


def usd_per_eur(year: int) -> Decimal:
    nearest = min(USD_PER_EUR, key=lambda y: (abs(y - year), -y))
    return USD_PER_EUR[nearest]


def gdp_eur_cents(gdp_usd: int, year: int) -> int:
    return int(_round(Decimal(gdp_usd * 100) / usd_per_eur(year), 0))


def donors(session: Session, *, actor: Actor, filters: ReportFilter | None = None
           ) -> DonorReport:
    """Value and count per donor, and each donor's total as a share of its GDP."""
    f = filters or ReportFilter()
    totals = queries.donor_totals(session, queries.scope(session, actor=actor, filters=f,
                                                         view=View.DONOR))
    grand = sum(t.value_eur_cents for t in totals)
    rows = []
    for t in sorted(totals, key=lambda t: (-t.value_eur_cents, t.code)):
        rate = gdp = share = None
        if t.gdp_usd and t.gdp_year:
            rate = usd_per_eur(t.gdp_year)
            gdp = gdp_eur_cents(t.gdp_usd, t.gdp_year)
            share = share_pct(t.value_eur_cents, gdp, places=4)
        rows.append(DonorRow(donor=t.code, name=t.name, kind=t.kind, pledges=t.pledges,
                             value_eur_cents=t.value_eur_cents,
                             share_of_total_pct=share_pct(t.value_eur_cents, grand),
                             gdp_usd=t.gdp_usd, gdp_year=t.gdp_year, usd_per_eur=rate,
                             gdp_eur_cents=gdp, share_of_gdp_pct=share))
    return DonorReport(filters=f, basis=DONOR_BASIS, total_pledges=sum(t.pledges for t in totals),
                       total_value_eur_cents=grand, rows=rows)


def categories(session: Session, *, actor: Actor, filters: ReportFilter | None = None
               ) -> CategoryReport:
    """Totals per category, each including its sub-categories, walked depth-first."""
    f = filters or ReportFilter()
    own = {t.key: t for t in queries.category_totals(
        session, queries.scope(session, actor=actor, filters=f, view=View.ITEM))}
    nodes = {n.id: n for n in queries.category_tree(session)}
    children: dict[int | None, list[int]] = defaultdict(list)
    for n in nodes.values():
        children[n.parent_id].append(n.id)
    rolled: dict[int, tuple[int, int, int]] = {}

    def roll(node_id: int) -> tuple[int, int, int]:
        mine = own.get(node_id)
        sums = [mine.pledges, mine.quantity, mine.value_eur_cents] if mine else [0, 0, 0]
        for child in children[node_id]:
            for i, v in enumerate(roll(child)):
                sums[i] += v
        rolled[node_id] = (sums[0], sums[1], sums[2])
        return rolled[node_id]

    roots = children[None]
    grand = sum(roll(r)[2] for r in roots)
    rows: list[CategoryRow] = []

    def walk(node_id: int, depth: int, root: str) -> None:
        n = nodes[node_id]
        pledges, quantity, value = rolled[node_id]
        if pledges == 0:
            return
        parent = nodes[n.parent_id].code if n.parent_id is not None else None
        rows.append(CategoryRow(
            category=n.code, name=n.name, parent=parent, root=root, depth=depth, pledges=pledges,
            quantity=quantity, value_eur_cents=value,
            own_value_eur_cents=own[node_id].value_eur_cents if node_id in own else 0,
            share_of_total_pct=share_pct(value, grand)))
        for child in sorted(children[node_id], key=lambda c: (-rolled[c][2], nodes[c].code)):
            walk(child, depth + 1, root)

    for r in sorted(roots, key=lambda c: (-rolled[c][2], nodes[c].code)):
        walk(r, 0, nodes[r].code)
    return CategoryReport(filters=f, basis=ITEM_BASIS, total_value_eur_cents=grand, rows=rows)


def areas(session: Session, *, actor: Actor, filters: ReportFilter | None = None) -> AreaReport:
    """Totals per capability area, largest first."""
    f = filters or ReportFilter()
    totals = queries.area_totals(session, queries.scope(session, actor=actor, filters=f,
                                                        view=View.ITEM))
    grand = sum(t.value_eur_cents for t in totals)
    rows = [AreaRow(area=CapabilityArea(t.key), pledges=t.pledges, quantity=t.quantity,
                    value_eur_cents=t.value_eur_cents,
                    share_of_total_pct=share_pct(t.value_eur_cents, grand))
            for t in sorted(totals, key=lambda t: (-t.value_eur_cents, str(t.key)))]
    return AreaReport(filters=f, basis=ITEM_BASIS, total_value_eur_cents=grand, rows=rows)


def _month_gaps_filled(totals: list[queries.PeriodTotal]) -> list[queries.PeriodTotal]:
    """Empty months in between, so lines over time do not bridge silent months."""
    if not totals:
        return []
    by_key = {t.key: t for t in totals}
    first, last = totals[0].starts_on, totals[-1].starts_on
    assert first is not None and last is not None
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        key = f"{y:04d}-{m:02d}"
        day = dt.date(y, m, 1)
        out.append(by_key.get(key) or queries.PeriodTotal(key, day.strftime("%b %Y"), day,
                                                          0, 0, 0, 0))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def timeline(session: Session, *, actor: Actor, filters: ReportFilter | None = None,
             by: Period = Period.MONTH) -> TimelineReport:
    """Pledged, confirmed and delivered value of the pledges announced in each month (or at
    each meeting), with running totals; 'delivered' is what those pledges delivered to date."""
    f = filters or ReportFilter()
    stmt = queries.scope(session, actor=actor, filters=f, view=View.ITEM)
    if by is Period.MONTH:
        totals = _month_gaps_filled(queries.month_totals(session, stmt))
    else:
        totals = queries.meeting_totals(session, stmt, actor=actor)
    rows: list[TimelineRow] = []
    pledged = confirmed = delivered = 0
    for t in totals:
        pledged, confirmed, delivered = (pledged + t.pledged, confirmed + t.confirmed,
                                         delivered + t.delivered)
        at_meeting = by is Period.MEETING and t.key is not None
        label = (f"{t.starts_on:%Y-%m-%d} {t.label}" if at_meeting
                 else t.label if by is Period.MONTH else "not announced at a meeting")
        rows.append(TimelineRow(
            period=str(t.key) if t.key is not None else "none", label=label,
            starts_on=t.starts_on, meeting_id=t.key if at_meeting else None, pledges=t.pledges,
            pledged_eur_cents=t.pledged, confirmed_eur_cents=t.confirmed,
            delivered_eur_cents=t.delivered, cumulative_pledged_eur_cents=pledged,
            cumulative_confirmed_eur_cents=confirmed, cumulative_delivered_eur_cents=delivered))
    return TimelineReport(filters=f, basis=ITEM_BASIS, by=by, rows=rows)


def concentration(session: Session, *, actor: Actor, filters: ReportFilter | None = None
                  ) -> ConcentrationReport:
    """Per capability area: the top donor's share and the HHI of donors' shares (dependence on
    one donor). A joint-fund purchase counts for the nation that paid for it."""
    f = filters or ReportFilter()
    stmt = queries.scope(session, actor=actor, filters=f, view=View.ITEM)
    by_area: dict[CapabilityArea, list[queries.SupplierTotal]] = defaultdict(list)
    for s in queries.supplier_totals(session, stmt, actor=actor):
        if s.value_eur_cents > 0:
            by_area[s.area].append(s)
    rows = []
    for area, suppliers in by_area.items():
        top = min(suppliers, key=lambda s: (-s.value_eur_cents, s.supplier))
        total = sum(s.value_eur_cents for s in suppliers)
        index = hhi(s.value_eur_cents for s in suppliers)
        rows.append(ConcentrationRow(
            area=area, value_eur_cents=total, donors=len(suppliers), top_donor=top.supplier,
            top_donor_value_eur_cents=top.value_eur_cents,
            top_donor_share_pct=share_pct(top.value_eur_cents, total), hhi=index,
            level=concentration_level(index)))
    rows.sort(key=lambda r: (-r.hhi, r.area.value))
    return ConcentrationReport(filters=f, basis=ITEM_BASIS, rows=rows)


def delivery(session: Session, *, actor: Actor, filters: ReportFilter | None = None
             ) -> DeliveryReport:
    """Pledged vs confirmed vs delivered (value and quantity) and the median days from
    announcement to delivery in full (see `queries.delivered_at`), per capability area and in
    total.

    Delivered value is value x delivered / quantity per pledge, in integer cents rounded down.
    """
    f = filters or ReportFilter()
    stmt = queries.scope(session, actor=actor, filters=f, view=View.ITEM)
    pipeline = queries.pipeline_totals(session, stmt)
    delays = {d.area: d for d in queries.delivery_medians(session, stmt, actor=actor)}

    def row(area: CapabilityArea | None, parts: list[queries.PipelineTotal]) -> DeliveryRow:
        delay = delays.get(area)
        pledged = sum(p.pledged for p in parts)
        delivered = sum(p.delivered for p in parts)
        return DeliveryRow(
            area=area, pledges=sum(p.pledges for p in parts), pledged_eur_cents=pledged,
            confirmed_eur_cents=sum(p.confirmed for p in parts), delivered_eur_cents=delivered,
            pledged_quantity=sum(p.pledged_quantity for p in parts),
            confirmed_quantity=sum(p.confirmed_quantity for p in parts),
            delivered_quantity=sum(p.delivered_quantity for p in parts),
            delivered_pct=share_pct(delivered, pledged),
            delivered_pledges=delay.delivered_pledges if delay else 0,
            median_days_to_delivery=delay.median_days if delay else None)

    rows = sorted((row(p.area, [p]) for p in pipeline),
                  key=lambda r: (-r.pledged_eur_cents, str(r.area)))
    return DeliveryReport(filters=f, basis=ITEM_BASIS, total=row(None, pipeline), rows=rows)


def build(session: Session, *, actor: Actor, kind: ReportKind,
          filters: ReportFilter | None = None, by: Period = Period.MONTH) -> Report:
    """One report by name, for the API, the CLI and the dashboard."""
    if kind is ReportKind.TIMELINE:
        return timeline(session, actor=actor, filters=filters, by=by)
    builders: dict[ReportKind, Callable[..., Report]] = {
        ReportKind.DONORS: donors, ReportKind.CATEGORIES: categories, ReportKind.AREAS: areas,
        ReportKind.CONCENTRATION: concentration, ReportKind.DELIVERY: delivery,
    }
    return builders[kind](session, actor=actor, filters=filters)


def _rows(report: Report) -> list[Any]:
    rows: list[Any] = list(report.rows)
    if isinstance(report, DeliveryReport):
        rows.insert(0, report.total)
    return rows


def table_rows(report: Report) -> list[dict[str, Any]]:
    """The report's rows as flat JSON-ready dicts (the delivery total comes first)."""
    return [r.model_dump(mode="json") for r in _rows(report)]


def _cell(field: str, value: Any) -> Any:
    if value is None:
        return ""
    if field.endswith("_eur_cents"):
        return from_cents(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value  # exact Decimals print as they are (14.50, not 14.5)


def to_csv(report: Report) -> str:
    """Rows as CSV for spreadsheets: money columns in EUR (two decimals), not cents."""
    row_type = type(report).model_fields["rows"].annotation.__args__[0]  # type: ignore[union-attr]
    fields = list(row_type.model_fields)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.removesuffix("_cents") for f in fields])
    for row in _rows(report):
        cells = [_cell(f, getattr(row, f)) for f in fields]
        if isinstance(report, DeliveryReport) and row.area is None:
            cells[0] = "total"
        writer.writerow(cells)
    return out.getvalue()
