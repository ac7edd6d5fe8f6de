"""Concurrent approvals with real threads and separate connections: never over-committed.

Many desks approve at once proposals that together ask more than a pledge holds, or than a
requirement needs (stale proposals can: the pledge changed after the run). Each approval is
its own transaction on its own connection, released together by a barrier. PostgreSQL runs
them truly in parallel (row locks order the conditional UPDATEs); SQLite queues the writers
(BEGIN IMMEDIATE), so on both every loser sees a conflict, none a locked database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access import service as access_service
from coalition.access.actor import Actor, actor_for_user
from coalition.db import session_scope
from coalition.errors import Conflict
from coalition.matching import service as matching
from coalition.matching.models import Proposal, ProposalStatus
from coalition.pledges.models import Allocation, AllocationStatus, Pledge
from coalition.requirements.models import Requirement
from tests import factories
from tests.conftest import new_engine
from tests.factories import DAY, build_world
from tests.service.matching.helpers import proposals_of

THREADS = 8


@pytest.fixture
def fresh(backend: str, tmp_path: Path) -> Iterator[Engine]:
    for engine in new_engine(backend, tmp_path):
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        with session_scope(engine) as session:
            build_world(session)
        yield engine


def _actor(engine: Engine, name: str) -> Actor:
    with session_scope(engine) as session:
        return actor_for_user(session, access_service.get_user(session, name=name), today=DAY)


def _race(engine: Engine, calls: list[Callable[[Session], object]]) -> list[str]:
    """Runs each call in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def work(i: int) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                calls[i](session)
            outcomes[i] = "ok"
        except Conflict:
            outcomes[i] = "conflict"
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            outcomes[i] = repr(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(o in {"ok", "conflict"} for o in outcomes), outcomes
    return outcomes


def _approve(actor: Actor, proposal_id: int) -> Callable[[Session], object]:
    return lambda s: matching.approve_proposal(s, actor=actor, proposal_id=proposal_id)


def _check_invariants(engine: Engine) -> int:
    """Counters equal their allocations and stay within quantities; returns allocations."""
    with session_scope(engine) as session:
        active = (select(Allocation.pledge_id, Allocation.requirement_id, Allocation.quantity)
                  .where(Allocation.status == AllocationStatus.ACTIVE)).subquery()
        for pledge in session.scalars(select(Pledge)):
            total = session.execute(select(func.coalesce(func.sum(active.c.quantity), 0))
                                    .where(active.c.pledge_id == pledge.id)).scalar_one()
            assert pledge.quantity_allocated == total <= pledge.quantity
        for need in session.scalars(select(Requirement)):
            total = session.execute(select(func.coalesce(func.sum(active.c.quantity), 0))
                                    .where(active.c.requirement_id == need.id)).scalar_one()
            assert need.quantity_committed == total <= need.quantity
        approved = session.scalars(select(Proposal).where(
            Proposal.status == ProposalStatus.APPROVED)).all()
        allocations = session.scalars(select(Allocation)).all()
        assert len(approved) == len(allocations)
        by_id = {a.id: a for a in allocations}
        for proposal in approved:
            allocation = by_id[proposal.allocation_id or 0]
            assert (allocation.pledge_id, allocation.requirement_id, allocation.quantity) == (
                proposal.pledge_id, proposal.requirement_id, proposal.quantity)
        return len(allocations)


def test_racing_approvals_never_over_commit_one_pledge(fresh: Engine) -> None:
    with session_scope(fresh) as session:
        pledge = factories.pledge(session, donor="POL", quantity=100, confirm=True)
        needs = [factories.requirement(session, quantity=30) for _ in range(THREADS)]
        _, ids = proposals_of(session, [(pledge.id, n.id, 30) for n in needs])
    pol = _actor(fresh, "pol")

    outcomes = _race(fresh, [_approve(pol, i) for i in ids])

    approved = _check_invariants(fresh)
    assert outcomes.count("ok") == approved == 3  # 3 x 30 fit into 100, a 4th does not


def test_racing_approvals_never_over_commit_one_requirement(fresh: Engine) -> None:
    with session_scope(fresh) as session:
        need = factories.requirement(session, quantity=100)
        pledges = [factories.pledge(session, donor=donor, quantity=30, confirm=True)
                   for donor in ["POL", "DEU"] * (THREADS // 2)]
        _, ids = proposals_of(session, [(p.id, need.id, 30) for p in pledges])
    desks = {"POL": _actor(fresh, "pol"), "DEU": _actor(fresh, "deu")}
    donors = ["POL", "DEU"] * (THREADS // 2)

    outcomes = _race(fresh, [_approve(desks[d], i) for d, i in zip(donors, ids, strict=True)])

    approved = _check_invariants(fresh)
    assert outcomes.count("ok") == approved == 3


def test_one_proposal_decided_at_once_by_many_has_one_winner(fresh: Engine) -> None:
    with session_scope(fresh) as session:
        pledge = factories.pledge(session, donor="POL", quantity=100, confirm=True)
        need = factories.requirement(session, quantity=100)
        _, (proposal_id,) = proposals_of(session, [(pledge.id, need.id, 40)])
    pol = _actor(fresh, "pol")
    calls: list[Callable[[Session], object]] = [_approve(pol, proposal_id)] * (THREADS // 2)
    calls += [lambda s: matching.decline_proposal(s, actor=pol, proposal_id=proposal_id,
                                                  reason="race")] * (THREADS // 2)

    outcomes = _race(fresh, calls)

    allocations = _check_invariants(fresh)
    assert outcomes.count("ok") == 1
    with session_scope(fresh) as session:
        status = session.get_one(Proposal, proposal_id).status
    assert allocations == (1 if status is ProposalStatus.APPROVED else 0)
