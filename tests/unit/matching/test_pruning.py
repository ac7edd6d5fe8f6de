"""Arcs no optimum can use are left out of the solver: same optimum, smaller networks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from coalition.matching import MatchPolicy, PledgeArrays, build_compatible_arcs, match, tier_costs
from coalition.matching.engine import dominated_arcs
from tests.unit.matching.factories import Pledge, Req, pledges, requirements
from tests.unit.matching.strategies import SmallInstance, small_instances


def _ample(inst: SmallInstance, factor: int) -> PledgeArrays:
    p = inst.pledges
    return PledgeArrays(p.id, p.quantity * factor, p.available_from, p.item_type,
                        p.compat_group, p.donor)


def test_late_arc_is_dominated_when_on_time_supply_covers_the_group() -> None:
    reqs = requirements(Req(1, 30, needed_by=10), Req(2, 20, needed_by=50))
    offers = pledges(Pledge(10, 50, available_from=0), Pledge(11, 40, available_from=40))
    arcs = build_compatible_arcs(reqs, offers)
    costs = tier_costs(reqs, offers, arcs, MatchPolicy())

    drop = dominated_arcs(reqs, offers, arcs, costs)

    # Need 1 could take pledge 11 (30 days late), but pledge 10 alone holds all 50 needed.
    dropped = {(int(offers.id[arcs.pledge[i]]), int(reqs.id[arcs.requirement[i]]))
               for i in np.flatnonzero(drop)}
    assert dropped == {(11, 1)}
    assert match(reqs, offers).proposals.quantity.sum() == 50


@settings(max_examples=150, deadline=None)
@given(small_instances(max_requirements=8, max_pledges=10))
def test_pruning_keeps_the_optimum_and_drops_only_unused_arcs(inst: SmallInstance) -> None:
    for factor in (1, 4):
        offers = _ample(inst, factor)
        pruned = match(inst.requirements, offers, excluded=inst.excluded, policy=inst.policy)
        full = match(inst.requirements, offers, excluded=inst.excluded, policy=inst.policy,
                     prune=False)
        assert pruned.objective.key() == full.objective.key()
        drop = dominated_arcs(inst.requirements, offers, full.arcs, full.costs)
        # The argument is strict: no optimum at all puts anything on a dominated arc.
        assert not np.any(full.flow[drop])
        assert not np.any(pruned.flow[drop])
