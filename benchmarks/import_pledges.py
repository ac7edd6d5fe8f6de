"""Importing a pledges CSV of 1,000,000 rows into SQLite and PostgreSQL.

The file is generated once per row count and seed (cached in --workdir): donors and item
types of the demo registry and catalog, EUR and USD amounts, statuses announced / confirmed /
withdrawn, joint-fund contributions and the purchases made from them (parent links), labels,
some notes. Each database is fresh (a SQLite file; a PostgreSQL database of its own, dropped
afterwards), migrated, with the demo registry and catalog. The import runs in a child process
through `coalition.io.importers.import_file` (what `coalition import pledges` calls), which
reports its wall time and peak RSS. For PostgreSQL the same file is then COPY'd into a bare
table (the file's columns, typed, no keys, no indexes) in the same database, as the baseline.
Then the same file is imported again (every row unchanged: nothing is written), unless
--no-reimport.

Targets: PostgreSQL >= 100,000 rows/s and within 2x of the raw COPY; SQLite >= 50,000 rows/s;
peak RSS < 500 MB.

    .venv/bin/python benchmarks/import_pledges.py                 # 1,000,000 rows, both
    .venv/bin/python benchmarks/import_pledges.py --rows 100000 --backend sqlite
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from coalition import migrate
from coalition.access.actor import SYSTEM
from coalition.db import make_engine, session_scope
from coalition.demo.catalog_seed import item_seeds
from coalition.demo.loader import load_catalog
from coalition.demo.registry_seed import load_registry
from coalition.pledges.models import Pledge, PledgeTransition
from coalition.registry.models import Participant

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
HEADER = ["external_id", "donor", "item_type", "quantity", "amount", "currency",
          "fx_rate_to_eur", "fx_date", "funding", "available_from", "releasability", "status",
          "announced_on", "format", "parent_external_id", "notes"]
BARE = ("CREATE TABLE bench_bare_pledges (external_id text, donor text, item_type text, "
        "quantity bigint, amount numeric(20,2), currency text, fx_rate_to_eur numeric(18,8), "
        "fx_date date, funding text, available_from date, releasability text, status text, "
        "announced_on date, format text, parent_external_id text, notes text)")
NOTES = ["", "", "", "", "delivery via Rzeszow hub", "from national stocks",
         "replaces earlier offer", "training package included"]


def generate(path: Path, rows: int, seed: int, donors: list[str]) -> None:
    """A deterministic file of `rows` pledges (about 110 bytes a row)."""
    rng = random.Random(seed)
    items = [s.code for s in item_seeds() if s.unit_value_eur]
    start = dt.date(2022, 3, 1)
    contributions: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            quantity = rng.randint(1, 5000)
            cents = quantity * rng.randint(10_000, 500_000_000) // 100
            currency = "EUR" if rng.random() < 0.8 else "USD"
            announced = start + dt.timedelta(days=rng.randint(0, 1200))
            funding, parent = "stock_donation", ""
            draw = rng.random()
            if draw < 0.01:
                funding = "joint_fund_contribution"
                contributions.append(f"BM-{n:07d}")
            elif draw < 0.02 and contributions:
                funding, parent = "joint_fund_purchase", rng.choice(contributions[-50:])
            elif draw < 0.1:
                funding = "donor_funded_procurement"
            writer.writerow([
                f"BM-{n:07d}", rng.choice(donors), rng.choice(items), quantity,
                f"{cents // 100}.{cents % 100:02d}", currency,
                "" if currency == "EUR" else f"0.{rng.randint(88, 95)}",
                "", funding, (announced + dt.timedelta(days=rng.randint(0, 90))).isoformat(),
                rng.choice(("PUBLIC", "COALITION", "COALITION", "NATO")),
                rng.choice(("announced", "confirmed", "confirmed", "withdrawn")),
                announced.isoformat(), "UDCG", parent, rng.choice(NOTES),
            ])


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[tuple[Engine, str]]:
    """A fresh, migrated database with the demo registry and catalog; (engine, URL for the
    child process). PostgreSQL gets a database of its own, not a schema in a shared one: the
    audit log's advisory lock is per database, and other users of it would make us wait."""
    admin: Engine | None = None
    name = ""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench-import.db'}"
    else:
        name = f"coalition_bench_import_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        with session_scope(engine) as session:
            load_registry(session, SYSTEM)
            load_catalog(session)
        yield engine, url
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}"'))
            admin.dispose()


def child(url: str, path: str) -> None:
    """Runs in its own process: one import, then its wall time and peak RSS as JSON."""
    from coalition.io.importers import import_file

    engine = make_engine(url)
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_file(session, actor=SYSTEM, resource="pledges", path=path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, **report.to_dict()}))


def run_child(url: str, path: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", url, str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def raw_copy(engine: Engine, path: Path) -> float:
    """COPY of the same file into a bare table in the same database: the baseline."""
    with engine.begin() as conn:
        conn.execute(text(BARE))
    with engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection
        started = time.perf_counter()
        with raw.cursor() as cursor, path.open("rb") as handle, cursor.copy(
            "COPY bench_bare_pledges FROM STDIN (FORMAT CSV, HEADER true)"
        ) as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        raw.commit()
        return time.perf_counter() - started


def check(engine: Engine, rows: int) -> str:
    with session_scope(engine) as session:
        pledges = session.scalar(select(func.count()).select_from(Pledge))
        history = session.scalar(select(func.count()).select_from(PledgeTransition))
    if pledges != rows:
        raise SystemExit(f"expected {rows} pledges, found {pledges}")
    return f"{pledges:,} pledges, {history:,} history rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()),
                        help="Where the generated file is kept between runs.")
    parser.add_argument("--no-reimport", action="store_true",
                        help="Skip importing the file a second time (all rows unchanged).")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    path = args.workdir / f"coalition-bench-pledges-{args.rows}-{args.seed}.csv"
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as tmp:
        if not path.exists():
            with database("sqlite", Path(tmp)) as (engine, _), session_scope(engine) as session:
                donors = sorted(session.scalars(select(Participant.code)
                                                .where(Participant.is_donor)))
            started = time.perf_counter()
            generate(path, args.rows, args.seed, donors)
            print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")
            Path(tmp, "bench-import.db").unlink()
        print(f"file: {path} ({args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB); "
              f"machine: {os.cpu_count()} cores, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for backend in backends:
            with database(backend, Path(tmp)) as (engine, url):
                result = run_child(url, path)
                rate = args.rows / result["seconds"]
                line = (f"{backend:10} import {result['seconds']:7.2f} s  {rate:9,.0f} rows/s  "
                        f"peak RSS {result['peak_rss_mb']:5.0f} MB  ({check(engine, args.rows)})")
                if not args.no_reimport:
                    again = run_child(url, path)
                    line += (f"\n{'':10} again  {again['seconds']:7.2f} s  "
                             f"{args.rows / again['seconds']:9,.0f} rows/s  "
                             f"peak RSS {again['peak_rss_mb']:5.0f} MB  "
                             f"({again['unchanged']:,} unchanged, {again['created']:,} created, "
                             f"{again['updated']:,} updated)")
                if backend == "postgresql":
                    baseline = raw_copy(engine, path)
                    line += (f"\n{'':10} raw COPY {baseline:5.2f} s  "
                             f"{args.rows / baseline:9,.0f} rows/s  "
                             f"import / COPY = {result['seconds'] / baseline:.2f}x")
                print(line, flush=True)


if __name__ == "__main__":
    main()
