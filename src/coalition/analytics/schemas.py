"""Shapes of the reports: what the API, the CLI, the charts and the dashboard all render.

Money is integer euro cents (`*_eur_cents`); ratios are exact Decimals in Python and plain JSON
numbers on the wire, so Chart.js can plot them without parsing.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from coalition.catalog.models import CapabilityArea
from coalition.pledges.schemas import PledgeFilter
from coalition.registry.models import ParticipantKind
from coalition.schemas_common import Schema

Ratio = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class ReportKind(enum.StrEnum):
    DONORS = "donors"
    CATEGORIES = "categories"
    AREAS = "areas"
    TIMELINE = "timeline"
    CONCENTRATION = "concentration"
    DELIVERY = "delivery"


class Period(enum.StrEnum):
    MONTH = "month"
    MEETING = "meeting"


class View(enum.StrEnum):
    """Which side of a joint-fund pair a report counts, so money is counted once.

    `donor`: who paid (a contribution to a fund counts, the fund's purchases do not).
    `item`: what was bought (the fund's purchases count, the contributions do not).
    """

    DONOR = "donor"
    ITEM = "item"


class ConcentrationLevel(enum.StrEnum):
    """Bands of the 2010 US Horizontal Merger Guidelines (HHI < 1,500 / 1,500-2,500 / > 2,500)."""

    LOW = "unconcentrated"
    MODERATE = "moderately concentrated"
    HIGH = "highly concentrated"


class ReportFilter(Schema):
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None
    donor: str | None = Field(default=None, description="Participant code of one donor.")
    category: str | None = Field(default=None, description="Category code (with sub-categories).")
    include_withdrawn: bool = Field(
        default=False, description="Count withdrawn and cancelled pledges too (normally left out: "
        "they are no longer promised).")

    def pledge_filter(self) -> PledgeFilter:
        return PledgeFilter(donor=self.donor, category=self.category,
                            announced_from=self.announced_from, announced_to=self.announced_to)


class _Report(Schema):
    kind: ReportKind
    view: View
    filters: ReportFilter
    basis: str = Field(description="What is counted, in one sentence.")


class DonorRow(Schema):
    donor: str
    name: str
    kind: ParticipantKind
    pledges: int
    value_eur_cents: int
    share_of_total_pct: Ratio
    gdp_usd: int | None
    gdp_year: int | None
    usd_per_eur: Ratio | None = Field(description="Rate used to convert GDP to EUR.")
    gdp_eur_cents: int | None
    share_of_gdp_pct: Ratio | None


class DonorReport(_Report):
    kind: Literal[ReportKind.DONORS] = ReportKind.DONORS
    view: Literal[View.DONOR] = View.DONOR
    total_pledges: int
    total_value_eur_cents: int
    rows: list[DonorRow]


class CategoryRow(Schema):
    category: str
    name: str
    parent: str | None
    root: str = Field(description="Code of the top-level category this one belongs to.")
    depth: int
    pledges: int = Field(description="Including sub-categories.")
    quantity: int = Field(description="Including sub-categories.")
    value_eur_cents: int = Field(description="Including sub-categories.")
    own_value_eur_cents: int = Field(description="Item types filed directly here.")
    share_of_total_pct: Ratio


class CategoryReport(_Report):
    kind: Literal[ReportKind.CATEGORIES] = ReportKind.CATEGORIES
    view: Literal[View.ITEM] = View.ITEM
    total_value_eur_cents: int
    rows: list[CategoryRow] = Field(description="Depth-first through the tree, larger first.")


class AreaRow(Schema):
    area: CapabilityArea
    pledges: int
    quantity: int
    value_eur_cents: int
    share_of_total_pct: Ratio


class AreaReport(_Report):
    kind: Literal[ReportKind.AREAS] = ReportKind.AREAS
    view: Literal[View.ITEM] = View.ITEM
    total_value_eur_cents: int
    rows: list[AreaRow]


class TimelineRow(Schema):
    period: str = Field(description="YYYY-MM, or the meeting's id ('none': not at a meeting).")
    label: str
    starts_on: dt.date | None
    meeting_id: int | None
    pledges: int
    pledged_eur_cents: int
    confirmed_eur_cents: int
    delivered_eur_cents: int
    cumulative_pledged_eur_cents: int
    cumulative_confirmed_eur_cents: int
    cumulative_delivered_eur_cents: int


class TimelineReport(_Report):
    kind: Literal[ReportKind.TIMELINE] = ReportKind.TIMELINE
    view: Literal[View.ITEM] = View.ITEM
    by: Period
    rows: list[TimelineRow]


class ConcentrationRow(Schema):
    area: CapabilityArea
    value_eur_cents: int
    donors: int
    top_donor: str
    top_donor_value_eur_cents: int
    top_donor_share_pct: Ratio
    hhi: Ratio = Field(description="Herfindahl-Hirschman index, 0-10,000.")
    level: ConcentrationLevel


class ConcentrationReport(_Report):
    kind: Literal[ReportKind.CONCENTRATION] = ReportKind.CONCENTRATION
    view: Literal[View.ITEM] = View.ITEM
    rows: list[ConcentrationRow] = Field(description="Most concentrated first.")


class DeliveryRow(Schema):
    area: CapabilityArea | None = Field(description="None on the total row.")
    pledges: int
    pledged_eur_cents: int
    confirmed_eur_cents: int
    delivered_eur_cents: int
    pledged_quantity: int
    confirmed_quantity: int
    delivered_quantity: int
    delivered_pct: Ratio = Field(description="Delivered value as a share of pledged value.")
    delivered_pledges: int = Field(description="Pledges with a recorded delivery date.")
    median_days_to_delivery: Ratio | None = Field(
        description="Over pledges delivered in full: days from announcement to the last "
        "'received' logistics event, or to the 'delivered' status change without one.")


class DeliveryReport(_Report):
    kind: Literal[ReportKind.DELIVERY] = ReportKind.DELIVERY
    view: Literal[View.ITEM] = View.ITEM
    total: DeliveryRow
    rows: list[DeliveryRow]


Report = (DonorReport | CategoryReport | AreaReport | TimelineReport | ConcentrationReport
          | DeliveryReport)


class ChartSeries(Schema):
    label: str
    values: list[Ratio | None]


class ChartPanel(Schema):
    """One plot: what Altair draws for files and Chart.js draws in the browser."""

    title: str
    mark: Literal["bar", "line"]
    horizontal: bool
    category_axis: str
    value_axis: str = Field(description="Axis title with its unit, e.g. 'Value (bn EUR)'.")
    unit: str
    temporal: bool = Field(default=False, description="Labels are months (YYYY-MM).")
    labels: list[str]
    series: list[ChartSeries]
    groups: list[str] = Field(default_factory=list,
                              description="A colour group per label (e.g. the parent category).")
    notes: list[str] = Field(default_factory=list,
                             description="A short text per label (e.g. the top donor).")
    rules: list[Ratio] = Field(default_factory=list, description="Reference lines on the value "
                               "axis (e.g. HHI thresholds).")


class ChartData(Schema):
    kind: ReportKind
    title: str
    subtitle: str
    panels: list[ChartPanel]
