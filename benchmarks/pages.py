"""Dashboard page timings on `coalition demo load --scale 100000` (target: every page < 300 ms).

Loads the demo plus N synthetic pledges into a fresh SQLite file, starts the app in-process
(Starlette's TestClient, so the time is the server's own plus a thin ASGI hop), signs in as a
coordinator and as a non-NATO national desk, requests each page `--repeat` times and prints the
median and p95 per page next to the same figures for `/api/v1/health` (the framework's floor)
and the ratio of the two. "first" is the first request of a page: templates compile and the
overview's reports are computed; later requests reuse the reports until the data changes
(the cache is keyed on the audit chain's head, see web/pages/_cache.py).

    .venv/bin/python benchmarks/pages.py                 # 100,000 pledges, 15 requests a page
    .venv/bin/python benchmarks/pages.py --db /tmp/x.db  # reuse a database loaded before
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from coalition import migrate
from coalition.db import make_engine
from coalition.demo import loader
from coalition.meetings.models import Meeting
from coalition.pledges.models import Pledge
from coalition.requirements.models import Requirement
from coalition.web.app import create_app
from coalition.web.pages.site import freeze_startup_heap

TARGET_MS = 300.0
USERS = ("udcg-secretariat", "desk-jpn")


def _load(path: Path, scale: int, password: str) -> None:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    os.environ["COALITION_DEMO_PASSWORD"] = password
    started = time.perf_counter()
    loader.load(scale_pledges=scale, engine=engine, show_progress=False)
    print(f"loaded the demo + {scale:,} synthetic pledges in "
          f"{time.perf_counter() - started:.1f} s")
    engine.dispose()


def _sign_in(client: TestClient, user: str, password: str) -> None:
    client.cookies.clear()
    form = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match, "the login form has no CSRF token"
    response = client.post("/login", data={"username": user, "password": password,
                                           "csrf_token": match.group(1)},
                           follow_redirects=False)
    if response.status_code != 303:
        raise SystemExit(f"cannot sign in as {user}: {response.status_code} (with --db, the "
                         "users need the password given by --password)")


def _time(client: TestClient, path: str, repeat: int, headers: dict[str, str]
          ) -> tuple[float, list[float]]:
    """The first request (cold: templates compiled, reports computed) and `repeat` more."""
    started = time.perf_counter()
    client.get(path, headers=headers)
    first = (time.perf_counter() - started) * 1000
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}\n{response.text[:500]}")
    return first, out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _pages(db_url: str) -> list[tuple[str, str, dict[str, str]]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        pledge_id = conn.scalar(select(Pledge.id).where(Pledge.releasability == "PUBLIC")
                                .order_by(Pledge.id).limit(1))
        requirement_id = conn.scalar(select(Requirement.id)
                                     .where(Requirement.releasability == "PUBLIC")
                                     .order_by(Requirement.id).limit(1))
        meeting_id = conn.scalar(select(Meeting.id).where(Meeting.releasability == "PUBLIC")
                                 .order_by(Meeting.id).limit(1))
    engine.dispose()
    hx = {"HX-Request": "true", "HX-Target": "pledge-results"}
    return [
        ("overview", "/", {}),
        ("overview: donors chart", "/overview/charts/donors", {}),
        ("overview: timeline chart", "/overview/charts/timeline", {}),
        ("overview: concentration", "/overview/charts/concentration", {}),
        ("requirements", "/requirements", {}),
        ("requirements, priority 1", "/requirements?priority=1", {}),
        ("requirement detail", f"/requirements/{requirement_id}", {}),
        ("pledges", "/pledges", {}),
        ("pledges, by value", "/pledges?sort=-value_eur", {}),
        ("pledges, withdrawn", "/pledges?status=withdrawn", {}),
        ("pledges, DEU (htmx)", "/pledges?donor=DEU", hx),
        ("pledge detail", f"/pledges/{pledge_id}", {}),
        ("new pledge form", "/pledges/new", {}),
        ("matching", "/matching", {}),
        ("logistics", "/logistics", {}),
        ("meetings", "/meetings", {}),
        ("meeting detail", f"/meetings/{meeting_id}", {}),
        ("scenarios", "/scenarios", {}),
        ("audit", "/audit", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--db", type=Path, help="An SQLite file already loaded with the demo.")
    parser.add_argument("--password", help="The demo users' password (needed with --db).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "pages.db"
        password = args.password or secrets.token_urlsafe(16)
        if args.db is None:
            _load(path, args.scale, password)
        elif args.password is None:
            parser.error("--db needs --password")
        db_url = f"sqlite:///{path}"
        engine = make_engine(db_url)
        pages = _pages(db_url)
        worst = 0.0
        application = create_app(engine)
        freeze_startup_heap()  # as `coalition serve` does
        with TestClient(application) as client:
            for user in USERS:
                _sign_in(client, user, password)
                if user == "desk-jpn":  # a national desk: no audit log, no scenarios
                    pages = [p for p in pages if p[0] not in ("audit", "scenarios")]
                _, base = _time(client, "/api/v1/health", args.repeat, {})
                base_median = statistics.median(base)
                print(f"\n{user}: {args.repeat} requests a page; baseline /api/v1/health "
                      f"median {base_median:.1f} ms, p95 {_p95(base):.1f} ms")
                print(f"{'page':30} {'first ms':>9} {'median ms':>10} {'p95 ms':>8} "
                      f"{'x health':>9}  p95 < 300 ms")
                for name, page, headers in pages:
                    first, times = _time(client, page, args.repeat, headers)
                    median = statistics.median(times)
                    p95 = _p95(times)
                    worst = max(worst, p95)
                    print(f"{name:30} {first:9.1f} {median:10.1f} {p95:8.1f} "
                          f"{median / base_median:9.1f}  {'yes' if p95 < TARGET_MS else 'NO'}")
        engine.dispose()
        print(f"\nslowest p95: {worst:.1f} ms "
              f"({'within' if worst < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
