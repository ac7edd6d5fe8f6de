"""The optimal engine: the three-tier objective as integer min-cost flows (OR-Tools).

Pledges and requirements of different compatibility keys (see `arcs.match_key`) share no
arc, so each key is an independent problem. Keys are packed, whole, into batches of about
`BATCH_ARCS` arcs and each batch is one `SimpleMinCostFlow` call, weighted by its own bound.
Network of a batch, with P pledges, R requirements and one sink T (n = P + R + 1 nodes)::

    pledge p (supply q_p) --[cap min(q_p, d_r), cost W2*delay(p,r) + split(r,donor(p))]--> req r
    req r                 --[cap d_r,            cost -W1*value(r)]-----------------------> T
    pledge p              --[cap q_p,            cost 0 (supply left unallocated)]--------> T
    T has demand -sum(q_p)

Any feasible flow is an allocation and its cost is ``-W1*T1 + W2*T2 + T3`` (T1 the
priority-weighted quantity met, T2 the delay cost, T3 the split surrogate; see
`coalition.matching.objective`). The weights make the order strict:

**Bound.** Let x be a min-cost flow and y any other integral flow. y - x splits into elementary
cycles of x's residual graph. Every cycle passes through T at most once, and the pair arcs
join only rows with the same match key, so a cycle stays inside one compatibility key; its
forward pair arcs enter distinct requirements and leave distinct pledges, so there are at
most ``K = max over the batch's keys of min(pledges, requirements)`` of them. Per unit pushed
around a cycle, T1 changes by an integer (it touches at most two sink arcs), T2 rises by at most
``K * DELAY_MAX`` and T3 by at most ``K * SPLIT_MAX`` (backward arcs only lower them). With::

    W2 = K * SPLIT_MAX + 1
    W1 = K * (W2 * DELAY_MAX + SPLIT_MAX) + 1

one unit pushed around a cycle that raises T1 changes the cost by at most
``-W1 + K * (W2 * DELAY_MAX + SPLIT_MAX) < 0``; one that keeps T1 and lowers T2, by at most
``-W2 + K * SPLIT_MAX < 0``. An optimal x has no negative residual cycle, so no cycle of y - x
raises T1; if y met more weighted need than x, one would have to. If T1(y) = T1(x), every
cycle keeps T1, none lowers T2, and those keeping T2 cost exactly their T3 change, which is
>= 0. Hence x is lexicographically optimal for (T1, T2, T3): tiers 1 and 2 exactly, tier 3
exactly for its linear surrogate.

The bound depends on the number of rows per key and the largest delay, never on quantities,
so the integer costs stay far inside int64 (OR-Tools scales costs by n + 1 and rejects any
above int64_max / (2 (n + 1))). Should an instance still overflow, tier 3 is dropped
(``TierWeights.split_tier = False``), shrinking the weights to ``W2 = 1, W1 = K * DELAY_MAX +
1``; tiers 1 and 2 stay exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from coalition.matching.arcs import CompatibleArcs, build_compatible_arcs, match_key
from coalition.matching.arrays import (
    BoolArray,
    ExcludedPairs,
    Int64Array,
    PledgeArrays,
    RequirementArrays,
)
from coalition.matching.objective import (
    PRIORITY_WEIGHTS,
    MatchPolicy,
    TierCosts,
    evaluate,
    tier_costs,
)
from coalition.matching.result import MatchResult, Timings, proposals_from_flow

Int32Array = NDArray[np.int32]

_INT64_MAX: Final = np.iinfo(np.int64).max
#: Compatibility keys are independent problems; small ones are packed into solver calls of
#: about this many arcs so that per-call overhead stays negligible.
BATCH_ARCS: Final = 128
#: Delay-cost thresholds tried per requirement by `dominated_arcs` (days, or weighted days).
PRUNE_THRESHOLDS: Final = (1, 8, 31, 91, 181, 366, 731)


class SolverFailed(RuntimeError):
    """OR-Tools returned a status other than OPTIMAL."""


class EncodingOverflow(ValueError):
    """The instance's weights do not fit in int64 even without the split tier."""


