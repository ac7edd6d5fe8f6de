"""Stored runs and proposals built directly, for tests that need them without solving."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from coalition.matching import loader, match
from coalition.matching import service as matching_service
from coalition.matching.arrays import ExcludedPairs, PledgeArrays, RequirementArrays
from coalition.matching.models import MatchRun, Proposal, ProposalStatus
from coalition.pledges.models import Pledge

K = TypeVar("K")
_EMPTY = np.empty(0, np.int64)


def empty_run(session: Session) -> MatchRun:
    """A stored run of nothing (an administrator's scope)."""
    requirements = RequirementArrays(*[_EMPTY] * 6)
    pledges = PledgeArrays(*[_EMPTY] * 6)
    result = match(requirements, pledges)
    inputs = loader.pack(requirements, pledges, ExcludedPairs.empty())
    run = MatchRun(created_by="test", format_id=None,
                   policy=matching_service.policy_dict(result.policy),
                   objective=matching_service.objective_dict(result), timings={},
                   requirements=0, pledges=0, pairs=0, excluded_pairs=0, proposals=0,
                   quantity_proposed=0, superseded=0, inputs=inputs)
    session.add(run)
    session.flush()
    return run


def proposals_for(session: Session, pledges: Mapping[K, int], requirement_id: int,
                  quantity: int = 1) -> tuple[int, dict[K, int]]:
    """One proposed allocation of `quantity` from each pledge to the requirement, in one run;
    returns the run id and the proposal id per key of `pledges`."""
    keys = list(pledges)
    run_id, ids = proposals_of(session, [(pledges[k], requirement_id, quantity) for k in keys])
    return run_id, dict(zip(keys, ids, strict=True))


def proposals_of(session: Session, pairs: Sequence[tuple[int, int, int]]
                 ) -> tuple[int, list[int]]:
    """Proposals of (pledge id, requirement id, quantity) in one run, whatever a solve would
    say: e.g. more than a pledge holds, as stale proposals can be."""
    run = empty_run(session)
    out = []
    for pledge_id, requirement_id, quantity in pairs:
        proposal = Proposal(run_id=run.id, pledge_id=pledge_id, requirement_id=requirement_id,
                            donor_id=session.get_one(Pledge, pledge_id).donor_id,
                            quantity=quantity, priority=1, lateness_days=0, substitution=False,
                            reason_code="P1", reason_text="test",
                            status=ProposalStatus.PROPOSED)
        session.add(proposal)
        session.flush()
        out.append(proposal.id)
    return run.id, out
