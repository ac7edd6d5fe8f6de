"""Matching engine benchmark: optimal engine vs raw OR-Tools vs greedy, checked against HiGHS.

    .venv/bin/python benchmarks/matching.py              # 10,000 x 20,000, ~1M pairs
    .venv/bin/python benchmarks/matching.py --scale 0.1  # quick run

Two shapes: ample supply (1.5x the need) and scarce supply (0.5x). Each shape runs in a fresh
process so that its peak RSS is its own; the LP check runs in another one. Times are the best
of --repeat runs, engine and raw solver interleaved so that both see the same machine load.

Rows:
- graph build: arrays in -> solver-ready arrays (compatible pairs, tier costs, weights)
- solve: the OR-Tools calls inside the engine; extract: flows -> proposals and objective
- engine end-to-end: `match()` from the input arrays to proposals (all of the above)
- raw solver: `SimpleMinCostFlow` load + solve + flows on the engine's own network arrays,
  prebuilt, one call per network, with no engine code around it
- raw solver, one call: the same arrays joined into a single network and solved at once
- LP check: the lexicographic LP (scipy/HiGHS, three stages) on the same instance, one LP per
  connected component of the compatibility graph (--lp-whole: a single LP); if that takes
  over --lp-limit seconds, on a 1/10 instance of the same shape

From the database (--db sqlite|postgresql|both|none), on the demo with --db-scale synthetic
pledges (`coalition.demo.loader.load`) in a fresh SQLite file or PostgreSQL schema:
- stored run: `run_matching` from the database to committed proposals (load, build, solve,
  extract, store, commit), a first run and a second one that supersedes the first's proposals
- --top 10 withdrawal scenarios (`scenarios.withdraw_top`), all ten, and one explanation
- peak RSS of the process doing the runs (the demo is loaded in another process)

    .venv/bin/python benchmarks/matching.py --db-only --db sqlite   # the database part only
    .venv/bin/python benchmarks/matching.py --db-only --db-file /tmp/demo100k.db  # reuse a file
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import numpy as np
from ortools.graph.python import min_cost_flow
from rich.console import Console
from rich.table import Table

from coalition.matching import (
    FlowNetwork,
    MatchPolicy,
    ObjectiveBreakdown,
    Timings,
    build_compatible_arcs,
    evaluate,
    greedy_allocate,
    match,
    tier_costs,
)
from coalition.matching.engine import solver_networks
from coalition.matching.lp import LpOptimum, lexicographic_lp
from coalition.matching.synthetic import Instance, synthetic_instance

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")

BASE_REQUIREMENTS = 10_000
BASE_PLEDGES = 20_000
BASE_PAIRS = 1_000_000
SHAPES = {"ample": 1.5, "scarce": 0.5}

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class ShapeReport:
    requirements: int
    pledges: int
    pairs: int
    excluded: int
    solver_pairs: int
    networks: int
    need: int
    supply: int
    build_s: float
    solve_s: float
    extract_s: float
    engine_s: float
    raw_s: float
    raw_one_call_s: float
    peak_rss_mb: float
    engine: ObjectiveBreakdown
    greedy: ObjectiveBreakdown
    greedy_s: float


@dataclass(frozen=True)
class LpReport:
    scale: float
    optimum: LpOptimum
    engine_key: tuple[int, int, int]
    whole: bool


def make_instance(shape: str, scale: float, seed: int) -> Instance:
    return synthetic_instance(
        n_requirements=max(1, round(BASE_REQUIREMENTS * scale)),
        n_pledges=max(1, round(BASE_PLEDGES * scale)),
        target_pairs=max(1, round(BASE_PAIRS * scale)),
        supply_ratio=SHAPES[shape],
        seed=seed,
    )


def raw_solve(networks: list[FlowNetwork]) -> list[Any]:
    """Nothing but OR-Tools: load, solve and read the flows of each prebuilt network."""
    flows = []
    for net in networks:
        solver = min_cost_flow.SimpleMinCostFlow()
        arcs = solver.add_arcs_with_capacity_and_unit_cost(
            net.tails, net.heads, net.capacities, net.unit_costs
        )
        solver.set_nodes_supplies(np.arange(net.num_nodes, dtype=np.int32), net.supplies)
        if solver.solve() != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
            raise RuntimeError("raw solve failed")
        flows.append(solver.flows(arcs))
    return flows


def join(networks: list[FlowNetwork]) -> FlowNetwork:
    """All networks as one (disjoint components, node ids offset)."""
    offsets = np.cumsum([0] + [net.num_nodes for net in networks[:-1]])
    return FlowNetwork(
        tails=np.concatenate([net.tails + off for net, off in zip(networks, offsets, strict=True)]),
        heads=np.concatenate([net.heads + off for net, off in zip(networks, offsets, strict=True)]),
        capacities=np.concatenate([net.capacities for net in networks]),
        unit_costs=np.concatenate([net.unit_costs for net in networks]),
        supplies=np.concatenate([net.supplies for net in networks]),
        arc_start=0,
        arc_stop=0,
        weights=networks[0].weights,
    )


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def run_shape(
    shape: str, scale: float, seed: int, repeat: int, max_lateness: int | None
) -> ShapeReport:
    inst = make_instance(shape, scale, seed)
    reqs, offers, excluded = inst.requirements, inst.pledges, inst.excluded
    policy = MatchPolicy(max_lateness_days=max_lateness)
    # Peak RSS of this process after one engine run: instance + engine, nothing else yet.
    result = match(reqs, offers, excluded=excluded, policy=policy)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    arcs = build_compatible_arcs(reqs, offers, excluded=excluded, max_lateness_days=max_lateness)
    costs = tier_costs(reqs, offers, arcs, policy)
    # The networks the engine itself solves (provably unused arcs left out).
    networks, _ = solver_networks(reqs, offers, arcs, costs)
    engine_runs: list[tuple[float, Timings]] = []
    raw_runs: list[float] = []
    for _ in range(repeat):
        elapsed, result = timed(lambda: match(reqs, offers, excluded=excluded, policy=policy))
        engine_runs.append((elapsed, result.timings))
        raw_runs.append(timed(lambda: raw_solve(networks))[0])
    best_engine, best_timings = min(engine_runs, key=lambda run: run[0])
    one_call_s = timed(lambda: raw_solve([join(networks)]))[0]

    greedy_s, greedy_flow = timed(lambda: greedy_allocate(reqs, offers, arcs, costs))
    greedy = evaluate(reqs, offers, arcs, costs, greedy_flow)
    return ShapeReport(
        requirements=len(reqs),
        pledges=len(offers),
        pairs=len(arcs),
        excluded=arcs.excluded,
        solver_pairs=sum(net.n_pair_arcs for net in networks),
        networks=len(networks),
        need=int(reqs.quantity.sum()),
        supply=int(offers.quantity.sum()),
        build_s=best_timings.build_s,
        solve_s=best_timings.solve_s,
        extract_s=best_timings.extract_s,
        engine_s=best_engine,
        raw_s=min(raw_runs),
        raw_one_call_s=one_call_s,
        peak_rss_mb=peak_rss_mb,
        engine=result.objective,
        greedy=greedy,
        greedy_s=greedy_s,
    )


def run_lp(
    shape: str, scale: float, seed: int, limit_s: float, max_lateness: int | None, whole: bool
) -> LpReport | None:
    inst = make_instance(shape, scale, seed)
    policy = MatchPolicy(max_lateness_days=max_lateness)
    result = match(inst.requirements, inst.pledges, excluded=inst.excluded, policy=policy)
    optimum = lexicographic_lp(
        inst.requirements,
        inst.pledges,
        result.arcs,
        result.costs,
        time_limit_s=limit_s,
        by_component=not whole,
    )
    if optimum is None:
        return None
    return LpReport(scale=scale, optimum=optimum, engine_key=result.objective.key(), whole=whole)


def in_child(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def objective_text(o: ObjectiveBreakdown) -> str:
    return f"{o.weighted_met:,} / {o.delay_cost:,} / {o.split_cost:,}"


@dataclass(frozen=True)
class DbRunReport:
    backend: str
    demo_load_s: float | None
    requirements: int
    pledges: int
    pairs: int
    proposals: int
    first_run_s: float
    first_timings: dict[str, float]
    second_run_s: float
    second_timings: dict[str, float]
    superseded: int
    rss_after_runs_mb: float
    top_s: float
    top_donors: list[tuple[str, int, int]]
    top_resolved_groups: int
    rss_after_scenarios_mb: float
    explain_s: float


@contextmanager
def bench_engine(backend: str, sqlite_file: str | None, pg_schema: str | None
                 ) -> Iterator[Any]:
    from coalition.db import make_engine

    if backend == "sqlite":
        assert sqlite_file is not None
        engine = make_engine(f"sqlite:///{sqlite_file}")
    else:
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={pg_schema}"})
    try:
        yield engine
    finally:
        engine.dispose()


def db_load(backend: str, sqlite_file: str | None, pg_schema: str | None, scale: int,
            seed: int) -> float | None:
    """Migrates and loads the demo with `scale` synthetic pledges unless already there."""
    from sqlalchemy import func, select

    from coalition import migrate
    from coalition.db import session_scope
    from coalition.demo import loader as demo
    from coalition.pledges.models import Pledge

    with bench_engine(backend, sqlite_file, pg_schema) as engine:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        with session_scope(engine) as session:
            present = session.scalar(select(func.count()).select_from(Pledge)) or 0
        if present >= scale:
            return None
        started = time.perf_counter()
        demo.load(scale_pledges=scale, seed=seed, engine=engine, show_progress=False)
        return time.perf_counter() - started


def db_run(backend: str, sqlite_file: str | None, pg_schema: str | None, top: int
           ) -> DbRunReport:
    """Two stored runs, the top-N withdrawal scenarios and one explanation, each timed."""
    from sqlalchemy import select

    from coalition.access.actor import SYSTEM
    from coalition.db import session_scope
    from coalition.matching import scenarios
    from coalition.matching import service as matching_service
    from coalition.matching.models import Proposal

    def rss() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with bench_engine(backend, sqlite_file, pg_schema) as engine:
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            with session_scope(engine) as session:
                # Only the summary is kept: the solved instance goes before the next run.
                summary = matching_service.run_matching(session, actor=SYSTEM).summary
            runs.append((time.perf_counter() - started, summary))
        after_runs = rss()
        started = time.perf_counter()
        with session_scope(engine) as session:
            report = scenarios.withdraw_top(session, actor=SYSTEM, top=top)
        top_s = time.perf_counter() - started
        after_scenarios = rss()
        with session_scope(engine) as session:
            need = session.scalar(select(Proposal.requirement_id).order_by(Proposal.id.desc())
                                  .limit(1)) or 0
        started = time.perf_counter()
        with session_scope(engine) as session:
            matching_service.explain_requirement(session, actor=SYSTEM, requirement_id=need)
        explain_s = time.perf_counter() - started
    (first_s, first), (second_s, second) = runs
    return DbRunReport(
        backend=backend, demo_load_s=None, requirements=first.requirements or 0,
        pledges=first.pledges or 0, pairs=first.pairs or 0, proposals=first.proposals or 0,
        first_run_s=first_s, first_timings=first.timings or {}, second_run_s=second_s,
        second_timings=second.timings or {}, superseded=second.superseded or 0,
        rss_after_runs_mb=after_runs, top_s=top_s,
        top_donors=[(d.donor.code, d.critical_requirements_losing, d.requirements_losing)
                    for d in report.donors],
        top_resolved_groups=sum(s.resolved_groups for s in report.scenarios),
        rss_after_scenarios_mb=after_scenarios, explain_s=explain_s,
    )


@contextmanager
def pg_schema_for(name: str | None) -> Iterator[str]:
    """The named schema (kept), or a fresh one dropped afterwards."""
    from sqlalchemy import text

    from coalition.db import make_engine

    schema = name or f"bench_matching_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    try:
        yield schema
    finally:
        if name is None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_db(backend: str, args: argparse.Namespace, console: Console) -> DbRunReport:
    def timed_in_children(sqlite_file: str | None, schema: str | None) -> DbRunReport:
        console.print(f"[bold]{backend}[/]: demo with {args.db_scale:,} synthetic pledges ...")
        load_s = in_child(db_load, backend, sqlite_file, schema, args.db_scale, args.seed)
        console.print(f"[bold]{backend}[/]: stored runs, --top {args.top} scenarios ...")
        report = in_child(db_run, backend, sqlite_file, schema, args.top)
        return DbRunReport(**{**report.__dict__, "demo_load_s": load_s})

    if backend == "postgresql":
        with pg_schema_for(args.pg_schema) as schema:
            return timed_in_children(None, schema)
    if args.db_file:
        return timed_in_children(args.db_file, None)
    with tempfile.TemporaryDirectory() as tmp:
        return timed_in_children(os.path.join(tmp, "bench.db"), None)


def print_db(reports: list[DbRunReport], console: Console, top: int) -> None:
    table = Table(title="From the database: demo data to stored proposals")
    table.add_column("")
    for r in reports:
        table.add_column(r.backend, justify="right")

    def row(label: str, cell: Callable[[DbRunReport], str]) -> None:
        table.add_row(label, *(cell(r) for r in reports))

    def parts(t: dict[str, float]) -> str:
        return " / ".join(f"{t.get(k, 0.0):.2f}" for k in ("load_s", "build_s", "solve_s",
                                                            "extract_s", "store_s"))

    row("demo load (not timed below)",
        lambda r: "reused" if r.demo_load_s is None else f"{r.demo_load_s:.1f} s")
    row("open requirements x allocatable pledges",
        lambda r: f"{r.requirements:,} x {r.pledges:,}")
    row("compatible pairs", lambda r: f"{r.pairs:,}")
    row("proposals stored", lambda r: f"{r.proposals:,}")
    row("first run, DB to committed proposals (target <= 8 s)", lambda r: f"{r.first_run_s:.2f} s")
    row("  load / build / solve / extract / store", lambda r: parts(r.first_timings))
    row("second run (supersedes the first's)", lambda r: f"{r.second_run_s:.2f} s")
    row("  load / build / solve / extract / store", lambda r: parts(r.second_timings))
    row("  proposals superseded", lambda r: f"{r.superseded:,}")
    row("peak RSS after the runs", lambda r: f"{r.rss_after_runs_mb:,.0f} MB")
    row(f"--top {top} withdrawal scenarios (target <= 30 s)", lambda r: f"{r.top_s:.2f} s")
    row("  groups re-solved in all", lambda r: f"{r.top_resolved_groups:,}")
    row("  rank 1-3: donor (P1-2 needs losing / needs losing)",
        lambda r: ", ".join(f"{c} ({k}/{n})" for c, k, n in r.top_donors[:3]))
    row("peak RSS after the scenarios", lambda r: f"{r.rss_after_scenarios_mb:,.0f} MB")
    row("explain one requirement (from the stored run)", lambda r: f"{r.explain_s:.2f} s")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10k x 20k x ~1M pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best is kept")
    parser.add_argument("--lp-limit", type=float, default=60.0, help="seconds before 1/10 LP")
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS check")
    parser.add_argument(
        "--lp-whole",
        action="store_true",
        help="one LP for the whole instance instead of one per connected component",
    )
    parser.add_argument(
        "--max-lateness", type=int, default=None, help="pairs later than this many days are off"
    )
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append", help="default: both")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both", "none"],
                        default="both", help="time runs from a database too")
    parser.add_argument("--db-only", action="store_true", help="skip the synthetic part")
    parser.add_argument("--db-scale", type=int, default=100_000,
                        help="synthetic demo pledges (requirements: a tenth)")
    parser.add_argument("--db-file", default=None,
                        help="SQLite file to use and keep (reused if already loaded)")
    parser.add_argument("--pg-schema", default=None,
                        help="PostgreSQL schema to use and keep (reused if already loaded)")
    parser.add_argument("--top", type=int, default=10, help="donors in the scenario ranking")
    args = parser.parse_args()
    shapes = args.shape or list(SHAPES)
    console = Console(width=110)

    if not args.db_only:
        run_synthetic(args, shapes, console)
    backends = {"both": ["sqlite", "postgresql"], "none": []}.get(args.db, [args.db])
    if backends:
        print_db([run_db(b, args, console) for b in backends], console, args.top)


def run_synthetic(args: argparse.Namespace, shapes: list[str], console: Console) -> None:
    reports: dict[str, ShapeReport] = {}
    checks: dict[str, LpReport | None] = {}
    for shape in shapes:
        console.print(f"[bold]{shape}[/]: engine, raw solver, greedy ...")
        reports[shape] = in_child(
            run_shape, shape, args.scale, args.seed, args.repeat, args.max_lateness
        )
        if not args.no_lp:
            console.print(f"[bold]{shape}[/]: HiGHS LP at scale {args.scale} ...")
            check = in_child(
                run_lp,
                shape,
                args.scale,
                args.seed,
                args.lp_limit,
                args.max_lateness,
                args.lp_whole,
            )
            if check is None:
                small = args.scale / 10
                console.print(f"  over {args.lp_limit:.0f} s; LP on the 1/10 instance ...")
                check = in_child(
                    run_lp, shape, small, args.seed, float("inf"), args.max_lateness, args.lp_whole
                )
            checks[shape] = check

    limit = "none" if args.max_lateness is None else f"{args.max_lateness} days"
    table = Table(
        title=f"Matching benchmark (scale {args.scale}, seed {args.seed}, lateness limit {limit})"
    )
    table.add_column("")
    for shape in shapes:
        table.add_column(f"{shape} (supply {SHAPES[shape]}x need)", justify="right")

    def row(label: str, cell: Callable[[ShapeReport], str]) -> None:
        table.add_row(label, *(cell(reports[s]) for s in shapes))

    row("requirements x pledges", lambda r: f"{r.requirements:,} x {r.pledges:,}")
    row("compatible pairs (excluded)", lambda r: f"{r.pairs:,} ({r.excluded:,})")
    row("pairs the solver sees (unused left out)", lambda r: f"{r.solver_pairs:,}")
    row("solver networks (keys)", lambda r: f"{r.networks:,}")
    row("need / supply (units)", lambda r: f"{r.need:,} / {r.supply:,}")
    row("graph build", lambda r: f"{r.build_s:.3f} s")
    row("solve", lambda r: f"{r.solve_s:.3f} s")
    row("extract", lambda r: f"{r.extract_s:.3f} s")
    row("engine end-to-end", lambda r: f"{r.engine_s:.3f} s")
    row("raw solver, same arrays", lambda r: f"{r.raw_s:.3f} s")
    row("engine / raw (target <= 1.3)", lambda r: f"{r.engine_s / r.raw_s:.2f}x")
    row("raw solver, same arrays in one call", lambda r: f"{r.raw_one_call_s:.3f} s")
    row("peak RSS (instance + engine)", lambda r: f"{r.peak_rss_mb:,.0f} MB")
    row("engine: weighted met / delay / split", lambda r: objective_text(r.engine))
    row("greedy: weighted met / delay / split", lambda r: objective_text(r.greedy))
    row(
        "quantity met engine / greedy",
        lambda r: f"{r.engine.quantity_met:,} / {r.greedy.quantity_met:,}",
    )
    row(
        "late unit-days engine / greedy",
        lambda r: f"{r.engine.lateness_unit_days:,} / {r.greedy.lateness_unit_days:,}",
    )
    row(
        "donor splits engine / greedy",
        lambda r: f"{r.engine.donor_splits:,} / {r.greedy.donor_splits:,}",
    )
    row("greedy time", lambda r: f"{r.greedy_s:.3f} s")
    row("engine never worse than greedy", lambda r: str(r.engine.at_least_as_good_as(r.greedy)))
    if checks:

        def lp_cell(shape: str) -> str:
            check = checks[shape]
            assert check is not None
            how = "one LP" if check.whole else "per component"
            return f"scale {check.scale:g}, {how}: {check.optimum.seconds:.1f} s"

        def equal_cell(shape: str) -> str:
            check = checks[shape]
            assert check is not None
            return "yes" if check.optimum.key() == check.engine_key else "NO"

        table.add_row("HiGHS LP check", *(lp_cell(s) for s in shapes))
        table.add_row("LP objective == engine objective", *(equal_cell(s) for s in shapes))
    console.print(table)


if __name__ == "__main__":
    main()