@dataclass(frozen=True, slots=True)
class TierWeights:
    """The scalarisation weights of one instance and the quantities they were derived from."""

    w1: int
    w2: int
    cycle_bound: int
    """K: most forward pair arcs an elementary residual cycle can hold."""
    delay_max: int
    split_max: int
    split_tier: bool
    """False when tier 3 had to be dropped to stay within int64."""
    max_abs_cost: int


@dataclass(frozen=True, slots=True)
class FlowNetwork:
    """Arrays for one `SimpleMinCostFlow` call over a contiguous run of compatibility keys.

    Its first `n_pair_arcs` arcs are the compatible arcs ``arc_start:arc_stop`` in order;
    nodes are numbered locally: the batch's pledges, then its requirements, then the sink.
    """

    tails: Int32Array
    heads: Int32Array
    capacities: Int64Array
    unit_costs: Int64Array
    supplies: Int64Array
    arc_start: int
    arc_stop: int
    weights: TierWeights

    @property
    def n_pair_arcs(self) -> int:
        return self.arc_stop - self.arc_start

    @property
    def num_nodes(self) -> int:
        return len(self.supplies)

    @property
    def num_arcs(self) -> int:
        return len(self.tails)


def tier_weights(k: int, delay_max: int, split_max: int, num_nodes: int) -> TierWeights:
    """W1 and W2 per the bound in the module docstring; drops tier 3 only if int64 demands it."""
    value_max = max(PRIORITY_WEIGHTS)
    # OR-Tools multiplies costs by (n + 1) and keeps twice that headroom for potentials.
    limit = _INT64_MAX // (2 * (num_nodes + 1))
    for split_tier in (True, False):
        s_max = split_max if split_tier else 0
        # Python ints: the comparison itself cannot overflow.
        w2 = k * s_max + 1
        w1 = k * (w2 * delay_max + s_max) + 1
        max_abs = max(w1 * value_max, w2 * delay_max + s_max)
        if max_abs <= limit:
            return TierWeights(w1, w2, k, delay_max, s_max, split_tier, max_abs)
    raise EncodingOverflow(
        f"delays up to {delay_max} days over {k} rows per compatibility group do not fit an "
        "exact int64 encoding; set MatchPolicy.max_lateness_days"
    )


def _local_numbering(batch_of_row: Int64Array, n_batches: int) -> tuple[Int64Array, Int64Array]:
    """Rows ordered by batch (-1 = in none) and each row's index inside its batch."""
    inside = np.flatnonzero(batch_of_row >= 0)
    ordered = inside[np.argsort(batch_of_row[inside], kind="stable")]
    size = np.bincount(batch_of_row[ordered], minlength=n_batches)
    first = np.cumsum(size) - size
    local = np.full(len(batch_of_row), -1, np.int64)
    local[ordered] = np.arange(len(ordered)) - np.repeat(first, size)
    return ordered, local


