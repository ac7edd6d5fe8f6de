"""Optimal matching of pledges to requirements: pure numpy in, proposals out (no database).

>>> from coalition.matching import match
>>> result = match(requirements, pledges, excluded=declined)  # doctest: +SKIP
>>> result.proposals.quantity, result.objective.weighted_met  # doctest: +SKIP
>>> print(result.explain(42).text())  # doctest: +SKIP
"""

from coalition.matching.arcs import CompatibleArcs, build_compatible_arcs
from coalition.matching.arrays import (
    NO_GROUP,
    ExcludedPairs,
    MatchingInputError,
    PledgeArrays,
    RequirementArrays,
)
from coalition.matching.engine import (
    EncodingOverflow,
    FlowNetwork,
    SolverFailed,
    TierWeights,
    build_networks,
    match,
    solve_network,
    solve_networks,
)
from coalition.matching.explain import Cause, Explanation, Outcome, UnknownRequirement
from coalition.matching.greedy import greedy_allocate
from coalition.matching.objective import (
    PRIORITY_WEIGHTS,
    SPLIT_COVER_PENALTY,
    SPLIT_TIEBREAK_RANGE,
    SUBSTITUTION_PENALTY_DAYS,
    InfeasibleAllocation,
    MatchPolicy,
    ObjectiveBreakdown,
    TierCosts,
    evaluate,
    tier_costs,
)
from coalition.matching.result import MatchResult, Proposals, Reason, Timings

__all__ = [
    "NO_GROUP",
    "PRIORITY_WEIGHTS",
    "SPLIT_COVER_PENALTY",
    "SPLIT_TIEBREAK_RANGE",
    "SUBSTITUTION_PENALTY_DAYS",
    "Cause",
    "CompatibleArcs",
    "EncodingOverflow",
    "ExcludedPairs",
    "Explanation",
    "FlowNetwork",
    "InfeasibleAllocation",
    "MatchPolicy",
    "MatchResult",
    "MatchingInputError",
    "ObjectiveBreakdown",
    "Outcome",
    "PledgeArrays",
    "Proposals",
    "Reason",
    "RequirementArrays",
    "SolverFailed",
    "TierCosts",
    "TierWeights",
    "Timings",
    "UnknownRequirement",
    "build_compatible_arcs",
    "build_networks",
    "evaluate",
    "greedy_allocate",
    "match",
    "solve_network",
    "solve_networks",
    "tier_costs",
]
