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
from scipy.sparse import csr_array, vstack

from coalition.matching.arcs import CompatibleArcs
from coalition.matching.arrays import PledgeArrays, RequirementArrays
from coalition.matching.objective import TierCosts

# A stage's optimum is integral; the LP returns it within the solver tolerance.
_INTEGRALITY_TOLERANCE = 1e-6


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
) -> LpOptimum | None:
    """The lexicographic optimum, or None when `time_limit_s` ran out first."""
    started = time.perf_counter()
    n = len(arcs)
    if n == 0:
        return LpOptimum(0, 0, 0, time.perf_counter() - started)
    columns = np.arange(n)
    ones = np.ones(n)
    supply_rows = csr_array((ones, (arcs.pledge, columns)), shape=(len(pledges), n))
    demand_rows = csr_array((ones, (arcs.requirement, columns)), shape=(len(requirements), n))
    a_ub = vstack([supply_rows, demand_rows], format="csr")
    b_ub = np.concatenate([pledges.quantity, requirements.quantity]).astype(np.float64)
    upper = np.minimum(pledges.quantity[arcs.pledge], requirements.quantity[arcs.requirement])
    bounds = np.column_stack([np.zeros(n), upper.astype(np.float64)])

    value = costs.value[arcs.requirement].astype(np.float64)
    delay = costs.delay.astype(np.float64)
    split = costs.split.astype(np.float64)
    extra_rows: list[NDArray[np.float64]] = []
    extra_rhs: list[float] = []
    optima: list[int] = []
    for objective in (-value, delay, split):
        remaining = None
        if time_limit_s is not None:
            remaining = time_limit_s - (time.perf_counter() - started)
            if remaining <= 0:
                return None
        if extra_rows:
            a = vstack([a_ub, csr_array(np.vstack(extra_rows))], format="csr")
            b = np.concatenate([b_ub, extra_rhs])
        else:
            a, b = a_ub, b_ub
        options: dict[str, float | bool] = {"presolve": True}
        if remaining is not None:
            options["time_limit"] = remaining
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
    return LpOptimum(
        weighted_met=-optima[0],
        delay_cost=optima[1],
        split_cost=optima[2],
        seconds=time.perf_counter() - started,
    )
