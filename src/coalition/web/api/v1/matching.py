"""Matching runs, proposals and the donor's decisions, explanations, withdrawal scenarios."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from coalition.matching import scenarios
from coalition.matching import service as matching_service
from coalition.matching.models import ProposalStatus
from coalition.matching.objective import MatchPolicy
from coalition.matching.schemas import (
    DeclineRequest,
    ExplanationRead,
    ProposalRead,
    RunRead,
    RunRequest,
    TopWithdrawalReport,
    WithdrawalReport,
    WithdrawRequest,
)
from coalition.web.api.v1._paging import Cursor, Limit, PageOut, page_out
from coalition.web.deps import ActorDep, SessionDep

router = APIRouter(tags=["matching"])


@router.post("/matching/runs", response_model=RunRead, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Dry run: solved and reported, nothing stored."}})
def create_run(data: RunRequest, response: Response, session: SessionDep,
               actor: ActorDep) -> RunRead:
    out = matching_service.run_matching(
        session, actor=actor, dry_run=data.dry_run,
        policy=MatchPolicy(max_lateness_days=data.max_lateness_days))
    if data.dry_run:
        response.status_code = status.HTTP_200_OK
    return out.summary


@router.get("/matching/runs", response_model=PageOut[RunRead])
def list_runs(session: SessionDep, actor: ActorDep, limit: Limit = 50,
              cursor: Cursor = None) -> PageOut[RunRead]:
    page = matching_service.list_runs(session, actor=actor, limit=limit, cursor=cursor)
    return page_out(page, RunRead, lambda run: matching_service.summarise(
        session, actor=actor, run=run, with_counts=False))


@router.get("/matching/runs/{run_id}", response_model=RunRead)
def get_run(run_id: int, session: SessionDep, actor: ActorDep) -> RunRead:
    run = matching_service.get_run(session, actor=actor, run_id=run_id)
    return matching_service.summarise(session, actor=actor, run=run)


@router.get("/matching/proposals", response_model=PageOut[ProposalRead])
def list_proposals(session: SessionDep, actor: ActorDep, run: int | None = None,
                   donor: str | None = None, status: ProposalStatus | None = None,
                   requirement: int | None = None, pledge: int | None = None,
                   sort: str = "id", limit: Limit = 100, cursor: Cursor = None
                   ) -> PageOut[ProposalRead]:
    page = matching_service.list_proposals(
        session, actor=actor, run_id=run, donor=donor, status=status, requirement_id=requirement,
        pledge_id=pledge, sort=sort, limit=limit, cursor=cursor)
    return page_out(page, ProposalRead)


@router.get("/matching/proposals/{proposal_id}", response_model=ProposalRead)
def get_proposal(proposal_id: int, session: SessionDep, actor: ActorDep) -> ProposalRead:
    return ProposalRead.model_validate(
        matching_service.get_proposal(session, actor=actor, proposal_id=proposal_id))


@router.post("/matching/proposals/{proposal_id}/approve", response_model=ProposalRead)
def approve_proposal(proposal_id: int, session: SessionDep, actor: ActorDep) -> ProposalRead:
    return ProposalRead.model_validate(
        matching_service.approve_proposal(session, actor=actor, proposal_id=proposal_id))


@router.post("/matching/proposals/{proposal_id}/decline", response_model=ProposalRead)
def decline_proposal(proposal_id: int, data: DeclineRequest, session: SessionDep,
                     actor: ActorDep) -> ProposalRead:
    return ProposalRead.model_validate(matching_service.decline_proposal(
        session, actor=actor, proposal_id=proposal_id, reason=data.reason))


@router.get("/requirements/{requirement_id}/explain", response_model=ExplanationRead)
def explain_requirement(requirement_id: int, session: SessionDep, actor: ActorDep,
                        run: int | None = None) -> ExplanationRead:
    return matching_service.explain_requirement(session, actor=actor,
                                                requirement_id=requirement_id, run_id=run)


@router.post("/scenarios/withdraw", response_model=WithdrawalReport | TopWithdrawalReport)
def withdraw(data: WithdrawRequest, session: SessionDep, actor: ActorDep
             ) -> WithdrawalReport | TopWithdrawalReport:
    if data.top is not None:
        return scenarios.withdraw_top(session, actor=actor, top=data.top)
    assert data.donor is not None  # the schema requires donor or top
    return scenarios.withdraw(session, actor=actor, donor=data.donor, from_date=data.from_)