def build_networks(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
    *,
    batch_arcs: int = BATCH_ARCS,
) -> list[FlowNetwork]:
    """One network per batch of whole compatibility keys, weighted by its own bound.

    Different keys share no pledge and no requirement, so their flows are independent
    problems; solving them apart gives each a bound K from its own keys and smaller costs,
    and keeps every solver call small.
    """
    n = len(arcs)
    if n == 0:
        return []
    # Keys in arc order, from the requirements (each key's arcs form one contiguous block).
    served = np.flatnonzero(arcs.requirement_count > 0)
    served = served[np.argsort(arcs.requirement_start[served], kind="stable")]
    served_key = match_key(requirements.item_type, requirements.compat_group)[served]
    new_key = np.ones(len(served), np.bool_)
    new_key[1:] = served_key[1:] != served_key[:-1]
    keys = served_key[new_key]
    key_start = arcs.requirement_start[served[new_key]]
    n_keys = len(keys)
    req_key = np.full(len(requirements), -1, np.int64)
    req_key[served] = np.cumsum(new_key) - 1
    # A pledge with quantity joins its key's network; if every one of its pairs was excluded
    # it only gets its unallocated-supply arc, which is harmless.
    by_key = np.argsort(keys)
    pledge_match = match_key(pledges.item_type, pledges.compat_group)
    pos = np.minimum(np.searchsorted(keys[by_key], pledge_match), n_keys - 1)
    in_run = (keys[by_key][pos] == pledge_match) & (pledges.quantity > 0)
    pledge_key = np.where(in_run, by_key[pos], -1)
    rows_per_key = np.minimum(
        np.bincount(pledge_key[pledge_key >= 0], minlength=n_keys),
        np.bincount(req_key[req_key >= 0], minlength=n_keys),
    )

    # A batch starts at the first key starting at or after each multiple of batch_arcs.
    first_key = np.unique(np.searchsorted(key_start, np.arange(0, n, max(batch_arcs, 1))))
    first_key = first_key[first_key < n_keys]
    n_batches = len(first_key)
    batch_start = key_start[first_key]
    batch_stop = np.append(batch_start[1:], n)
    batch_k = np.maximum.reduceat(rows_per_key, first_key)
    batch_delay = np.maximum.reduceat(costs.delay, batch_start)
    batch_split = np.maximum.reduceat(costs.split, batch_start)
    batch_of_key = np.repeat(np.arange(n_batches), np.diff(np.append(first_key, n_keys)))
    pledge_batch = np.where(pledge_key >= 0, batch_of_key[pledge_key], -1)
    req_batch = np.where(req_key >= 0, batch_of_key[req_key], -1)
    pledge_rows, pledge_local = _local_numbering(pledge_batch, n_batches)
    req_rows, req_local = _local_numbering(req_batch, n_batches)
    pledges_in = np.bincount(pledge_batch[pledge_rows], minlength=n_batches)
    reqs_in = np.bincount(req_batch[req_rows], minlength=n_batches)

    weights = [
        tier_weights(
            int(batch_k[b]),
            int(batch_delay[b]),
            int(batch_split[b]),
            int(pledges_in[b] + reqs_in[b]) + 1,
        )
        for b in range(n_batches)
    ]
    # Per-arc and per-row arrays for all batches at once; the loop below only slices them.
    arcs_in = batch_stop - batch_start
    w1 = np.array([w.w1 for w in weights], np.int64)
    w2 = np.array([w.w2 for w in weights], np.int64)
    split_on = np.array([w.split_tier for w in weights], np.bool_)
    pair_tail = pledge_local[arcs.pledge].astype(np.int32)
    pair_head = (np.repeat(pledges_in, arcs_in) + req_local[arcs.requirement]).astype(np.int32)
    pair_cap = np.minimum(pledges.quantity[arcs.pledge], requirements.quantity[arcs.requirement])
    pair_cost = np.repeat(w2, arcs_in) * costs.delay
    pair_cost += np.where(np.repeat(split_on, arcs_in), costs.split, 0)
    need = requirements.quantity[req_rows]
    req_cost = -np.repeat(w1, reqs_in) * costs.value[req_rows]
    quantity = pledges.quantity[pledge_rows]

    networks = []
    p_first = r_first = 0
    for b in range(n_batches):
        lo, hi = int(batch_start[b]), int(batch_stop[b])
        n_p, n_r = int(pledges_in[b]), int(reqs_in[b])
        p_slice = slice(p_first, p_first + n_p)
        r_slice = slice(r_first, r_first + n_r)
        p_first += n_p
        r_first += n_r
        sink = n_p + n_r
        networks.append(
            FlowNetwork(
                tails=np.concatenate(
                    [
                        pair_tail[lo:hi],
                        np.arange(n_p, sink, dtype=np.int32),
                        np.arange(n_p, dtype=np.int32),
                    ]
                ),
                heads=np.concatenate([pair_head[lo:hi], np.full(sink, sink, np.int32)]),
                capacities=np.concatenate([pair_cap[lo:hi], need[r_slice], quantity[p_slice]]),
                unit_costs=np.concatenate(
                    [pair_cost[lo:hi], req_cost[r_slice], np.zeros(n_p, np.int64)]
                ),
                supplies=np.concatenate(
                    [quantity[p_slice], np.zeros(n_r, np.int64), [-int(quantity[p_slice].sum())]]
                ),
                arc_start=lo,
                arc_stop=hi,
                weights=weights[b],
            )
        )
    return networks


