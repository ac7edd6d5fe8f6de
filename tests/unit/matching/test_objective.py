from __future__ import annotations

import numpy as np
import pytest

from coalition.matching import (
    CompatibleArcs,
    InfeasibleAllocation,
    MatchPolicy,
    PledgeArrays,
    RequirementArrays,
    TierCosts,
    build_compatible_arcs,
    evaluate,
    greedy_allocate,
    tier_costs,
)
from coalition.matching.objective import (
    SPLIT_COVER_PENALTY,
    SPLIT_TIEBREAK_RANGE,
    split_tiebreak,
)
from tests.unit.matching.factories import Pledge, Req, pledges, requirements


def _instance() -> tuple[RequirementArrays, PledgeArrays, CompatibleArcs, TierCosts]:
    reqs = requirements(Req(1, 10, priority=1), Req(2, 4, priority=5))
    offers = pledges(Pledge(10, 6, donor=1), Pledge(11, 6, donor=2))
    arcs = build_compatible_arcs(reqs, offers)
    return reqs, offers, arcs, tier_costs(reqs, offers, arcs, MatchPolicy())


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ([6, 6, 1, 0], "pledge"),
        ([5, 5, 0, 0], None),
        ([6, 5, 0, 0], "requirement"),
        ([-1, 0, 0, 0], "negative"),
        ([1, 1], "one quantity per"),
    ],
)
def test_evaluate_refuses_infeasible_allocations(flow: list[int], message: str | None) -> None:
    reqs, offers, arcs, costs = _instance()
    # arcs: requirement 1 -> pledges 10, 11 then requirement 2 -> pledges 10, 11
    assert arcs.requirement.tolist() == [0, 0, 1, 1]
    allocation = np.array(flow, np.int64)
    if message is None:
        assert evaluate(reqs, offers, arcs, costs, allocation).quantity_met == 10
    else:
        with pytest.raises(InfeasibleAllocation, match=message):
            evaluate(reqs, offers, arcs, costs, allocation)


def test_split_cost_prefers_donors_able_to_cover_the_need() -> None:
    reqs, offers, arcs, costs = _instance()
    tiebreak = split_tiebreak(reqs.id[arcs.requirement], offers.donor[arcs.pledge])
    # Neither donor (6 each) can cover need 1 (10); both can cover need 2 (4).
    assert np.array_equal(costs.split - tiebreak, [SPLIT_COVER_PENALTY, SPLIT_COVER_PENALTY, 0, 0])


def test_tiebreak_is_deterministic_and_in_range() -> None:
    req = np.arange(10_000, dtype=np.int64)
    donor = np.arange(10_000, dtype=np.int64) % 50
    first = split_tiebreak(req, donor)
    assert np.array_equal(first, split_tiebreak(req, donor))
    assert first.min() >= 0
    assert first.max() < SPLIT_TIEBREAK_RANGE
    # Spread: every value is used.
    assert len(np.unique(first)) == SPLIT_TIEBREAK_RANGE


def test_greedy_serves_urgent_needs_first_from_least_delayed_pledges() -> None:
    reqs = requirements(Req(1, 4, priority=5), Req(2, 4, priority=1, needed_by=10))
    offers = pledges(Pledge(10, 4, available_from=30), Pledge(11, 4, available_from=0))
    arcs = build_compatible_arcs(reqs, offers)
    costs = tier_costs(reqs, offers, arcs, MatchPolicy())
    flow = greedy_allocate(reqs, offers, arcs, costs)
    taken = {
        (int(offers.id[p]), int(reqs.id[r])): int(q)
        for p, r, q in zip(arcs.pledge, arcs.requirement, flow, strict=True)
        if q
    }
    assert taken == {(11, 2): 4, (10, 1): 4}


def test_substitution_penalty_is_a_policy() -> None:
    reqs = requirements(Req(1, 2, item_type=1, group=4))
    offers = pledges(Pledge(10, 2, item_type=2, group=4))
    arcs = build_compatible_arcs(reqs, offers)
    assert tier_costs(
        reqs, offers, arcs, MatchPolicy(substitution_penalty_days=2)
    ).delay.tolist() == [2]
    with pytest.raises(ValueError, match="substitution_penalty_days"):
        MatchPolicy(substitution_penalty_days=-1)
