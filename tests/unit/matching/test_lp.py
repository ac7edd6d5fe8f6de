from __future__ import annotations

from coalition.matching import MatchPolicy, build_compatible_arcs, tier_costs
from coalition.matching.lp import lexicographic_lp
from coalition.matching.synthetic import synthetic_instance
from tests.unit.matching.factories import Pledge, Req, pledges, requirements


def test_lp_optimum_of_a_hand_checked_instance() -> None:
    # Best: pledge 11 (on time for need 1) to need 1, pledge 10 to need 2: nothing late.
    reqs = requirements(Req(1, 5, priority=1, needed_by=20), Req(2, 5, priority=2, needed_by=10))
    offers = pledges(Pledge(10, 5, available_from=0), Pledge(11, 5, available_from=15))
    arcs = build_compatible_arcs(reqs, offers)
    costs = tier_costs(reqs, offers, arcs, MatchPolicy())
    lp = lexicographic_lp(reqs, offers, arcs, costs)
    assert lp is not None
    assert (lp.weighted_met, lp.delay_cost) == (5 * 5 + 5 * 4, 0)


def test_lp_gives_up_at_the_time_limit() -> None:
    inst = synthetic_instance(
        n_requirements=300, n_pledges=600, target_pairs=20_000, supply_ratio=0.5, seed=3
    )
    arcs = build_compatible_arcs(inst.requirements, inst.pledges)
    costs = tier_costs(inst.requirements, inst.pledges, arcs, MatchPolicy())
    assert lexicographic_lp(inst.requirements, inst.pledges, arcs, costs, time_limit_s=1e-9) is None


def test_lp_by_component_equals_one_lp() -> None:
    inst = synthetic_instance(
        n_requirements=200, n_pledges=400, target_pairs=8_000, supply_ratio=0.7, seed=5
    )
    arcs = build_compatible_arcs(inst.requirements, inst.pledges, excluded=inst.excluded)
    costs = tier_costs(inst.requirements, inst.pledges, arcs, MatchPolicy())
    split = lexicographic_lp(inst.requirements, inst.pledges, arcs, costs, chunk_arcs=500)
    whole = lexicographic_lp(inst.requirements, inst.pledges, arcs, costs, by_component=False)
    assert split is not None
    assert whole is not None
    assert split.key() == whole.key()