def dominated_arcs(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
) -> BoolArray:
    """Arcs that no optimal matching uses, so the solver need not see them.

    For a requirement r, take a threshold T such that its arcs of delay cost below T come from
    pledges holding together at least D, the whole remaining need of r's compatibility key.
    Then no optimum sends anything over an arc of r with delay cost >= T: if one sent x > 0,
    the pledges of the cheaper arcs would carry at most D - x in all (every unit of the key
    ends in one of its needs), so one of them has quantity to spare; moving units from the
    expensive arc to that pledge's arc into r keeps every quantity met (tier 1), and lowers
    the per-unit cost ``W2 * delay + split``, since ``split < W2`` and the delay falls by at
    least one. That contradicts optimality, so the optima of the pruned network are exactly
    those of the full one (same objective on all three tiers).

    Ample supply prunes most late and substitute arcs; scarce supply prunes nothing. Costs
    O(arcs): one histogram of delay buckets per requirement, no sort.
    """
    n_req = len(requirements)
    thresholds = np.asarray(PRUNE_THRESHOLDS, np.int64)
    if not len(arcs) or not n_req:
        return np.zeros(len(arcs), np.bool_)
    keys, req_key = np.unique(match_key(requirements.item_type, requirements.compat_group),
                              return_inverse=True)
    req_key = req_key.reshape(-1)
    key_need = np.bincount(req_key, weights=requirements.quantity, minlength=len(keys))
    pledge_key = np.searchsorted(keys, match_key(pledges.item_type, pledges.compat_group))
    pledge_key = np.minimum(pledge_key, len(keys) - 1)
    in_keys = keys[pledge_key] == match_key(pledges.item_type, pledges.compat_group)
    key_supply = np.bincount(pledge_key[in_keys], weights=pledges.quantity[in_keys],
                             minlength=len(keys))
    # Only a key whose supply exceeds its need can have cheap arcs holding the whole need.
    candidate = (key_supply >= key_need)[req_key]
    on = np.flatnonzero(candidate[arcs.requirement])
    drop = np.zeros(len(arcs), np.bool_)
    if not len(on):
        return drop
    need = key_need[req_key]
    # bucket b: delay in [T[b-1], T[b]); an arc has delay < T[k] iff its bucket <= k.
    n_buckets = len(thresholds) + 1
    bucket = np.searchsorted(thresholds, costs.delay[on], side="right")
    supply = np.bincount(
        arcs.requirement[on] * n_buckets + bucket,
        weights=pledges.quantity[arcs.pledge[on]],
        minlength=n_req * n_buckets,
    ).reshape(n_req, n_buckets)
    enough = np.cumsum(supply, axis=1)[:, : len(thresholds)] >= need[:, None]
    # First (smallest) threshold that suffices, or n_buckets when none does (keep all).
    first = np.where(enough.any(axis=1), enough.argmax(axis=1), n_buckets)
    drop[on] = bucket > first[arcs.requirement[on]]
    return drop


def _without(arcs: CompatibleArcs, costs: TierCosts, drop: BoolArray
             ) -> tuple[CompatibleArcs, TierCosts, Int64Array]:
    """The arcs (and their costs) not dropped, still grouped by requirement, and their index
    in the full arrays."""
    keep = np.flatnonzero(~drop)
    count = arcs.requirement_count - np.bincount(arcs.requirement[drop],
                                                 minlength=len(arcs.requirement_count))
    served = np.flatnonzero(arcs.requirement_count > 0)
    served = served[np.argsort(arcs.requirement_start[served], kind="stable")]
    start = np.zeros(len(count), np.int64)
    start[served] = np.cumsum(count[served]) - count[served]
    kept = CompatibleArcs(
        pledge=arcs.pledge[keep], requirement=arcs.requirement[keep],
        lateness=arcs.lateness[keep], substitution=arcs.substitution[keep],
        requirement_start=start, requirement_count=count, excluded=arcs.excluded,
        too_late=arcs.too_late,
    )
    return kept, TierCosts(costs.value, costs.delay[keep], costs.split[keep]), keep


