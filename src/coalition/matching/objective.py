"""What a good matching is: the three-tier objective, and how to score any allocation by it.

The tiers, compared lexicographically (a later tier only breaks ties of the earlier ones):

1. **Priority-weighted quantity met**, maximised: each unit delivered to a requirement of
   priority p counts ``PRIORITY_WEIGHTS[p]`` (priority 1 counts most). The quantities a set of
   pledges can meet form a polymatroid (the flow into any set of requirements is a submodular
   function), so by Edmonds' greedy theorem *every* strictly decreasing choice of weights has
   the same optimum: the matching is priority-lexicographic. No amount of lower-priority
   quantity ever outweighs a unit of more urgent need, and the optimum also meets the largest
   possible total quantity (it is a maximum flow).
2. **Delay cost**, minimised: per unit, the days the pledge becomes available after the
   requirement is needed, plus ``SUBSTITUTION_PENALTY_DAYS`` when the pledge is another item
   type of the same compatibility group. A substitute thus counts as a week late: an exact
   item three days late beats an on-time substitute; one ten days late does not. Lateness
   counts the same for every need unless `MatchPolicy.weight_delay_by_priority` is set.
3. **Split surrogate**, minimised: fewer requirements served by several donors. Counting
   (requirement, donor) pairs is a fixed-charge objective (NP-hard in general), so this tier
   minimises the linear cost ``sum(quantity * split_cost[requirement, donor])`` with
   ``split_cost = SPLIT_COVER_PENALTY * [the donor's compatible supply cannot cover the need]
   + tiebreak``, the tie-break a fixed hash of (requirement id, donor id) in
   ``[0, SPLIT_TIEBREAK_RANGE)``. The first term prefers donors able to fill a need alone;
   the hash makes the optimum unique, hence a vertex of the tier-1/2 optimal face, whose
   support is a forest. That bounds the (pledge, requirement) pairs by the number of rows
   and consolidates each requirement on few donors. The actual split count is reported next
   to the surrogate (`ObjectiveBreakdown.donor_splits`).

Tiers 1 and 2 are optimised exactly; tier 3 exactly for the surrogate it states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from coalition.matching.arcs import CompatibleArcs, donor_runs
from coalition.matching.arrays import (
    MAX_PRIORITY,
    BoolArray,
    Int64Array,
    PledgeArrays,
    RequirementArrays,
)

#: Value of one unit met, by priority (index 0 unused). Any decreasing weights give the same
#: optimum (see the module docstring); small ones keep the solver's integer costs small.
PRIORITY_WEIGHTS: Final = (0, 5, 4, 3, 2, 1)
#: Delay cost of a substitute unit, in days of lateness.
SUBSTITUTION_PENALTY_DAYS: Final = 7
#: Split cost per unit when the donor cannot cover the requirement alone.
SPLIT_COVER_PENALTY: Final = 64
#: Range of the per-(requirement, donor) hash tie-break of tier 3.
SPLIT_TIEBREAK_RANGE: Final = 64

_PRIORITY_WEIGHT_ARRAY: Final = np.asarray(PRIORITY_WEIGHTS, dtype=np.int64)

NDArrayU64 = NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """Tunable rules of one matching run."""

    substitution_penalty_days: int = SUBSTITUTION_PENALTY_DAYS
    max_lateness_days: int | None = None
    """Pairs later than this are not compatible at all (None: any lateness is acceptable)."""
    weight_delay_by_priority: bool = False
    """Multiply each unit's delay cost by its need's priority weight, so that when lateness
    must fall somewhere it falls on the less urgent needs. Off by default: tier 2 is then the
    plain lateness of the issue's objective."""

    def __post_init__(self) -> None:
        if self.substitution_penalty_days < 0:
            raise ValueError("substitution_penalty_days must be >= 0")
        if self.max_lateness_days is not None and self.max_lateness_days < 0:
            raise ValueError("max_lateness_days must be >= 0")


@dataclass(frozen=True, slots=True)
class TierCosts:
    """Integer unit values of the three tiers for one instance."""

    value: Int64Array
    """Tier 1, per requirement row: weight of one unit met."""
    delay: Int64Array
    """Tier 2, per arc: lateness days + substitution penalty."""
    split: Int64Array
    """Tier 3, per arc: split cost of the arc's (requirement, donor) pair."""


def priority_value(priority: Int64Array) -> Int64Array:
    return _PRIORITY_WEIGHT_ARRAY[priority]


def _mix64(x: NDArrayU64) -> NDArrayU64:
    # splitmix64 finaliser: a well-spread, platform-independent hash (uint64 wraps silently).
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def split_tiebreak(requirement_id: Int64Array, donor: Int64Array) -> Int64Array:
    """Deterministic pseudo-random tie-break in [0, SPLIT_TIEBREAK_RANGE) per pair."""
    mixed = _mix64(
        requirement_id.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        + _mix64(donor.astype(np.uint64))
    )
    return (mixed % np.uint64(SPLIT_TIEBREAK_RANGE)).astype(np.int64)


