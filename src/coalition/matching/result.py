"""What a matching run hands back: proposals with their reasons, the score, and the timings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from coalition.matching.arcs import CompatibleArcs
from coalition.matching.arrays import (
    BoolArray,
    ExcludedPairs,
    Int64Array,
    PledgeArrays,
    RequirementArrays,
)
from coalition.matching.explain import Explanation, explain
from coalition.matching.objective import MatchPolicy, ObjectiveBreakdown, TierCosts

if TYPE_CHECKING:
    from coalition.matching.engine import TierWeights


class Reason(NamedTuple):
    """Why a proposal looks the way it does, in the objective's own terms."""

    priority: int
    lateness_days: int
    substitution: bool

    @property
    def code(self) -> str:
        """Compact form, e.g. ``P1`` (on time, same type) or ``P3+12d/sub``."""
        late = f"+{self.lateness_days}d" if self.lateness_days else ""
        return f"P{self.priority}{late}{'/sub' if self.substitution else ''}"

    @property
    def text(self) -> str:
        late = f"{self.lateness_days} days late" if self.lateness_days else "on time"
        kind = "substitute item type" if self.substitution else "same item type"
        return f"priority {self.priority} need; {late}; {kind}"


@dataclass(frozen=True, slots=True)
class Proposals:
    """Proposed allocations, one row per (pledge, requirement) pair with positive quantity."""

    pledge_id: Int64Array
    requirement_id: Int64Array
    quantity: Int64Array
    donor: Int64Array
    priority: Int64Array
    lateness_days: Int64Array
    substitution: BoolArray
    arc: Int64Array
    """Index of the pair in the run's `CompatibleArcs`."""

    def __len__(self) -> int:
        return len(self.pledge_id)

    def reason(self, i: int) -> Reason:
        return Reason(int(self.priority[i]), int(self.lateness_days[i]), bool(self.substitution[i]))

    def reasons(self) -> list[Reason]:
        return [
            Reason(p, late, sub)
            for p, late, sub in zip(
                self.priority.tolist(),
                self.lateness_days.tolist(),
                self.substitution.tolist(),
                strict=True,
            )
        ]


def proposals_from_flow(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    flow: Int64Array,
) -> Proposals:
    used = np.flatnonzero(flow)
    pledge_row = arcs.pledge[used]
    req_row = arcs.requirement[used]
    return Proposals(
        pledge_id=pledges.id[pledge_row],
        requirement_id=requirements.id[req_row],
        quantity=flow[used],
        donor=pledges.donor[pledge_row],
        priority=requirements.priority[req_row],
        lateness_days=arcs.lateness[used],
        substitution=arcs.substitution[used],
        arc=used.astype(np.int64),
    )


@dataclass(frozen=True, slots=True)
class Timings:
    build_s: float
    """Arrays in to solver-ready network: compatible pairs, tier costs, weights."""
    solve_s: float
    """The OR-Tools call, including loading the arcs."""
    extract_s: float
    """Flows to proposals and objective breakdown."""

    @property
    def total_s(self) -> float:
        return self.build_s + self.solve_s + self.extract_s


@dataclass(frozen=True, slots=True)
class MatchResult:
    """One solved instance; keeps its inputs so that any requirement can be explained."""

    requirements: RequirementArrays
    pledges: PledgeArrays
    excluded: ExcludedPairs
    policy: MatchPolicy
    arcs: CompatibleArcs
    costs: TierCosts
    flow: Int64Array
    """Quantity on each compatible arc (aligned with `arcs`)."""
    proposals: Proposals
    objective: ObjectiveBreakdown
    weights: tuple[TierWeights, ...]
    """Scalarisation weights of each solver call (one per batch of compatibility keys)."""
    num_nodes: int
    num_arcs: int
    timings: Timings

    def explain(self, requirement_id: int) -> Explanation:
        """Why the requirement got what it got, or why not."""
        return explain(self, requirement_id)
