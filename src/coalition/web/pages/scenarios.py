"""Scenarios: what breaks if a donor (or each of the top donors) stops delivering — gaps by
capability area and priority, and who could refill them. Read-only; nothing stored changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request, Response

from coalition.access import policy
from coalition.catalog.models import CapabilityArea
from coalition.errors import ValidationFailed
from coalition.matching import scenarios
from coalition.web.deps import SessionDep
from coalition.web.pages import _choices, _forms
from coalition.web.pages._base import PageActor, page_router, render, wants_fragment
from coalition.web.pages._cache import ReportCache

router = page_router()

RESULTS_ID = "scenario-results"
FIELDS = ("donor", "top", "from")
MAX_GAPS = 50
PRIORITY_COLOURS = ["#a3221b", "#d55e00", "#e69f00", "#56b4e9", "#9aa6b2"]


def _area_chart(report: Any) -> dict[str, Any]:
    """Quantity lost per capability area, stacked by priority (1 = critical)."""
    areas = sorted({row.capability_area for row in report.by_area_priority},
                   key=lambda a: list(CapabilityArea).index(a))
    lost = {(row.capability_area, row.priority): row.quantity_lost
            for row in report.by_area_priority}
    return {"type": "hbar", "stacked": True, "format": "number",
            "labels": [a.value.replace("_", " ").capitalize() for a in areas],
            "datasets": [{"label": f"Priority {p}", "color": PRIORITY_COLOURS[p - 1],
                          "data": [lost.get((a, p), 0) for a in areas]} for p in range(1, 6)],
            "valueTitle": "Units no longer covered", "indexTitle": "Capability area",
            "legend": True, "empty": "No requirement would lose coverage."}


def _ranking_chart(report: Any) -> dict[str, Any]:
    return {"type": "hbar", "format": "number",
            "labels": [d.donor.code for d in report.donors],
            "datasets": [{"label": "Critical requirements losing coverage", "color": "#a3221b",
                          "data": [d.critical_requirements_losing for d in report.donors]},
                         {"label": "All requirements losing coverage", "color": "#9aa6b2",
                          "data": [d.requirements_losing for d in report.donors]}],
            "valueTitle": "Requirements", "indexTitle": "Donor withdrawing", "legend": True,
            "empty": "No donor to rank."}


@router.get("/scenarios")
def scenarios_page(request: Request, db: SessionDep, actor: PageActor) -> Response:
    policy.ensure(actor, scenarios.RUN_SCENARIOS)
    raw = _forms.clean(request.query_params, FIELDS)
    context: dict[str, Any] = {"filters": raw, "results_id": RESULTS_ID, "errors": {},
                               "single": None, "ranking": None}
    cache: ReportCache = request.app.state.report_cache
    try:
        if raw.get("donor") and raw.get("top"):
            raise ValidationFailed.single("top", "choose a donor or the top donors, not both")
        if raw.get("donor"):
            since = dt.date.fromisoformat(raw["from"]) if raw.get("from") else None
            report = cache.get(db, actor, ("withdraw", raw["donor"], since), lambda: (
                scenarios.withdraw(db, actor=actor, donor=raw["donor"], from_date=since,
                                   max_gaps=MAX_GAPS)))
            context.update(single=report, chart=_area_chart(report))
        elif raw.get("top"):
            top = int(raw["top"])
            ranking = cache.get(db, actor, ("withdraw-top", top),
                                lambda: scenarios.withdraw_top(db, actor=actor, top=top))
            context.update(ranking=ranking, chart=_ranking_chart(ranking))
    except ValueError:
        context["errors"] = {"from": "Enter a date as YYYY-MM-DD.", "top": "Enter a number."}
    except ValidationFailed as exc:
        context["errors"] = _forms.first_errors(_forms.domain_errors(exc, FIELDS))
    if wants_fragment(request, RESULTS_ID):
        return render(request, "scenarios/_results.html", context)
    context.update(donors=_choices.donors(db))
    return render(request, "scenarios/page.html", context)
