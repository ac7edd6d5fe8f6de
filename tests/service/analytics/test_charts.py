"""Charts: the plotted numbers are the report's, in stated units, and files are valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.analytics import charts, reports
from coalition.analytics.schemas import Period, ReportKind
from tests.service.analytics.ledger import Ledger

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("max_cents", "unit"), [
    (250 * 10**9, "bn EUR"), (100 * 10**9, "bn EUR"), (99 * 10**9, "m EUR"),
    (100 * 10**6, "m EUR"), (5_000, "EUR"), (0, "EUR"),
])
def test_money_unit(max_cents: int, unit: str) -> None:
    assert charts.money_unit(max_cents)[0] == unit


def test_donor_chart_data_matches_the_report(ledger: Ledger, session: Session) -> None:
    data = charts.chart_data(reports.donors(session, actor=SYSTEM))
    value, gdp = data.panels
    assert value.unit == "m EUR" and value.value_axis == "Pledged value (m EUR)"
    assert value.labels[0] == "Japan (JPN)"
    assert value.series[0].values == [Decimal("1.000"), Decimal("0.700"), Decimal("0.300"),
                                      Decimal("0.125")]
    assert gdp.unit == "%" and gdp.series[0].values[2] == Decimal("0.0300")
    assert data.model_dump(mode="json")["panels"][0]["series"][0]["values"][0] == 1.0


def test_concentration_chart_has_thresholds_and_top_donor(ledger: Ledger,
                                                          session: Session) -> None:
    panel = charts.chart_data(reports.concentration(session, actor=SYSTEM)).panels[0]
    assert panel.rules == [Decimal(1500), Decimal(2500)]
    assert panel.labels == ["Air defence", "Artillery"]
    assert panel.notes[1] == "top: DEU 62 % of 3 donors"


def test_timeline_chart_by_meeting_leaves_out_pledges_not_at_a_meeting(
        ledger: Ledger, session: Session) -> None:
    data = charts.chart_data(reports.timeline(session, actor=SYSTEM, by=Period.MEETING))
    assert data.panels[0].labels == []
    assert "Not at a meeting (not shown): 1,925,000 EUR" in data.subtitle


@pytest.mark.parametrize("kind", list(ReportKind))
def test_svg_is_valid_with_title_and_axis(kind: ReportKind, ledger: Ledger,
                                          session: Session) -> None:
    report = reports.build(session, actor=SYSTEM, kind=kind)
    svg = charts.render(report, charts.ChartFormat.SVG).decode()
    root = ET.fromstring(svg)  # noqa: S314 - our own renderer's output
    assert root.tag.endswith("svg")
    data = charts.chart_data(report)
    assert data.title in svg and data.panels[0].value_axis in svg


def test_png_is_valid(ledger: Ledger, session: Session) -> None:
    png = charts.render(reports.areas(session, actor=SYSTEM), charts.ChartFormat.PNG)
    assert png.startswith(PNG_MAGIC)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 400 and height > 100
