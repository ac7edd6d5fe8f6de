"""Hypothesis strategies for small random matching instances."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from coalition.matching import NO_GROUP, ExcludedPairs, MatchPolicy, PledgeArrays, RequirementArrays
from tests.unit.matching.factories import Pledge, Req, excluded, pledges, requirements

# Item types 0-2 share group 0, type 3 is in group 1 alone, types 4-5 have no group.
GROUP_OF_TYPE = {0: 0, 1: 0, 2: 0, 3: 1, 4: NO_GROUP, 5: NO_GROUP}


@dataclass(frozen=True)
class SmallInstance:
    requirements: RequirementArrays
    pledges: PledgeArrays
    excluded: ExcludedPairs
    policy: MatchPolicy


@st.composite
def small_instances(
    draw: st.DrawFn, max_requirements: int = 6, max_pledges: int = 8
) -> SmallInstance:
    n_req = draw(st.integers(1, max_requirements))
    n_pledge = draw(st.integers(1, max_pledges))
    types = st.sampled_from(sorted(GROUP_OF_TYPE))
    reqs = []
    for i in range(n_req):
        item = draw(types)
        reqs.append(
            Req(
                id=100 + i,
                quantity=draw(st.integers(0, 12)),
                priority=draw(st.integers(1, 5)),
                needed_by=draw(st.integers(0, 30)),
                item_type=item,
                group=GROUP_OF_TYPE[item],
            )
        )
    offers = []
    for j in range(n_pledge):
        item = draw(types)
        offers.append(
            Pledge(
                id=500 + j,
                quantity=draw(st.integers(0, 12)),
                available_from=draw(st.integers(0, 40)),
                item_type=item,
                group=GROUP_OF_TYPE[item],
                donor=draw(st.integers(1, 3)),
            )
        )
    # Declined pairs may name pledges or requirements that are no longer open.
    all_pairs = [(p.id, r.id) for p in offers for r in reqs] + [(999, 100), (500, 999)]
    declined = draw(st.lists(st.sampled_from(all_pairs), max_size=4, unique=True))
    max_late = draw(st.one_of(st.none(), st.integers(0, 20)))
    penalty = draw(st.sampled_from([0, 3, 7]))
    return SmallInstance(
        requirements=requirements(*reqs),
        pledges=pledges(*offers),
        excluded=excluded(*declined),
        policy=MatchPolicy(
            substitution_penalty_days=penalty,
            max_lateness_days=max_late,
            weight_delay_by_priority=draw(st.booleans()),
        ),
    )
