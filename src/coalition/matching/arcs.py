"""Which pledge may serve which requirement: the compatible pairs, built with numpy only.

A pledge can serve a requirement of the same item type, or of another item type in the same
compatibility group (a substitution). Both sides are reduced to a *match key* (the group, or
the item type itself when it has no group); every pledge/requirement pair that shares a key is
compatible unless it was excluded (declined earlier) or is later than an optional limit.

Arcs come out grouped by requirement and, inside a requirement, ordered by donor, so that the
arcs of one requirement and the arcs of one (requirement, donor) pair are contiguous slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coalition.matching.arrays import (
    NO_GROUP,
    BoolArray,
    ExcludedPairs,
    Int64Array,
    PledgeArrays,
    RequirementArrays,
    check_item_groups,
)


@dataclass(frozen=True, slots=True)
class CompatibleArcs:
    """Compatible (pledge, requirement) pairs as parallel arrays of row indices."""

    pledge: Int64Array
    """Row in `PledgeArrays` of each arc."""
    requirement: Int64Array
    """Row in `RequirementArrays` of each arc."""
    lateness: Int64Array
    """Days the pledge becomes available after the requirement's needed-by day (>= 0)."""
    substitution: BoolArray
    """True when the pledge's item type differs from the requirement's."""
    requirement_start: Int64Array
    """Per requirement row, index of its first arc (its arcs are contiguous)."""
    requirement_count: Int64Array
    """Per requirement row, number of arcs."""
    excluded: int
    """Compatible pairs dropped because they were excluded (declined)."""
    too_late: int
    """Compatible pairs dropped because they exceed the lateness limit."""

    def __len__(self) -> int:
        return len(self.pledge)

    def of_requirement(self, row: int) -> slice:
        start = int(self.requirement_start[row])
        return slice(start, start + int(self.requirement_count[row]))


def match_key(item_type: Int64Array, compat_group: Int64Array) -> Int64Array:
    """One integer per row: equal keys are compatible.

    Ungrouped item types map to negative keys (-2 - type) so they never collide with a group id.
    """
    return np.where(compat_group == NO_GROUP, -2 - item_type, compat_group)


def pair_key(requirement_row: Int64Array, pledge_row: Int64Array, n_pledges: int) -> Int64Array:
    return requirement_row * np.int64(max(n_pledges, 1)) + pledge_row


def excluded_pair_keys(
    requirements: RequirementArrays, pledges: PledgeArrays, excluded: ExcludedPairs
) -> Int64Array:
    """Sorted `pair_key`s of the excluded pairs whose pledge and requirement are both present."""
    if not len(excluded):
        return np.empty(0, np.int64)
    req_rows = _rows_of(requirements.id, excluded.requirement_id)
    pledge_rows = _rows_of(pledges.id, excluded.pledge_id)
    known = (req_rows >= 0) & (pledge_rows >= 0)
    return np.unique(pair_key(req_rows[known], pledge_rows[known], len(pledges)))


def _rows_of(ids: Int64Array, wanted: Int64Array) -> Int64Array:
    """Row of each wanted id in `ids`, or -1 where absent."""
    rows = np.full(len(wanted), -1, np.int64)
    if not len(ids) or not len(wanted):
        return rows
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(ids) - 1)
    found = sorted_ids[pos] == wanted
    rows[found] = order[pos[found]]
    return rows


