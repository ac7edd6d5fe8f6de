"""Independent check of the engine: the same objective solved as three LPs with HiGHS (scipy).

No weights and no network: one variable per compatible pair, one row per pledge and per
requirement, and the tiers optimised one after another, each later LP constrained to keep the
earlier optimum. Transportation LPs have integral vertices, so the three optima are integers
and must equal the engine's (T1, T2, T3) exactly; this verifies the weight bound of
`coalition.matching.engine` as much as the solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_array, csr_array, vstack
from scipy.sparse.csgraph import connected_components

from coalition.matching.arcs import CompatibleArcs
from coalition.matching.arrays import Int64Array, PledgeArrays, RequirementArrays
from coalition.matching.objective import TierCosts

# A stage's optimum is integral; the LP returns it within the solver tolerance.
_INTEGRALITY_TOLERANCE = 1e-6
#: Components are packed into LPs of about this many variables.
COMPONENT_CHUNK_ARCS = 20_000


class LpFailed(RuntimeError):
    """HiGHS did not reach an optimum (infeasible, numerical trouble)."""


@dataclass(frozen=True, slots=True)
class LpOptimum:
    weighted_met: int
    delay_cost: int
    split_cost: int
    seconds: float

    def key(self) -> tuple[int, int, int]:
        return (-self.weighted_met, self.delay_cost, self.split_cost)


def lexicographic_lp(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
    *,
    time_limit_s: float | None = None,
    by_component: bool = True,
    chunk_arcs: int = COMPONENT_CHUNK_ARCS,
) -> LpOptimum | None:
    """The lexicographic optimum, or None when `time_limit_s` ran out first.

    With `by_component`, the connected components of the pledge/requirement graph (found by
    scipy, not taken from the engine) are solved apart, packed into LPs of about `chunk_arcs`
    variables: the constraint matrix is block-diagonal and each tier is a sum over blocks, so
    the lexicographic optimum is the sum of the blocks' optima.
    """
    started = time.perf_counter()
    deadline = None if time_limit_s is None else started + time_limit_s
    n = len(arcs)
    if n == 0:
        return LpOptimum(0, 0, 0, time.perf_counter() - started)
    if by_component:
        n_p = len(pledges)
        graph = coo_array(
            (np.ones(n), (arcs.pledge, n_p + arcs.requirement)),
            shape=(n_p + len(requirements),) * 2,
        )
        _, label = connected_components(graph, directed=False)
        order = np.argsort(label[arcs.pledge], kind="stable")
        sorted_label = label[arcs.pledge][order]
        boundaries = np.flatnonzero(np.diff(sorted_label)) + 1
        # Cut at the first component boundary at or after each multiple of the chunk size.
        pick = np.searchsorted(boundaries, np.arange(chunk_arcs, n, max(chunk_arcs, 1)))
        cuts = np.unique(boundaries[pick[pick < len(boundaries)]])
        chunks = np.split(order, cuts)
    else:
        chunks = [np.arange(n)]
    totals = [0, 0, 0]
    for chunk in chunks:
        optima = _solve_stages(requirements, pledges, arcs, costs, chunk, deadline)
        if optima is None:
            return None
        totals = [t + o for t, o in zip(totals, optima, strict=True)]
    return LpOptimum(
        weighted_met=-totals[0],
        delay_cost=totals[1],
        split_cost=totals[2],
        seconds=time.perf_counter() - started,
    )


def _solve_stages(
    requirements: RequirementArrays,
    pledges: PledgeArrays,
    arcs: CompatibleArcs,
    costs: TierCosts,
    chunk: Int64Array,
    deadline: float | None,
) -> list[int] | None:
    """Optima of -T1, T2, T3 over the arcs in `chunk`, one LP per tier."""
    n = len(chunk)
    pledge_rows, local_p = np.unique(arcs.pledge[chunk], return_inverse=True)
    req_rows, local_r = np.unique(arcs.requirement[chunk], return_inverse=True)
    columns = np.arange(n)
    ones = np.ones(n)
    supply_rows = csr_array((ones, (local_p, columns)), shape=(len(pledge_rows), n))
    demand_rows = csr_array((ones, (local_r, columns)), shape=(len(req_rows), n))
    a_ub = vstack([supply_rows, demand_rows], format="csr")
    b_ub = np.concatenate([pledges.quantity[pledge_rows], requirements.quantity[req_rows]]).astype(
        np.float64
    )
    upper = np.minimum(
        pledges.quantity[arcs.pledge[chunk]], requirements.quantity[arcs.requirement[chunk]]
    )
    bounds = np.column_stack([np.zeros(n), upper.astype(np.float64)])

    value = costs.value[arcs.requirement[chunk]].astype(np.float64)
    extra_rows: list[NDArray[np.float64]] = []
    extra_rhs: list[float] = []
    optima: list[int] = []
    delay = costs.delay[chunk].astype(np.float64)
    split = costs.split[chunk].astype(np.float64)
    for objective in (-value, delay, split):
        options: dict[str, float | bool] = {"presolve": True}
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            options["time_limit"] = remaining
        if extra_rows:
            a = vstack([a_ub, csr_array(np.vstack(extra_rows))], format="csr")
            b = np.concatenate([b_ub, extra_rhs])
        else:
            a, b = a_ub, b_ub
        res = linprog(objective, A_ub=a, b_ub=b, bounds=bounds, method="highs", options=options)
        if res.status == 1:
            return None
        if res.status != 0:
            raise LpFailed(f"HiGHS: {res.message}")
        optimum = round(float(res.fun))
        if abs(float(res.fun) - optimum) > _INTEGRALITY_TOLERANCE * max(1.0, abs(optimum)):
            raise LpFailed(f"non-integral LP optimum {res.fun!r}")
        optima.append(optimum)
        # Keep this tier at its optimum while the next one is optimised.
        extra_rows.append(objective)
        extra_rhs.append(float(optimum))
    return optima
