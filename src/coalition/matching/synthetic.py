"""Reproducible synthetic matching instances for benchmarks and property tests.

The shape mimics the contact group: a few dozen donors of very unequal size (Zipf), item
types clustered into compatibility groups of three (one main type and two substitutes), a
tenth of the demand in item types with no substitute, lognormal quantities, and dates that
make roughly a third of the supply arrive after it is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coalition.matching.arcs import build_compatible_arcs
from coalition.matching.arrays import (
    NO_GROUP,
    ExcludedPairs,
    Int64Array,
    PledgeArrays,
    RequirementArrays,
)

#: Share of requests per priority 1..5.
PRIORITY_MIX = (0.10, 0.20, 0.30, 0.25, 0.15)
TYPES_PER_GROUP = 3
#: How often each type of a group is requested/pledged: the main type, then two substitutes.
TYPE_MIX = (0.6, 0.25, 0.15)
UNGROUPED_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Instance:
    requirements: RequirementArrays
    pledges: PledgeArrays
    excluded: ExcludedPairs


def group_count(n_requirements: int, n_pledges: int, target_pairs: int) -> int:
    """Groups needed for about `target_pairs` compatible pairs.

    With group weights uniform on [0.5, 1.5] the expected pairs are
    grouped_R * grouped_P * E[w^2] / (E[w]^2 G) = grouped_R * grouped_P * (13/12) / G.
    """
    grouped = (1 - UNGROUPED_SHARE) ** 2 * n_requirements * n_pledges
    return max(1, round(grouped * 13 / 12 / max(target_pairs, 1)))


def synthetic_instance(
    *,
    n_requirements: int,
    n_pledges: int,
    target_pairs: int,
    supply_ratio: float,
    n_donors: int = 50,
    excluded_share: float = 0.001,
    seed: int = 0,
) -> Instance:
    """An instance whose total pledged quantity is `supply_ratio` times the total need."""
    rng = np.random.default_rng(seed)
    n_groups = group_count(n_requirements, n_pledges, target_pairs)
    n_ungrouped_types = max(1, n_groups)
    group_weight = rng.uniform(0.5, 1.5, n_groups)
    group_weight /= group_weight.sum()

    def item_columns(n: int) -> tuple[Int64Array, Int64Array]:
        grouped = rng.random(n) >= UNGROUPED_SHARE
        group = rng.choice(n_groups, size=n, p=group_weight)
        member = rng.choice(TYPES_PER_GROUP, size=n, p=TYPE_MIX)
        loose_type = n_groups * TYPES_PER_GROUP + rng.integers(0, n_ungrouped_types, n)
        item_type = np.where(grouped, group * TYPES_PER_GROUP + member, loose_type)
        compat_group = np.where(grouped, group, NO_GROUP)
        return item_type.astype(np.int64), compat_group.astype(np.int64)

    req_type, req_group = item_columns(n_requirements)
    need = np.clip(np.rint(rng.lognormal(np.log(100), 1.0, n_requirements)), 1, 5_000)
    requirements = RequirementArrays(
        id=np.arange(1, n_requirements + 1, dtype=np.int64),
        quantity=need.astype(np.int64),
        priority=rng.choice(np.arange(1, 6), size=n_requirements, p=PRIORITY_MIX),
        needed_by=rng.integers(0, 181, n_requirements),
        item_type=req_type,
        compat_group=req_group,
    )

    pledge_type, pledge_group = item_columns(n_pledges)
    raw = rng.lognormal(np.log(100), 1.0, n_pledges)
    raw *= supply_ratio * float(need.sum()) / float(raw.sum())
    donor_weight = 1.0 / np.arange(1, n_donors + 1) ** 1.1
    donor_weight /= donor_weight.sum()
    pledges = PledgeArrays(
        id=np.arange(1, n_pledges + 1, dtype=np.int64),
        quantity=np.maximum(np.rint(raw), 1).astype(np.int64),
        available_from=rng.integers(0, 241, n_pledges),
        item_type=pledge_type,
        compat_group=pledge_group,
        donor=rng.choice(np.arange(1, n_donors + 1), size=n_pledges, p=donor_weight),
    )

    arcs = build_compatible_arcs(requirements, pledges)
    n_excluded = round(excluded_share * len(arcs))
    pick = rng.choice(len(arcs), size=n_excluded, replace=False)
    excluded = ExcludedPairs(
        pledge_id=pledges.id[arcs.pledge[pick]],
        requirement_id=requirements.id[arcs.requirement[pick]],
    )
    return Instance(requirements=requirements, pledges=pledges, excluded=excluded)
