"""Withdrawal scenarios on the demo data, in a fresh database: they report, and change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from coalition import migrate
from coalition.access.actor import SYSTEM
from coalition.db import session_scope
from coalition.demo import loader as demo
from coalition.matching import scenarios
from coalition.matching import service as matching
from tests.conftest import new_engine
from tests.service.matching.snapshot import database_digest


@pytest.fixture
def demo_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    for engine in new_engine(backend, tmp_path):
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        demo.load(scale_pledges=2000, seed=7, engine=engine, show_progress=False)
        yield engine


def test_demo_withdrawals_report_and_change_nothing(demo_engine: Engine) -> None:
    with session_scope(demo_engine) as session:
        matching.run_matching(session, actor=SYSTEM)
    with session_scope(demo_engine) as session:
        before = database_digest(session)

    with session_scope(demo_engine) as session:
        top = scenarios.withdraw_top(session, actor=SYSTEM, top=10)
        usa = scenarios.withdraw(session, actor=SYSTEM, donor="USA",
                                 from_date=dt.date(2025, 1, 1))
        data = scenarios.load(session, actor=SYSTEM)
        base = scenarios.baseline(data)
        first = top.donors[0].donor.id
        quick = scenarios.scenario(data, base, donor_id=first)
        full = scenarios.scenario(data, base, donor_id=first, resolve_all=True)

    with session_scope(demo_engine) as session:
        assert database_digest(session) == before
    assert len(top.donors) == 10
    assert top.donors[0].critical_requirements_losing >= top.donors[-1].critical_requirements_losing
    assert sum(d.requirements_losing for d in top.donors) > 0
    assert usa.donor.code == "USA" and usa.pledges_withdrawn > 0
    assert {g.requirement_id: g.quantity_lost for g in quick.gaps} == {
        g.requirement_id: g.quantity_lost for g in full.gaps}
    for gap in quick.gaps:
        assert 0 <= gap.coverage_after < gap.coverage_before <= gap.needed
