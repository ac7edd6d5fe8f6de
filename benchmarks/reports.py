"""Report timings on `coalition demo load --scale N` in fresh SQLite and PostgreSQL databases.

    .venv/bin/python benchmarks/reports.py                 # 100,000 synthetic pledges
    .venv/bin/python benchmarks/reports.py --scale 10000   # quick run

For each database: load the demo plus N synthetic pledges, run ANALYZE (what autovacuum does
soon after a bulk load), then time every report (median and best of --repeat runs, each the
whole `reports.build` call: SQL plus the arithmetic on the aggregated rows) as the admin (no
visibility predicate) and as a non-NATO national desk (desk-jpn: the full visibility predicate).
The baseline is the cheapest aggregate over the table,
`SELECT donor_id, SUM(value_eur_cents) FROM pledges GROUP BY donor_id`; the ratio is a report's
median over the baseline's. Target: every report well under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM, Actor, actor_for_user
from coalition.analytics import reports
from coalition.analytics.schemas import Period, ReportKind
from coalition.db import make_engine
from coalition.demo import loader
from coalition.pledges.models import Pledge

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
TARGET_MS = 300.0
BASELINE_SQL = "SELECT donor_id, SUM(value_eur_cents) FROM pledges GROUP BY donor_id"


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[Engine]:
    """An empty, migrated database; PostgreSQL in its own schema, dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'reports-bench.db'}")
        admin = None
    else:
        schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and best wall time and median CPU time of this process in milliseconds, after
    one warm-up run. On a shared machine the wall time includes waiting for a core; for SQLite
    (in process) the CPU time is the work itself, for PostgreSQL only the client's part."""
    work()
    runs, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(runs), min(runs), statistics.median(cpu)


def _report(session: Session, actor: Actor, kind: ReportKind, by: Period
            ) -> Callable[[], object]:
    return lambda: reports.build(session, actor=actor, kind=kind, by=by)


def bench(backend: str, scale: int, repeat: int, tmp: Path) -> bool:
    with fresh_database(backend, tmp) as engine:
        start = time.perf_counter()
        loader.load(scale_pledges=scale, engine=engine, show_progress=False)
        load_s = time.perf_counter() - start
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        ok = True
        print(f"\n{backend}: machine load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")
        with Session(engine) as session:
            pledges = session.scalar(select(func.count()).select_from(Pledge)) or 0
            print(f"\n{backend}: {pledges:,} pledges (demo + {scale:,} synthetic), "
                  f"loaded in {load_s:.1f} s")
            base_med, base_best, base_cpu = timed(
                lambda: session.execute(text(BASELINE_SQL)).all(), repeat)
            print(f"  baseline  {BASELINE_SQL}: median {base_med:.1f} ms, "
                  f"best {base_best:.1f} ms, cpu {base_cpu:.1f} ms")
            jpn = actor_for_user(session, access_service.get_user(session, name="desk-jpn"))
            actors: list[tuple[str, Actor]] = [("admin", SYSTEM), ("desk-jpn", jpn)]
            print(f"  {'report':22s} {'actor':9s} {'median ms':>10s} {'best ms':>9s} "
                  f"{'cpu ms':>8s} {'x baseline':>10s}  target < {TARGET_MS:.0f} ms")
            cases = [(k.value, k, Period.MONTH) for k in ReportKind]
            cases.insert(4, ("timeline --by meeting", ReportKind.TIMELINE, Period.MEETING))
            for label, kind, by in cases:
                for who, actor in actors:
                    med, best, cpu = timed(_report(session, actor, kind, by), repeat)
                    verdict = "ok" if med < TARGET_MS else "SLOW"
                    ok = ok and med < TARGET_MS
                    print(f"  {label:22s} {who:9s} {med:10.1f} {best:9.1f} {cpu:8.1f} "
                          f"{med / base_med:10.1f}  {verdict}")
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(b, args.scale, args.repeat, Path(tmp)) for b in backends]
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
