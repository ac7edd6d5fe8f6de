"""Matching runs, their proposals, and each donor nation's sovereign decision on them.

A run reads what its actor may see (`loader`), solves it with the optimal engine and stores
the proposals; nothing moves until the donor's own national desk approves a proposal, which
allocates through `pledges.flows.allocate` (conditional UPDATEs: concurrent approvals never
over-commit a pledge or a requirement). A declined pair is never proposed again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.orm import Session

from coalition.access import audit
from coalition.access import policy as access_policy
from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.access.visibility import can_see, visible
from coalition.db import utcnow
from coalition.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coalition.matching import loader
from coalition.matching.arcs import build_compatible_arcs, pair_key
from coalition.matching.arrays import (
    ExcludedPairs,
    MatchingInputError,
    PledgeArrays,
    RequirementArrays,
)
from coalition.matching.engine import EncodingOverflow, match
from coalition.matching.explain import Explanation, UnknownRequirement
from coalition.matching.models import MatchRun, Proposal, ProposalStatus
from coalition.matching.objective import MatchPolicy, evaluate, tier_costs
from coalition.matching.result import MatchResult, Reason, Timings, proposals_from_flow
from coalition.matching.schemas import (
    ExplanationLine,
    ExplanationRead,
    ObjectiveRead,
    RunRead,
)
from coalition.paging import Page, paginate
from coalition.pledges import flows as allocation_flows
from coalition.pledges.models import Pledge
from coalition.registry import service as registry_service
from coalition.registry.models import Format, Participant
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement

#: Who may look at runs and proposals at all (observers see only public records; matching
#: is internal coordination work).
VIEW_MATCHING = access_policy.Permission(
    "view matching runs and proposals",
    frozenset({Role.ADMIN, Role.COORDINATOR, Role.NATIONAL, Role.RECIPIENT, Role.ANALYST}))
#: The sovereign decision is the donor nation's own: its national desk (or an administrator
#: on its recorded instruction), never the secretariat that ran the matching.
DECIDE = access_policy.Permission("decide on matching proposals",
                                  frozenset({Role.ADMIN, Role.NATIONAL}))

RUN_SORTS = {"id": MatchRun.id}
PROPOSAL_SORTS = {"id": Proposal.id, "priority": Proposal.priority,
                  "quantity": Proposal.quantity, "lateness_days": Proposal.lateness_days}


@dataclass(frozen=True)
class MatchRunResult:
    """What `run_matching` hands back: the stored run (None for a dry run), its summary as
    the runner reads it, and the solved instance (proposals, objective, explanations)."""

    run: MatchRun | None
    summary: RunRead
    result: MatchResult
    inputs: loader.MatchInputs


def _scope_format_id(actor: Actor) -> int | None:
    """The format whose records a coordinator sees; None (everything) for an admin."""
    if actor.is_admin or not actor.coordinated_format_ids:
        return None
    return min(actor.coordinated_format_ids)


def reads_in_full(actor: Actor, run: MatchRun) -> bool:
    """Totals and explanations of a run aggregate over its whole scope: only readers of that
    scope get them (an admin every run, a coordinator the runs of their format)."""
    if actor.is_admin:
        return True
    return run.format_id is not None and run.format_id in actor.coordinated_format_ids


def policy_dict(policy: MatchPolicy) -> dict[str, Any]:
    return dataclasses.asdict(policy)


def objective_dict(result: MatchResult) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(result.objective).items()}


def run_matching(session: Session, *, actor: Actor, dry_run: bool = False,
                 policy: MatchPolicy | None = None) -> MatchRunResult:
    """Coordinators and admins propose the optimal matching of what they may see.

    A stored run supersedes the older proposals of its scope still awaiting a decision and
    is audited once (counts and a digest of its proposals); a dry run stores nothing.
    """
    access_policy.ensure(actor, access_policy.RUN_MATCHING)
    policy = policy or MatchPolicy()
    started = time.perf_counter()
    inputs = loader.load_inputs(session, actor=actor)
    loaded = time.perf_counter()
    try:
        result = match(inputs.requirements, inputs.pledges, excluded=inputs.excluded,
                       policy=policy)
    except (MatchingInputError, EncodingOverflow) as exc:
        raise ValidationFailed.single("policy", str(exc)) from exc
    timings = {"load_s": loaded - started, "build_s": result.timings.build_s,
               "solve_s": result.timings.solve_s, "extract_s": result.timings.extract_s}
    format_id = _scope_format_id(actor)
    counts: dict[str, Any] = {
        "requirements": len(inputs.requirements), "pledges": len(inputs.pledges),
        "pairs": len(result.arcs), "excluded_pairs": result.arcs.excluded,
        "proposals": len(result.proposals),
        "quantity_proposed": int(result.proposals.quantity.sum()),
    }
    if dry_run:
        fmt = session.get(Format, format_id) if format_id is not None else None
        summary = RunRead(id=None, dry_run=True, created_at=utcnow(), created_by=actor.label,
                          scope=fmt.code if fmt else None, superseded=0, policy=policy_dict(policy),
                          objective=ObjectiveRead.model_validate(objective_dict(result)),
                          timings=timings, **counts)
        return MatchRunResult(None, summary, result, inputs)

    stored = time.perf_counter()
    run = MatchRun(created_by=actor.label, format_id=format_id, policy=policy_dict(policy),
                   objective=objective_dict(result), timings={}, superseded=0,
                   inputs=loader.pack(inputs.requirements, inputs.pledges, inputs.excluded),
                   **counts)
    session.add(run)
    session.flush()
    run.superseded = _supersede(session, actor=actor, run_id=run.id)
    digest = _store_proposals(session, run_id=run.id, result=result)
    timings["store_s"] = time.perf_counter() - stored
    run.timings = timings
    session.flush()
    audit.record(session, actor=actor, action="matching.run", target=run,
                 after={**counts, "superseded": run.superseded, "scope": run.scope,
                        "policy": run.policy, "proposals_sha256": digest})
    return MatchRunResult(run, summarise(session, actor=actor, run=run), result, inputs)


def _supersede(session: Session, *, actor: Actor, run_id: int) -> int:
    """Older proposals of the runner's scope still awaiting a decision give way to the run."""
    stmt = update(Proposal).where(Proposal.status == ProposalStatus.PROPOSED,
                                  Proposal.run_id != run_id)
    if not actor.is_admin:
        stmt = stmt.where(
            Proposal.pledge_id.in_(visible(select(Pledge.id), actor, Pledge)),
            Proposal.requirement_id.in_(visible(select(Requirement.id), actor, Requirement)))
    done = session.execute(stmt.values(status=ProposalStatus.SUPERSEDED)
                           .execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], done).rowcount)


