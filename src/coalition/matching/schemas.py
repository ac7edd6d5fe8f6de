"""In/out shapes of matching runs, proposals, decisions, explanations and scenarios."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, model_validator

from coalition.catalog.models import CapabilityArea
from coalition.matching.models import ProposalStatus
from coalition.registry.schemas import ParticipantRef
from coalition.schemas_common import ReadSchema, Schema


class RunRequest(Schema):
    dry_run: bool = Field(default=False, description="Solve and report, store nothing.")
    max_lateness_days: int | None = Field(
        default=None, ge=0, description="Pairs later than this are not proposed at all.")


class ObjectiveRead(ReadSchema):
    """The run's score; `met_by_priority[0]` is priority 1."""

    weighted_met: int
    delay_cost: int
    split_cost: int
    quantity_met: int
    quantity_needed: int
    quantity_offered: int
    met_by_priority: list[int]
    needed_by_priority: list[int]
    late_quantity: int
    lateness_unit_days: int
    substituted_quantity: int
    pairs: int
    donor_splits: int
    requirements_met: int
    requirements_partial: int
    requirements_unmet: int


class RunRead(ReadSchema):
    """A matching run. Totals, policy and objective cover every record of the run's scope, so
    only readers of that scope get them (admins: every run; a coordinator: their format's);
    everyone else gets the header and `visible_proposals`, counts over what they may see."""

    id: int | None = Field(description="None for a dry run (nothing stored).")
    dry_run: bool = False
    created_at: dt.datetime
    created_by: str
    scope: str | None = Field(description="Format code of the coordinator's scope; None: all.")
    requirements: int | None = None
    pledges: int | None = None
    pairs: int | None = None
    excluded_pairs: int | None = None
    proposals: int | None = None
    quantity_proposed: int | None = None
    superseded: int | None = None
    policy: dict[str, Any] | None = None
    objective: ObjectiveRead | None = None
    timings: dict[str, float] | None = None
    visible_proposals: dict[ProposalStatus, int] | None = None


class ProposalRead(ReadSchema):
    id: int
    run_id: int
    pledge_id: int
    requirement_id: int
    donor: ParticipantRef
    quantity: int
    priority: int
    lateness_days: int
    substitution: bool
    reason_code: str
    reason_text: str
    status: ProposalStatus
    decided_by: str | None
    decided_at: dt.datetime | None
    decline_reason: str | None
    allocation_id: int | None


class DeclineRequest(Schema):
    reason: str = Field(min_length=1, max_length=1000)


class ExplanationLine(ReadSchema):
    pledge_id: int
    donor: str
    quantity: int
    lateness_days: int
    substitution: bool


class ExplanationRead(ReadSchema):
    """Why a requirement got what it got, from a stored run or (run_id None) a fresh solve of
    its compatibility group over what the reader may see."""

    requirement_id: int
    run_id: int | None
    priority: int
    needed: int
    proposed: int
    outcome: str
    causes: list[str]
    proposals: list[ExplanationLine]
    compatible_pledges: int
    declined_pledges: int
    too_late_pledges: int
    text: str


class WithdrawRequest(Schema):
    """One donor ({donor, from}) or the top N donors by pledged value ({top})."""

    donor: str | None = Field(default=None, description="Participant code, e.g. USA.")
    from_: dt.date | None = Field(
        default=None, alias="from",
        description="Withdraw only pledges available on or after this day (default: all).")
    top: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _one_of(self) -> WithdrawRequest:
        if (self.donor is None) == (self.top is None):
            raise ValueError("give either donor or top")
        return self


class RefillCandidate(ReadSchema):
    """Another donor that could refill a gap."""

    donor: str
    uncommitted_quantity: int
    """Uncommitted quantity of confirmed pledges in the gap's compatibility group."""
    spare_quantity: int
    """Of which the scenario's re-solve left unproposed."""
    category_pledges: int
    """Pledges this donor ever made in the gap's item category (history)."""


class Gap(ReadSchema):
    requirement_id: int
    reference: str
    item_type: str
    capability_area: CapabilityArea
    priority: int
    needed: int
    coverage_before: int
    coverage_after: int
    quantity_lost: int
    value_lost_eur_cents: int
    candidates: list[RefillCandidate]


class AreaPriorityLoss(ReadSchema):
    capability_area: CapabilityArea
    priority: int
    requirements: int
    quantity_lost: int
    value_lost_eur_cents: int


class WithdrawalReport(ReadSchema):
    """What a donor's withdrawal would open; nothing stored changes."""

    donor: ParticipantRef
    from_date: dt.date | None
    pledges_withdrawn: int
    quantity_withdrawn: int
    """Uncommitted plus committed-but-undelivered units of the withdrawn pledges."""
    value_withdrawn_eur_cents: int
    requirements_losing: int
    critical_requirements_losing: int
    """Of priority 1 or 2."""
    quantity_lost: int
    value_lost_eur_cents: int
    critical_quantity_lost: int
    by_area_priority: list[AreaPriorityLoss]
    gaps: list[Gap]
    resolved_groups: int
    """Compatibility groups re-solved (the others provably keep every need's coverage)."""
    seconds: float


class DonorDependency(ReadSchema):
    rank: int
    donor: ParticipantRef
    pledged_value_eur_cents: int
    critical_requirements_losing: int
    critical_quantity_lost: int
    requirements_losing: int
    value_lost_eur_cents: int


class TopWithdrawalReport(ReadSchema):
    """One withdrawal scenario per top donor, ranked by the critical gaps they would open."""

    donors: list[DonorDependency]
    scenarios: list[WithdrawalReport]
    seconds: float
