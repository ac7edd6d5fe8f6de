"""Bulk demo loading: `coalition demo load --scale N` into fresh SQLite and PostgreSQL.

Prints rows/s for each database (target >= 20,000 rows/s), and as a baseline in the same run
the rows/s of a bare executemany of the same pledge rows into a table with no indexes or
constraints, so the ratio shows what Coalition's schema and code cost on top of the database.

    .venv/bin/python benchmarks/demo_scale.py --scale 100000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, text

from coalition import migrate
from coalition.db import make_engine
from coalition.demo import loader

PG_URL = os.environ.get("COALITION_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")


def _engines(tmp: Path) -> list[tuple[str, Engine, Engine | None, str | None]]:
    out: list[tuple[str, Engine, Engine | None, str | None]] = [
        ("sqlite", make_engine(f"sqlite:///{tmp / 'bench.db'}"), None, None)]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    out.append(("postgresql",
                make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}),
                admin, schema))
    return out


def _baseline(engine: Engine, rows: int) -> float:
    """Rows/s of a bare executemany of pledge-shaped rows: the database's own speed."""
    data = [{"a": i, "b": f"SYN-{i:08d}", "c": i % 50, "d": i % 500, "e": i % 2000 + 1,
             "f": "123.45", "g": "2024-01-01", "h": "COALITION", "i": "confirmed"}
            for i in range(rows)]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bare (a bigint, b text, c bigint, d bigint, e bigint, "
                          "f numeric, g text, h text, i text)"))
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bare VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i)"), data)
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, engine, admin, schema in _engines(Path(tmp)):
            try:
                with engine.begin() as conn:
                    migrate.upgrade(connection=conn)
                loader.load(engine=engine, show_progress=False)
                start = time.perf_counter()
                report = loader.load(scale_pledges=args.scale, engine=engine,
                                     show_progress=False)
                elapsed = time.perf_counter() - start
                rows = sum(v for k, v in report.items() if k.startswith("synthetic"))
                baseline = _baseline(engine, args.scale)
                rate = rows / elapsed
                print(f"{name:10s} {rows:>9,} rows in {elapsed:6.2f} s = {rate:>9,.0f} rows/s "
                      f"(target >= 20,000) | bare executemany {baseline:>9,.0f} rows/s | "
                      f"ratio {baseline / rate:4.2f}x")
            finally:
                engine.dispose()
                if admin is not None:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
