"""The baseline a coordinator would do by hand: serve the most urgent needs first, greedily.

Requirements are taken by (priority, needed-by day, id); each takes from its compatible pledges
in order of delay cost (lateness + substitution penalty), then split cost, then pledge row,
as much as it still needs. It is fast and reasonable but not optimal: an early need can take a
pledge that was the only option of a later, equally urgent one, or take on-time stock that a
slightly later need could not do without.
"""

from __future__ import annotations

import numpy as np

from coalition.matching.arcs import CompatibleArcs
from coalition.matching.arrays import Int64Array, PledgeArrays, RequirementArrays
from coalition.matching.objective import TierCosts


def greedy_allocate(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
) -> Int64Array:
    """Quantity per compatible arc chosen by the priority-first greedy rule."""
    flow = np.zeros(len(arcs), np.int64)
    if not len(arcs):
        return flow
    # Arcs of one requirement are contiguous; sorting by (block start, delay, split, pledge)
    # keeps each block in place and orders it by preference.
    block = arcs.requirement_start[arcs.requirement]
    order = np.lexsort((arcs.pledge, costs.split, costs.delay, block))
    req_order = np.lexsort((requirements.id, requirements.needed_by, requirements.priority))
    remaining = pledges.quantity.copy()
    for row in req_order.tolist():
        count = int(arcs.requirement_count[row])
        if not count:
            continue
        start = int(arcs.requirement_start[row])
        arc_ids = order[start : start + count]
        available = remaining[arcs.pledge[arc_ids]]
        before = np.cumsum(available) - available
        take = np.clip(int(requirements.quantity[row]) - before, 0, available)
        flow[arc_ids] = take
        remaining[arcs.pledge[arc_ids]] -= take
    return flow
