from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import linprog

from coalition.matching import (
    CompatibleArcs,
    EncodingOverflow,
    ExcludedPairs,
    MatchPolicy,
    build_compatible_arcs,
    build_networks,
    evaluate,
    greedy_allocate,
    match,
    solve_networks,
    tier_costs,
)
from coalition.matching.engine import tier_weights
from coalition.matching.lp import lexicographic_lp
from tests.unit.matching.factories import (
    Pledge,
    Req,
    allocation,
    excluded,
    pledges,
    requirements,
)
from tests.unit.matching.strategies import SmallInstance, small_instances


@dataclass(frozen=True)
class Case:
    reqs: tuple[Req, ...]
    offers: tuple[Pledge, ...]
    expected: dict[tuple[int, int], int]
    """Optimal proposals {(pledge id, requirement id): quantity}."""
    declined: tuple[tuple[int, int], ...] = ()
    policy: MatchPolicy = field(default_factory=MatchPolicy)


CASES = {
    "need smaller than pledge": Case(
        (Req(1, 6),),
        (Pledge(10, 10),),
        {(10, 1): 6},
    ),
    "more urgent need first": Case(
        (Req(1, 5, priority=3), Req(2, 5, priority=1)),
        (Pledge(10, 5),),
        {(10, 2): 5},
    ),
    "substitutes go where they add the least delay": Case(
        (Req(1, 1, priority=1, item_type=1, group=7), Req(2, 50, priority=5, item_type=2, group=7)),
        (Pledge(10, 50, item_type=1, group=7), Pledge(11, 1, item_type=2, group=7)),
        # Sending 11 (type 2) to need 1 would make two substitutions instead of one batch.
        {(10, 1): 1, (10, 2): 49, (11, 2): 1},
    ),
    "reroute so that both needs are met (greedy would strand one)": Case(
        (Req(1, 5, needed_by=0), Req(2, 5, needed_by=0)),
        (Pledge(10, 5, available_from=0), Pledge(11, 5, available_from=3)),
        {(11, 1): 5, (10, 2): 5},
        declined=((11, 2),),
    ),
    "timing: each pledge to the need it is on time for": Case(
        (Req(1, 5, priority=1, needed_by=20), Req(2, 5, priority=2, needed_by=10)),
        (Pledge(10, 5, available_from=0), Pledge(11, 5, available_from=15)),
        {(11, 1): 5, (10, 2): 5},
    ),
    "priority beats lateness": Case(
        (Req(1, 5, priority=1, needed_by=0), Req(2, 5, priority=2, needed_by=100)),
        (Pledge(10, 5, available_from=50),),
        {(10, 1): 5},
    ),
    "exact type 3 days late beats an on-time substitute": Case(
        (Req(1, 5, item_type=1, group=7),),
        (
            Pledge(10, 5, available_from=0, item_type=2, group=7),
            Pledge(11, 5, available_from=3, item_type=1, group=7),
        ),
        {(11, 1): 5},
    ),
    "on-time substitute beats exact type 10 days late": Case(
        (Req(1, 5, item_type=1, group=7),),
        (
            Pledge(10, 5, available_from=0, item_type=2, group=7),
            Pledge(11, 5, available_from=10, item_type=1, group=7),
        ),
        {(10, 1): 5},
    ),
    "ungrouped types never substitute": Case(
        (Req(1, 5, item_type=1),),
        (Pledge(10, 5, item_type=2),),
        {},
    ),
    "declined pair is not proposed again": Case(
        (Req(1, 5),),
        (Pledge(10, 5), Pledge(11, 2, donor=2)),
        {(11, 1): 2},
        declined=((10, 1),),
    ),
    "lateness limit": Case(
        (Req(1, 5, needed_by=0),),
        (Pledge(10, 5, available_from=31), Pledge(11, 1, available_from=30, donor=2)),
        {(11, 1): 1},
        policy=MatchPolicy(max_lateness_days=30),
    ),
    "a donor who can cover the need alone is preferred": Case(
        (Req(1, 10),),
        (Pledge(10, 5, donor=2), Pledge(11, 10, donor=1), Pledge(12, 5, donor=3)),
        {(11, 1): 10},
    ),
    "zero quantities are ignored": Case(
        (Req(1, 0), Req(2, 3)),
        (Pledge(10, 0), Pledge(11, 4)),
        {(11, 2): 3},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hand_checked_optimum(case: Case) -> None:
    result = match(
        requirements(*case.reqs),
        pledges(*case.offers),
        excluded=excluded(*case.declined),
        policy=case.policy,
    )
    assert allocation(result) == case.expected


@pytest.mark.parametrize(
    ("reqs", "offers", "weighted", "delay", "splits"),
    [
        # 3 units met at priority 2 (weight 4) and 2 at priority 5 (weight 1); 2 days late.
        (
            (Req(1, 3, priority=2), Req(2, 4, priority=5)),
            (Pledge(10, 5, available_from=2),),
            14,
            10,
            0,
        ),
        # Two donors needed for one need: one split; a substitute costs 7 days per unit.
        (
            (Req(1, 8, item_type=1, group=3),),
            (Pledge(10, 5, item_type=1, group=3), Pledge(11, 3, item_type=2, group=3, donor=2)),
            8 * 3,
            3 * 7,
            1,
        ),
    ],
)
def test_objective_breakdown(
    reqs: tuple[Req, ...], offers: tuple[Pledge, ...], weighted: int, delay: int, splits: int
) -> None:
    result = match(requirements(*reqs), pledges(*offers))
    assert result.objective.weighted_met == weighted
    assert result.objective.delay_cost == delay
    assert result.objective.donor_splits == splits


def test_two_pledges_of_one_donor_are_not_a_split() -> None:
    result = match(
        requirements(Req(1, 10)),
        pledges(Pledge(10, 5, donor=4), Pledge(11, 5, donor=4)),
    )
    assert result.objective.donor_splits == 0
    assert result.objective.pairs == 2


def test_greedy_strands_a_need_the_engine_serves() -> None:
    case = CASES["reroute so that both needs are met (greedy would strand one)"]
    reqs, offers = requirements(*case.reqs), pledges(*case.offers)
    arcs = build_compatible_arcs(reqs, offers, excluded=excluded(*case.declined))
    costs = tier_costs(reqs, offers, arcs, MatchPolicy())
    greedy = evaluate(reqs, offers, arcs, costs, greedy_allocate(reqs, offers, arcs, costs))
    engine = match(reqs, offers, excluded=excluded(*case.declined)).objective
    assert (greedy.quantity_met, engine.quantity_met) == (5, 10)


def test_proposals_carry_reasons() -> None:
    result = match(
        requirements(Req(1, 5, priority=2, needed_by=10, item_type=1, group=7)),
        pledges(Pledge(10, 5, available_from=22, item_type=2, group=7)),
    )
    reason = result.proposals.reason(0)
    assert (reason.priority, reason.lateness_days, reason.substitution) == (2, 12, True)
    assert reason.code == "P2+12d/sub"
    assert reason.text == "priority 2 need; 12 days late; substitute item type"
    assert result.proposals.reasons() == [reason]


def _priority_lexicographic_met(inst: SmallInstance, arcs: CompatibleArcs) -> list[int]:
    """Met quantity per priority when maximising priority 1, then 2, ... one LP at a time."""
    reqs, offers = inst.requirements, inst.pledges
    n = len(arcs)
    if n == 0:
        return [0] * 5
    rows = np.zeros((len(offers) + len(reqs), n))
    rows[arcs.pledge, np.arange(n)] = 1
    rows[len(offers) + arcs.requirement, np.arange(n)] = 1
    rhs = list(np.concatenate([offers.quantity, reqs.quantity]).astype(float))
    a_ub = [list(r) for r in rows]
    met = []
    for p in range(1, 6):
        gain = -(reqs.priority[arcs.requirement] == p).astype(float)
        res = linprog(gain, A_ub=np.array(a_ub), b_ub=rhs, bounds=(0, None), method="highs")
        assert res.status == 0
        best = round(-res.fun)
        met.append(best)
        a_ub.append(list(gain))
        rhs.append(-best)
    return met


@settings(max_examples=100, deadline=None)
@given(small_instances())
def test_priority_weights_make_matching_priority_lexicographic(inst: SmallInstance) -> None:
    result = match(inst.requirements, inst.pledges, excluded=inst.excluded, policy=inst.policy)
    expected = _priority_lexicographic_met(inst, result.arcs)
    assert list(result.objective.met_by_priority) == expected


def test_empty_instance() -> None:
    result = match(requirements(), pledges())
    assert len(result.proposals) == 0
    assert result.objective.key() == (0, 0, 0)


def _check_feasible(
    inst: SmallInstance, flow: np.ndarray, arcs_pledge: np.ndarray, arcs_req: np.ndarray
) -> None:
    used = np.zeros(len(inst.pledges), np.int64)
    met = np.zeros(len(inst.requirements), np.int64)
    np.add.at(used, arcs_pledge, flow)
    np.add.at(met, arcs_req, flow)
    assert np.all(flow >= 0)
    assert np.all(used <= inst.pledges.quantity)
    assert np.all(met <= inst.requirements.quantity)


@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_engine_is_feasible_and_never_worse_than_greedy(inst: SmallInstance) -> None:
    result = match(inst.requirements, inst.pledges, excluded=inst.excluded, policy=inst.policy)
    _check_feasible(inst, result.flow, result.arcs.pledge, result.arcs.requirement)
    greedy_flow = greedy_allocate(inst.requirements, inst.pledges, result.arcs, result.costs)
    _check_feasible(inst, greedy_flow, result.arcs.pledge, result.arcs.requirement)
    greedy = evaluate(inst.requirements, inst.pledges, result.arcs, result.costs, greedy_flow)
    assert result.objective.at_least_as_good_as(greedy)
    # Proposals only on compatible, non-declined pairs.
    banned = set(
        zip(inst.excluded.pledge_id.tolist(), inst.excluded.requirement_id.tolist(), strict=True)
    )
    proposed = set(
        zip(
            result.proposals.pledge_id.tolist(),
            result.proposals.requirement_id.tolist(),
            strict=True,
        )
    )
    assert not proposed & banned


@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_engine_equals_the_lexicographic_lp(inst: SmallInstance) -> None:
    result = match(inst.requirements, inst.pledges, excluded=inst.excluded, policy=inst.policy)
    lp = lexicographic_lp(inst.requirements, inst.pledges, result.arcs, result.costs)
    assert lp is not None
    assert result.objective.key() == lp.key()


@settings(max_examples=60, deadline=None)
@given(small_instances(max_requirements=10, max_pledges=12))
def test_batching_does_not_change_the_optimum(inst: SmallInstance) -> None:
    reqs, offers = inst.requirements, inst.pledges
    arcs = build_compatible_arcs(reqs, offers, excluded=inst.excluded)
    costs = tier_costs(reqs, offers, arcs, inst.policy)
    keys = {
        evaluate(
            reqs,
            offers,
            arcs,
            costs,
            solve_networks(build_networks(reqs, offers, arcs, costs, batch_arcs=b), len(arcs)),
        ).key()
        for b in (1, 4, 10**9)
    }
    assert len(keys) == 1


def test_split_tier_is_dropped_before_overflowing() -> None:
    roomy = tier_weights(k=100, delay_max=400, split_max=127, num_nodes=1_000)
    assert roomy.split_tier
    assert roomy.w2 == 100 * 127 + 1
    assert roomy.w1 == 100 * (roomy.w2 * 400 + 127) + 1
    tight = tier_weights(k=100_000, delay_max=400, split_max=127, num_nodes=1_000_000)
    assert not tight.split_tier
    assert (tight.w2, tight.w1) == (1, 100_000 * 400 + 1)
    with pytest.raises(EncodingOverflow):
        tier_weights(k=10**7, delay_max=10**9, split_max=127, num_nodes=10**7)


def test_match_accepts_no_exclusions() -> None:
    result = match(requirements(Req(1, 2)), pledges(Pledge(10, 2)), excluded=ExcludedPairs.empty())
    assert allocation(result) == {(10, 1): 2}


def test_priority_weighted_delay_puts_lateness_on_less_urgent_needs() -> None:
    # Both needs are due on day 30 and one late pledge must go somewhere: plain lateness is
    # indifferent, priority-weighted lateness sends it to the priority-3 need.
    reqs = requirements(
        Req(1, 400, priority=1, needed_by=30), Req(2, 400, priority=3, needed_by=30)
    )
    offers = pledges(Pledge(10, 400, available_from=30), Pledge(11, 400, available_from=45))
    plain = match(reqs, offers)
    weighted = match(reqs, offers, policy=MatchPolicy(weight_delay_by_priority=True))
    assert plain.objective.delay_cost == weighted.objective.lateness_unit_days == 400 * 15
    assert allocation(weighted) == {(10, 1): 400, (11, 2): 400}
    assert weighted.objective.delay_cost == 400 * 15 * 3