_PROPOSAL_COLUMNS = ("run_id", "pledge_id", "requirement_id", "donor_id", "quantity",
                     "priority", "lateness_days", "substitution", "reason_code", "reason_text",
                     "status")


def _store_proposals(session: Session, *, run_id: int, result: MatchResult) -> str:
    """Every proposal in one bulk write; returns the SHA-256 of (pledge, need, quantity)."""
    props = result.proposals
    columns = (props.pledge_id.tolist(), props.requirement_id.tolist(), props.donor.tolist(),
               props.quantity.tolist(), props.priority.tolist(),
               props.lateness_days.tolist(), props.substitution.tolist())
    proposed = ProposalStatus.PROPOSED.value
    rows = [(run_id, pledge_id, requirement_id, donor, quantity, priority, late, sub,
             *_reason(priority, late, sub), proposed)
            for pledge_id, requirement_id, donor, quantity, priority, late, sub
            in zip(*columns, strict=True)]
    _bulk_insert(session, Proposal.__tablename__, _PROPOSAL_COLUMNS, rows)
    digest = hashlib.sha256()
    for column in (props.pledge_id, props.requirement_id, props.quantity):
        digest.update(np.ascontiguousarray(column, dtype="<i8").tobytes())
    return digest.hexdigest()


def _bulk_insert(session: Session, table: str, names: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain rows (already in the columns' storage form) straight to the driver.

    A run stores tens of thousands of proposals; the ORM's per-row parameter processing cost
    more than the database here, so rows go to PostgreSQL by COPY and to SQLite by one
    executemany, in the session's own transaction.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in names)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", list(rows))


@functools.lru_cache(maxsize=4096)
def _reason(priority: int, lateness: int, substitution: bool) -> tuple[str, str]:
    reason = Reason(priority, lateness, substitution)
    return reason.code, reason.text


def summarise(session: Session, *, actor: Actor, run: MatchRun,
              with_counts: bool = True) -> RunRead:
    """The run as this actor may read it: everything for its scope's readers, else the header;
    `with_counts` adds per-status counts of the run's proposals the actor can see."""
    header: dict[str, Any] = {"id": run.id, "created_at": run.created_at,
                              "created_by": run.created_by, "scope": run.scope}
    if with_counts:
        counts = dict(session.execute(
            _visible_proposals(actor).where(Proposal.run_id == run.id)
            .with_only_columns(Proposal.status, func.count()).group_by(Proposal.status)).all())
        header["visible_proposals"] = {s: counts.get(s, 0) for s in ProposalStatus}
    if not reads_in_full(actor, run):
        return RunRead(**header)
    return RunRead(**header, requirements=run.requirements, pledges=run.pledges,
                   pairs=run.pairs, excluded_pairs=run.excluded_pairs, proposals=run.proposals,
                   quantity_proposed=run.quantity_proposed, superseded=run.superseded,
                   policy=run.policy, objective=ObjectiveRead.model_validate(run.objective),
                   timings=run.timings)


def list_runs(session: Session, *, actor: Actor, limit: int = 50,
              cursor: str | None = None) -> Page[MatchRun]:
    """Newest first; every reader of matching sees that runs happened (not what they hold)."""
    access_policy.ensure(actor, VIEW_MATCHING)
    return paginate(session, select(MatchRun), id_column=MatchRun.id, sortable=RUN_SORTS,
                    sort="-id", limit=limit, cursor=cursor)


def get_run(session: Session, *, actor: Actor, run_id: int) -> MatchRun:
    access_policy.ensure(actor, VIEW_MATCHING)
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(f"no matching run with id {run_id}")
    return run


def latest_run(session: Session, *, actor: Actor) -> MatchRun | None:
    """The newest run this actor reads in full (their scope's), if any."""
    stmt = select(MatchRun).order_by(MatchRun.id.desc()).limit(1)
    if not actor.is_admin:
        if not actor.coordinated_format_ids:
            return None
        stmt = stmt.where(MatchRun.format_id.in_(sorted(actor.coordinated_format_ids)))
    return session.scalar(stmt)


def _visible_proposals(actor: Actor) -> Select[Proposal]:
    """Proposals whose pledge and requirement the actor may both see."""
    stmt = select(Proposal)
    if actor.is_admin:
        return stmt
    stmt = visible(stmt.join(Pledge, Pledge.id == Proposal.pledge_id), actor, Pledge)
    return visible(stmt.join(Requirement, Requirement.id == Proposal.requirement_id), actor,
                   Requirement)


def list_proposals(session: Session, *, actor: Actor, run_id: int | None = None,
                   donor: str | None = None, status: ProposalStatus | None = None,
                   requirement_id: int | None = None, pledge_id: int | None = None,
                   sort: str = "id", limit: int = 100, cursor: str | None = None
                   ) -> Page[Proposal]:
    """Proposals whose pledge and requirement the actor may see, filtered.

    A national desk sees those of pledges visible to it, its own nation's among them; the
    ones it may decide are `donor=<its code>, status=proposed`.
    """
    access_policy.ensure(actor, VIEW_MATCHING)
    stmt = _visible_proposals(actor)
    if run_id is not None:
        stmt = stmt.where(Proposal.run_id == run_id)
    if donor is not None:
        participant = registry_service.resolve_participant(session, code=donor, field="donor")
        stmt = stmt.where(Proposal.donor_id == participant.id)
    if status is not None:
        stmt = stmt.where(Proposal.status == status)
    if requirement_id is not None:
        stmt = stmt.where(Proposal.requirement_id == requirement_id)
    if pledge_id is not None:
        stmt = stmt.where(Proposal.pledge_id == pledge_id)
    return paginate(session, stmt, id_column=Proposal.id, sortable=PROPOSAL_SORTS, sort=sort,
                    limit=limit, cursor=cursor)


def get_proposal(session: Session, *, actor: Actor, proposal_id: int) -> Proposal:
    """A proposal whose pledge or requirement the actor may not see does not exist for them."""
    access_policy.ensure(actor, VIEW_MATCHING)
    return _get_visible(session, actor, proposal_id)


def _get_visible(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    # populate_existing: a run in this session may have superseded it behind the ORM's back.
    proposal = session.get(Proposal, proposal_id, populate_existing=True)
    if proposal is None or not (
        can_see(actor, proposal.pledge)
        and can_see(actor, session.get_one(Requirement, proposal.requirement_id))
    ):
        raise NotFound(f"no proposal with id {proposal_id}")
    return proposal


def _decidable(session: Session, actor: Actor, proposal_id: int, verb: str) -> Proposal:
    access_policy.ensure(actor, DECIDE)
    proposal = _get_visible(session, actor, proposal_id)
    access_policy.ensure_own_nation(actor, proposal.donor_id, what=f"{verb} proposals")
    if proposal.status is not ProposalStatus.PROPOSED:
        raise Conflict(f"status: proposal {proposal.id} is {proposal.status.value}; only "
                       "proposed ones can be decided")
    return proposal


def _claim(session: Session, actor: Actor, proposal: Proposal, to: ProposalStatus,
           **values: Any) -> None:
    """Moves the proposal out of `proposed` only if nobody else did first (conditional
    UPDATE: of two concurrent decisions on one proposal exactly one wins)."""
    done = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == ProposalStatus.PROPOSED)
        .values(status=to, decided_by=actor.label, decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    if cast(CursorResult[Any], done).rowcount != 1:
        session.refresh(proposal)
        raise Conflict(f"status: proposal {proposal.id} was {proposal.status.value} meanwhile")
    session.refresh(proposal)


def approve_proposal(session: Session, *, actor: Actor, proposal_id: int) -> Proposal:
    """The donor nation accepts: the proposal's quantity becomes an allocation.

    Only the donor's national desk (or an admin) decides. If the pledge or the requirement no
    longer has that quantity (another approval took it), this raises `Conflict` and, the
    caller's transaction rolling back, nothing changes: the proposal stays `proposed`, to be
    declined or superseded by the next run. Approving part of it is not offered: a partial
    allocation is a new decision for the donor, made through `pledges.flows.allocate`.
    """
    proposal = _decidable(session, actor, proposal_id, "approve")
    before = audit.snapshot(proposal)
    _claim(session, actor, proposal, ProposalStatus.APPROVED)
    allocation = allocation_flows.allocate(
        session, actor=actor, pledge_id=proposal.pledge_id,
        requirement_id=proposal.requirement_id, quantity=proposal.quantity,
        note=f"proposal {proposal.id} of matching run {proposal.run_id}")
    proposal.allocation_id = allocation.id
    session.flush()
    audit.record(session, actor=actor, action="proposal.approve", target=proposal,
                 before=before)
    return proposal


def decline_proposal(session: Session, *, actor: Actor, proposal_id: int,
                     reason: str) -> Proposal:
    """The donor nation refuses, saying why; the pair is excluded from every later run."""
    if not reason.strip():
        raise ValidationFailed.single("reason", "a decline needs a reason")
    proposal = _decidable(session, actor, proposal_id, "decline")
    before = audit.snapshot(proposal)
    _claim(session, actor, proposal, ProposalStatus.DECLINED, decline_reason=reason.strip())
    audit.record(session, actor=actor, action="proposal.decline", target=proposal,
                 before=before)
    return proposal


# Explanations ------------------------------------------------------------------------------


def explain_requirement(session: Session, *, actor: Actor, requirement_id: int,
                        run_id: int | None = None) -> ExplanationRead:
    """Why a need got what it got, or why not.

    With `run_id`: from that stored run, rebuilt exactly from its inputs and proposals (only
    readers of the run's scope). Without: from the newest run the actor reads in full if the
    need was part of it, else from a fresh solve of the need's compatibility group over what
    the actor may see (nothing stored). Either way only that group is rebuilt: groups share
    no pledge, so the others cannot change the answer.
    """
    access_policy.ensure(actor, VIEW_MATCHING)
    requirement = requirement_service.get_requirement(session, actor=actor,
                                                      requirement_id=requirement_id)
    items = loader.load_items(session)
    key_types = items.types_in_key(requirement.item_type_id)
    if run_id is not None:
        run = get_run(session, actor=actor, run_id=run_id)
        if not reads_in_full(actor, run):
            raise Forbidden(f"run {run_id} covers records outside your view; explanations "
                            "come from runs of your own scope")
        explanation = _explain_from_run(session, run, requirement_id, key_types)
        if explanation is None:
            raise NotFound(f"requirement {requirement_id} had nothing outstanding in run "
                           f"{run_id}")
        return _explanation_read(session, explanation, run.id)
    latest = latest_run(session, actor=actor)
    if latest is not None:
        explanation = _explain_from_run(session, latest, requirement_id, key_types)
        if explanation is not None:
            return _explanation_read(session, explanation, latest.id)
    inputs = loader.load_inputs(session, actor=actor, item_type_ids=key_types)
    result = match(inputs.requirements, inputs.pledges, excluded=inputs.excluded)
    try:
        return _explanation_read(session, result.explain(requirement_id), None)
    except UnknownRequirement as exc:
        raise NotFound(f"requirement {requirement_id} has nothing outstanding to match") from exc


def _explain_from_run(session: Session, run: MatchRun, requirement_id: int,
                      key_types: list[int]) -> Explanation | None:
    requirements, pledges, excluded = loader.unpack(run.inputs)
    if not np.any(requirements.id == requirement_id):
        return None
    requirements, pledges = loader.restrict(requirements, pledges, key_types)
    proposals = session.execute(
        select(Proposal.pledge_id, Proposal.requirement_id, Proposal.quantity)
        .where(Proposal.run_id == run.id,
               Proposal.requirement_id.in_(requirements.id.tolist()))).all()
    result = rebuild(requirements, pledges, excluded, MatchPolicy(**run.policy), proposals)
    return result.explain(requirement_id)


def rebuild(requirements: RequirementArrays, pledges: PledgeArrays, excluded: ExcludedPairs,
            policy: MatchPolicy, proposals: Sequence[Any]) -> MatchResult:
    """A solved instance from its inputs and its stored proposals, without solving again."""
    arcs = build_compatible_arcs(requirements, pledges, excluded=excluded,
                                 max_lateness_days=policy.max_lateness_days)
    costs = tier_costs(requirements, pledges, arcs, policy)
    flow = np.zeros(len(arcs), np.int64)
    if proposals:
        p_id, r_id, qty = (np.array(c, np.int64) for c in zip(*proposals, strict=True))
        arc_keys = pair_key(arcs.requirement, arcs.pledge, len(pledges))
        order = np.argsort(arc_keys)
        wanted = pair_key(_rows(requirements.id, r_id), _rows(pledges.id, p_id), len(pledges))
        at = order[np.searchsorted(arc_keys[order], wanted)]
        flow[at] = qty
    return MatchResult(
        requirements=requirements, pledges=pledges, excluded=excluded, policy=policy,
        arcs=arcs, costs=costs, flow=flow,
        proposals=proposals_from_flow(requirements, pledges, arcs, flow),
        objective=evaluate(requirements, pledges, arcs, costs, flow), weights=(),
        num_nodes=0, num_arcs=0, timings=Timings(0.0, 0.0, 0.0))


def _rows(ids: Any, wanted: Any) -> Any:
    order = np.argsort(ids)
    return order[np.searchsorted(ids[order], wanted)]


def _explanation_read(session: Session, e: Explanation, run_id: int | None) -> ExplanationRead:
    donor_ids = sorted({line.donor for line in e.proposals})
    codes = dict(session.execute(select(Participant.id, Participant.code)
                                 .where(Participant.id.in_(donor_ids))).all())
    return ExplanationRead(
        requirement_id=e.requirement_id, run_id=run_id, priority=e.priority, needed=e.needed,
        proposed=e.proposed, outcome=e.outcome.value, causes=[c.value for c in e.causes],
        proposals=[ExplanationLine(pledge_id=line.pledge_id, donor=codes[line.donor],
                                   quantity=line.quantity, lateness_days=line.lateness_days,
                                   substitution=line.substitution) for line in e.proposals],
        compatible_pledges=e.compatible_pledges, declined_pledges=e.declined_pledges,
        too_late_pledges=e.too_late_pledges, text=e.text(donor_names=codes))