def tier_costs(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    policy: MatchPolicy,
) -> TierCosts:
    delay = arcs.lateness + np.int64(policy.substitution_penalty_days) * arcs.substitution
    if policy.weight_delay_by_priority:
        delay = delay * priority_value(requirements.priority[arcs.requirement])

    runs = donor_runs(arcs, pledges.donor)
    run_length = np.diff(np.append(runs, len(arcs)))
    run_req = arcs.requirement[runs]
    donor_supply = np.add.reduceat(pledges.quantity[arcs.pledge], runs) if len(runs) else runs
    cannot_cover = donor_supply < requirements.quantity[run_req]
    run_cost = np.int64(SPLIT_COVER_PENALTY) * cannot_cover + split_tiebreak(
        requirements.id[run_req], pledges.donor[arcs.pledge[runs]]
    )
    return TierCosts(
        value=priority_value(requirements.priority),
        delay=delay.astype(np.int64),
        split=np.repeat(run_cost, run_length),
    )


@dataclass(frozen=True, slots=True)
class ObjectiveBreakdown:
    """Score of one allocation; `key()` orders allocations (smaller is better)."""

    weighted_met: int
    delay_cost: int
    split_cost: int
    quantity_met: int
    quantity_needed: int
    quantity_offered: int
    met_by_priority: tuple[int, ...]
    """Index p-1 holds the quantity met for priority p."""
    needed_by_priority: tuple[int, ...]
    late_quantity: int
    lateness_unit_days: int
    substituted_quantity: int
    pairs: int
    """Distinct (pledge, requirement) pairs with a positive quantity."""
    donor_splits: int
    """Sum over requirements of (donors serving it - 1)."""
    requirements_met: int
    requirements_partial: int
    requirements_unmet: int

    def key(self) -> tuple[int, int, int]:
        return (-self.weighted_met, self.delay_cost, self.split_cost)

    def at_least_as_good_as(self, other: ObjectiveBreakdown) -> bool:
        return self.key() <= other.key()


class InfeasibleAllocation(ValueError):
    """An allocation that over-commits a pledge or over-serves a requirement."""


def evaluate(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
    flow: Int64Array,
) -> ObjectiveBreakdown:
    """Score a per-arc allocation; raises `InfeasibleAllocation` if it breaks a quantity."""
    if flow.shape != arcs.pledge.shape:
        raise InfeasibleAllocation("one quantity per compatible arc is required")
    if np.any(flow < 0):
        raise InfeasibleAllocation("negative quantity on an arc")
    # bincount sums in float64: exact while totals stay below 2**53 units, checked here.
    if float(flow.sum()) >= 2.0**53:
        raise InfeasibleAllocation("total quantity too large to score exactly")
    # Everything below only looks at the arcs that carry flow, in arc order.
    nz = np.flatnonzero(flow)
    qty = flow[nz]
    arc_pledge = arcs.pledge[nz]
    arc_req = arcs.requirement[nz]
    used = np.bincount(arc_pledge, weights=qty, minlength=len(pledges)).astype(np.int64)
    met = np.bincount(arc_req, weights=qty, minlength=len(requirements)).astype(np.int64)
    if np.any(used > pledges.quantity):
        raise InfeasibleAllocation("a pledge is committed beyond its remaining quantity")
    if np.any(met > requirements.quantity):
        raise InfeasibleAllocation("a requirement is served beyond its remaining need")

    # Arcs of one (requirement, donor) pair are contiguous, so are the served ones.
    donor = pledges.donor[arc_pledge]
    new_pair = np.ones(len(nz), np.bool_)
    new_pair[1:] = (arc_req[1:] != arc_req[:-1]) | (donor[1:] != donor[:-1])
    donors_per_req = np.bincount(arc_req[new_pair], minlength=len(requirements))
    need = requirements.quantity
    open_need: BoolArray = need > 0
    by_priority = [requirements.priority == p for p in range(1, MAX_PRIORITY + 1)]
    lateness = arcs.lateness[nz]
    return ObjectiveBreakdown(
        weighted_met=int(np.dot(costs.value, met)),
        delay_cost=int(np.dot(costs.delay[nz], qty)),
        split_cost=int(np.dot(costs.split[nz], qty)),
        quantity_met=int(met.sum()),
        quantity_needed=int(need.sum()),
        quantity_offered=int(pledges.quantity.sum()),
        met_by_priority=tuple(int(met[m].sum()) for m in by_priority),
        needed_by_priority=tuple(int(need[m].sum()) for m in by_priority),
        late_quantity=int(qty[lateness > 0].sum()),
        lateness_unit_days=int(np.dot(lateness, qty)),
        substituted_quantity=int(qty[arcs.substitution[nz]].sum()),
        pairs=len(nz),
        donor_splits=int(np.maximum(donors_per_req - 1, 0).sum()),
        requirements_met=int((open_need & (met == need)).sum()),
        requirements_partial=int((open_need & (met > 0) & (met < need)).sum()),
        requirements_unmet=int((open_need & (met == 0)).sum()),
    )
