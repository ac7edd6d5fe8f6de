"""Analytics' chart panels as the JSON specs `static/js/coalition.js` draws with Chart.js.

The panels are already in display units (e.g. "bn EUR"), so the dashboard shows the same
numbers as `coalition report ... --chart`. Values become plain floats here only because JSON
has no decimals; nothing is computed from them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from coalition.analytics.schemas import ChartPanel

COLOURS = {"Pledged": "#1d4f91", "Confirmed": "#56b4e9", "Delivered": "#1f6b45",
           "Share of GDP": "#e69f00", "HHI": "#a3221b"}


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def panel_spec(panel: ChartPanel, *, empty: str, height: int | None = None) -> dict[str, Any]:
    kind = "line" if panel.mark == "line" else "hbar" if panel.horizontal else "bar"
    spec: dict[str, Any] = {
        "type": kind,
        "labels": panel.labels,
        "datasets": [{"label": s.label, "data": [_number(v) for v in s.values],
                      **({"color": COLOURS[s.label]} if s.label in COLOURS else {})}
                     for s in panel.series],
        "format": "percent" if panel.unit == "%" else "number",
        "valueTitle": panel.value_axis,
        "indexTitle": panel.category_axis,
        "legend": len(panel.series) > 1,
        "empty": empty,
    }
    if height is not None:
        spec["height"] = height
    return spec