def solve_network(network: FlowNetwork) -> Int64Array:
    """Flow on every arc of an optimal solution (the bare OR-Tools call)."""
    solver = min_cost_flow.SimpleMinCostFlow()
    arc_ids = solver.add_arcs_with_capacity_and_unit_cost(
        network.tails, network.heads, network.capacities, network.unit_costs
    )
    solver.set_nodes_supplies(np.arange(network.num_nodes, dtype=np.int32), network.supplies)
    status = solver.solve()
    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
        raise SolverFailed(f"min-cost flow ended with status {status.name}")
    return np.asarray(solver.flows(arc_ids), dtype=np.int64)


def solve_networks(networks: list[FlowNetwork], n_arcs: int) -> Int64Array:
    """Quantity on each compatible arc, from solving every batch."""
    flow = np.zeros(n_arcs, np.int64)
    for network in networks:
        flow[network.arc_start : network.arc_stop] = solve_network(network)[: network.n_pair_arcs]
    return flow


def solver_networks(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
    *,
    prune: bool = True,
    batch_arcs: int = BATCH_ARCS,
) -> tuple[list[FlowNetwork], Int64Array | None]:
    """The networks `match` solves: without `dominated_arcs` when `prune`; the second value
    maps their pair arcs back to `arcs` (None: all arcs, in order)."""
    if prune:
        drop = dominated_arcs(requirements, pledges, arcs, costs)
        if drop.any():
            kept, kept_costs, index = _without(arcs, costs, drop)
            return build_networks(requirements, pledges, kept, kept_costs,
                                  batch_arcs=batch_arcs), index
    return build_networks(requirements, pledges, arcs, costs, batch_arcs=batch_arcs), None


def match(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    *,
    excluded: ExcludedPairs | None = None,
    policy: MatchPolicy | None = None,
    prune: bool = True,
    batch_arcs: int = BATCH_ARCS,
) -> MatchResult:
    """Propose the allocation that is optimal for the three-tier objective.

    Every pledge is committed at most up to its quantity and every requirement served at most
    up to its remaining need; only compatible, non-excluded pairs are used. `prune=False`
    hands the solver every compatible arc (same optimum, see `dominated_arcs`; for checks).
    Where optima tie, which one comes back depends on how keys were packed into solver
    calls; `batch_arcs=1` solves every key alone, so that a key's answer depends on its own
    rows only (withdrawal scenarios compare a key solved in two different instances).
    """
    policy = policy or MatchPolicy()
    excluded = excluded if excluded is not None else ExcludedPairs.empty()
    started = time.perf_counter()
    arcs = build_compatible_arcs(
        requirements, pledges, excluded=excluded, max_lateness_days=policy.max_lateness_days
    )
    costs = tier_costs(requirements, pledges, arcs, policy)
    networks, index = solver_networks(requirements, pledges, arcs, costs, prune=prune,
                                      batch_arcs=batch_arcs)
    built = time.perf_counter()
    if index is None:
        flow = solve_networks(networks, len(arcs))
    else:
        flow = np.zeros(len(arcs), np.int64)
        flow[index] = solve_networks(networks, len(index))
    solved = time.perf_counter()
    proposals = proposals_from_flow(requirements, pledges, arcs, flow)
    objective = evaluate(requirements, pledges, arcs, costs, flow)
    done = time.perf_counter()
    return MatchResult(
        requirements=requirements,
        pledges=pledges,
        excluded=excluded,
        policy=policy,
        arcs=arcs,
        costs=costs,
        flow=flow,
        proposals=proposals,
        objective=objective,
        weights=tuple(network.weights for network in networks),
        num_nodes=sum(network.num_nodes for network in networks),
        num_arcs=sum(network.num_arcs for network in networks),
        timings=Timings(build_s=built - started, solve_s=solved - built, extract_s=done - solved),
    )