def build_compatible_arcs(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    *,
    excluded: ExcludedPairs | None = None,
    max_lateness_days: int | None = None,
) -> CompatibleArcs:
    """All pairs a pledge with remaining quantity may serve a requirement with remaining need.

    Rows with zero quantity get no arcs. Runs in O(pairs) numpy work: both sides are sorted by
    match key once, then each requirement is paired with its key's block of pledges through
    `np.repeat` arithmetic, with no Python loop over rows or pairs.
    """
    check_item_groups(requirements, pledges)
    n_req = len(requirements)
    req_key = match_key(requirements.item_type, requirements.compat_group)
    pledge_key = match_key(pledges.item_type, pledges.compat_group)

    req_rows = np.flatnonzero(requirements.quantity > 0)
    req_rows = req_rows[np.argsort(req_key[req_rows], kind="stable")]
    pledge_rows = np.flatnonzero(pledges.quantity > 0)
    # Donor order inside a key block makes each (requirement, donor) run contiguous.
    pledge_rows = pledge_rows[
        np.lexsort((pledge_rows, pledges.donor[pledge_rows], pledge_key[pledge_rows]))
    ]
    block_keys, block_start, block_size = np.unique(
        pledge_key[pledge_rows], return_index=True, return_counts=True
    )

    keys_of_reqs = req_key[req_rows]
    block = np.searchsorted(block_keys, keys_of_reqs)
    block = np.minimum(block, max(len(block_keys) - 1, 0))
    if len(block_keys):
        has_block = block_keys[block] == keys_of_reqs
        per_req = np.where(has_block, block_size[block], 0)
        first = block_start[block]
    else:
        per_req = np.zeros(len(req_rows), np.int64)
        first = np.zeros(len(req_rows), np.int64)

    total = int(per_req.sum())
    arc_req = np.repeat(req_rows, per_req)
    # Position inside the sorted pledge list: block start + offset of the arc in its run.
    run_start = np.cumsum(per_req) - per_req
    arc_pos = np.arange(total, dtype=np.int64) - np.repeat(run_start - first, per_req)
    arc_pledge = pledge_rows[arc_pos]

    lateness = np.maximum(pledges.available_from[arc_pledge] - requirements.needed_by[arc_req], 0)
    drop = np.zeros(total, np.bool_)
    n_excluded = n_too_late = 0
    if excluded is not None and len(excluded):
        # Locate each excluded pair's arc arithmetically instead of searching 1M pair keys.
        order_of_req = np.full(n_req, -1, np.int64)
        order_of_req[req_rows] = np.arange(len(req_rows))
        order_of_pledge = np.full(len(pledges), -1, np.int64)
        order_of_pledge[pledge_rows] = np.arange(len(pledge_rows))
        r = _rows_of(requirements.id, excluded.requirement_id)
        p = _rows_of(pledges.id, excluded.pledge_id)
        known = (r >= 0) & (p >= 0)
        i, j = order_of_req[r[known]], order_of_pledge[p[known]]
        # -1: the row has no quantity, hence no arcs.
        known = (i >= 0) & (j >= 0)
        i, j = i[known], j[known]
        offset = j - first[i]
        in_block = (offset >= 0) & (offset < per_req[i])
        banned = np.unique(run_start[i[in_block]] + offset[in_block])
        drop[banned] = True
        n_excluded = len(banned)
    if max_lateness_days is not None:
        too_late = (lateness > max_lateness_days) & ~drop
        n_too_late = int(too_late.sum())
        drop |= too_late
    count = np.zeros(n_req, np.int64)
    count[req_rows] = per_req
    if n_excluded or n_too_late:
        count -= np.bincount(arc_req[drop], minlength=n_req)
        keep = ~drop
        arc_req, arc_pledge, lateness = arc_req[keep], arc_pledge[keep], lateness[keep]

    substitution = pledges.item_type[arc_pledge] != requirements.item_type[arc_req]
    start = np.zeros(n_req, np.int64)
    ordered_count = count[req_rows]
    start[req_rows] = np.cumsum(ordered_count) - ordered_count
    return CompatibleArcs(
        pledge=arc_pledge,
        requirement=arc_req,
        lateness=lateness,
        substitution=substitution,
        requirement_start=start,
        requirement_count=count,
        excluded=n_excluded,
        too_late=n_too_late,
    )


def donor_runs(arcs: CompatibleArcs, donor_of_pledge: Int64Array) -> Int64Array:
    """Start index of each run of arcs sharing (requirement, donor); arcs are ordered so."""
    if not len(arcs):
        return np.empty(0, np.int64)
    donor = donor_of_pledge[arcs.pledge]
    change = (arcs.requirement[1:] != arcs.requirement[:-1]) | (donor[1:] != donor[:-1])
    return np.concatenate([np.zeros(1, np.int64), np.flatnonzero(change) + 1])
