"""Withdrawal scenarios: what breaks if a donor stops delivering. It only reads.

The data an actor may see is loaded once into arrays; the baseline is the optimal matching of
today's uncommitted supply. A scenario removes the donor's undelivered quantity (its pledges'
uncommitted part and the undelivered part of their allocations) and re-solves. A need's
*coverage* is what is committed to it plus what the matching proposes; the scenario reports
the needs whose coverage falls, by capability area and priority, the value at risk (units x
the item's catalogue unit value) and which other donors could refill each gap.

Only compatibility groups where the withdrawal can cost coverage are re-solved. Groups share
no pledge, so each is its own problem; in a group where every pledge may serve every need (no
declined pair, no lateness limit) the baseline meets every need in full whenever it leaves
supply unused, so if the others' unused supply covers what the donor took away (its proposed
quantity plus its lost commitments), the optimum without the donor meets every need in full
again: no need loses anything there, which is what re-solving would show. Every other group
the donor touches is re-solved with the engine (`resolve_all=True` re-solves them all).
Every group is solved on its own (`match(batch_arcs=1)`), in the baseline as in a scenario:
where optima tie, a group's answer then depends on its own rows only, never on which other
groups happened to share its solver call.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access import policy as access_policy
from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.access.visibility import visibility_clause
from coalition.catalog.models import ItemType
from coalition.errors import ValidationFailed
from coalition.matching import loader
from coalition.matching.arcs import match_key
from coalition.matching.arrays import ExcludedPairs, Int64Array, PledgeArrays, RequirementArrays
from coalition.matching.engine import match
from coalition.matching.objective import MatchPolicy
from coalition.matching.result import MatchResult
from coalition.matching.schemas import (
    AreaPriorityLoss,
    DonorDependency,
    Gap,
    RefillCandidate,
    TopWithdrawalReport,
    WithdrawalReport,
)
from coalition.pledges.models import Allocation, AllocationStatus, Pledge, PledgeStatus
from coalition.registry import service as registry_service
from coalition.registry.models import Participant
from coalition.registry.schemas import ParticipantRef
from coalition.requirements.models import Requirement, RequirementStatus

#: Scenarios aggregate over everything the actor may see: analysis work, not national desks'.
RUN_SCENARIOS = access_policy.Permission(
    "run withdrawal scenarios", frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST}))
#: Priorities whose gaps count as critical.
CRITICAL_PRIORITY = 2
#: Refill candidates listed per gap.
CANDIDATES = 3
#: Pledges still to be delivered, in part or in full.
UNDELIVERED = (PledgeStatus.CONFIRMED, PledgeStatus.ALLOCATED, PledgeStatus.SHIPPED)


@dataclass(frozen=True)
class ScenarioData:
    """Everything the scenarios read, loaded once (one query per table) as arrays."""

    items: loader.ItemTable
    requirements: RequirementArrays
    """Needs not withdrawn with anything undelivered; quantity = what is still uncommitted."""
    committed: Int64Array
    area: Int64Array
    references: list[str]
    pledges: PledgeArrays
    """Confirmed pledges with uncommitted quantity (the matching's supply)."""
    excluded: ExcludedPairs
    # Undelivered pledges of every donor: what a withdrawal takes away.
    out_donor: Int64Array
    out_available: Int64Array
    out_units: Int64Array
    out_value_cents: Int64Array
    # Active allocations with undelivered quantity: commitments a withdrawal breaks.
    alloc_donor: Int64Array
    alloc_available: Int64Array
    alloc_requirement_row: Int64Array
    alloc_undelivered: Int64Array
    # Pledging history: pledges ever made per (donor, category), as a dense table.
    history: Int64Array
    history_donor_row: dict[int, int]
    donors: dict[int, ParticipantRef]
    item_names: dict[int, str]
    policy: MatchPolicy


@dataclass(frozen=True)
class Baseline:
    result: MatchResult
    proposed: Int64Array
    """Per requirement row: quantity the baseline matching proposes."""
    pledge_flow: Int64Array
    """Per pledge row: quantity of it the baseline proposes."""
    req_key: Int64Array
    pledge_key: Int64Array
    incomplete_keys: Int64Array
    """Match keys where not every pledge may serve every need (declined pairs, limits)."""


def load(session: Session, *, actor: Actor, policy: MatchPolicy | None = None) -> ScenarioData:
    """What the actor may see, in arrays; read-only."""
    items = loader.load_items(session)
    req_stmt = select(
        Requirement.id, Requirement.quantity - Requirement.quantity_committed,
        Requirement.priority, loader.day_number_of(Requirement.needed_by),
        Requirement.item_type_id, Requirement.quantity_committed,
    ).where(Requirement.status != RequirementStatus.WITHDRAWN,
            Requirement.quantity > Requirement.quantity_delivered,
            visibility_clause(actor, Requirement)).order_by(Requirement.id)
    r_id, r_qty, r_prio, r_needed, r_type, r_committed = loader.columns(session, req_stmt)
    labels = session.execute(select(Requirement.id, Requirement.reference,
                                    Requirement.capability_area)
                             .where(Requirement.id.in_(select(req_stmt.subquery().c.id)))
                             .order_by(Requirement.id)).all()
    area_code = {area: code for code, area in enumerate(loader.AREAS)}
    requirements = RequirementArrays(r_id, r_qty, r_prio, r_needed, r_type,
                                     items.group[r_type])
    pledges = loader.load_pledges(session, actor=actor, items=items)
    o_donor, o_available, o_type, o_units = loader.columns(session, select(
        Pledge.donor_id, loader.day_number_of(Pledge.available_from), Pledge.item_type_id,
        Pledge.quantity - Pledge.quantity_delivered,
    ).where(Pledge.status.in_(UNDELIVERED), Pledge.quantity > Pledge.quantity_delivered,
            visibility_clause(actor, Pledge)))
    a_donor, a_available, a_requirement, a_undelivered = loader.columns(session, select(
        Pledge.donor_id, loader.day_number_of(Pledge.available_from), Allocation.requirement_id,
        Allocation.quantity - Allocation.quantity_delivered,
    ).join(Pledge, Pledge.id == Allocation.pledge_id)
        .join(Requirement, Requirement.id == Allocation.requirement_id)
        .where(Allocation.status == AllocationStatus.ACTIVE,
               Allocation.quantity > Allocation.quantity_delivered,
               visibility_clause(actor, Pledge), visibility_clause(actor, Requirement)))
    # A commitment counts only against a need loaded above (a withdrawn one is not).
    rows = np.minimum(np.searchsorted(r_id, a_requirement), max(len(r_id) - 1, 0))
    known = (r_id[rows] == a_requirement) if len(r_id) else np.zeros(len(rows), np.bool_)
    h_donor, h_category, h_count = loader.columns(session, select(
        Pledge.donor_id, ItemType.category_id, func.count(),
    ).join(ItemType, ItemType.id == Pledge.item_type_id)
        .where(visibility_clause(actor, Pledge))
        .group_by(Pledge.donor_id, ItemType.category_id))
    donor_ids = np.unique(np.concatenate([h_donor, pledges.donor, o_donor]))
    donor_row = {int(d): i for i, d in enumerate(donor_ids.tolist())}
    history = np.zeros((len(donor_ids), int(items.category.max(initial=0)) + 1), np.int64)
    if len(h_donor):
        history[[donor_row[int(d)] for d in h_donor.tolist()], h_category] = h_count
    donors = {p.id: ParticipantRef.model_validate(p) for p in session.scalars(
        select(Participant).where(Participant.id.in_(donor_ids.tolist())))}
    item_names = dict(session.execute(select(ItemType.id, ItemType.name).where(
        ItemType.id.in_(np.unique(r_type).tolist()))).all())
    return ScenarioData(
        items=items, requirements=requirements, committed=r_committed,
        area=np.array([area_code[a] for _, _, a in labels], np.int64),
        references=[ref for _, ref, _ in labels], pledges=pledges,
        excluded=loader.declined_pairs(session),
        out_donor=o_donor, out_available=o_available, out_units=o_units,
        out_value_cents=o_units * items.unit_value_cents[o_type],
        alloc_donor=a_donor[known], alloc_available=a_available[known],
        alloc_requirement_row=rows[known], alloc_undelivered=a_undelivered[known],
        history=history, history_donor_row=donor_row,
        donors=donors, item_names=item_names, policy=policy or MatchPolicy(),
    )


def _keys(data: ScenarioData) -> tuple[Int64Array, Int64Array]:
    r, p = data.requirements, data.pledges
    return match_key(r.item_type, r.compat_group), match_key(p.item_type, p.compat_group)


def baseline(data: ScenarioData) -> Baseline:
    """Today's optimal matching, the yardstick of every scenario."""
    r, p = data.requirements, data.pledges
    result = match(r, p, excluded=data.excluded, policy=data.policy, batch_arcs=1)
    req_key, pledge_key = _keys(data)
    flow = result.flow
    proposed = np.bincount(result.arcs.requirement, weights=flow,
                           minlength=len(r)).astype(np.int64)
    pledge_flow = np.bincount(result.arcs.pledge, weights=flow, minlength=len(p)).astype(np.int64)
    if data.policy.max_lateness_days is not None:
        incomplete = np.unique(req_key)
    else:
        # A declined pair removes one arc: its group is no longer complete.
        declined_rows = np.isin(r.id, data.excluded.requirement_id)
        incomplete = np.unique(req_key[declined_rows])
    return Baseline(result, proposed, pledge_flow, req_key, pledge_key, incomplete)


def _sum_by(keys: Int64Array, values: Int64Array, wanted: Int64Array) -> Int64Array:
    """Sum of `values` per key, looked up for each of `wanted`."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    totals = np.bincount(inverse, weights=values, minlength=len(uniq)).astype(np.int64)
    if not len(uniq):
        return np.zeros(len(wanted), np.int64)
    at = np.minimum(np.searchsorted(uniq, wanted), len(uniq) - 1)
    return np.where(uniq[at] == wanted, totals[at], 0)


@dataclass(frozen=True)
class _Outcome:
    coverage_before: Int64Array
    coverage_after: Int64Array
    scenario_flow: Int64Array
    """Per pledge row (removed pledges: 0): proposed quantity in the scenario."""
    resolved_keys: Int64Array
    removed: Int64Array


def _solve_scenario(data: ScenarioData, base: Baseline, donor_id: int,
                    from_day: int | None, resolve_all: bool) -> _Outcome:
    r, p = data.requirements, data.pledges
    removed = p.donor == donor_id
    lost = data.alloc_donor == donor_id
    if from_day is not None:
        removed &= p.available_from >= from_day
        lost &= data.alloc_available >= from_day
    lost_commit = np.bincount(data.alloc_requirement_row[lost],
                              weights=data.alloc_undelivered[lost],
                              minlength=len(r)).astype(np.int64)
    coverage_before = data.committed + base.proposed
    coverage_after = coverage_before.copy()
    scenario_flow = base.pledge_flow * ~removed

    # Per key: what the donor took away, and what the others leave unused.
    freed_keys = np.concatenate([base.pledge_key[removed], base.req_key])
    freed_values = np.concatenate([base.pledge_flow[removed], lost_commit])
    keys = np.unique(np.concatenate([base.req_key, base.pledge_key]))
    freed = _sum_by(freed_keys, freed_values, keys)
    kept = ~removed
    spare = _sum_by(base.pledge_key[kept], (p.quantity - base.pledge_flow)[kept], keys)
    if resolve_all:
        resolve = keys[np.isin(keys, base.pledge_key[removed]) | (freed > 0)]
    else:
        at_risk = (freed > spare) | np.isin(keys, base.incomplete_keys)
        resolve = keys[(freed > 0) & at_risk]
    if len(resolve):
        r_rows = np.flatnonzero(np.isin(base.req_key, resolve))
        p_rows = np.flatnonzero(np.isin(base.pledge_key, resolve) & kept)
        sub_r = RequirementArrays(r.id[r_rows], r.quantity[r_rows] + lost_commit[r_rows],
                                  r.priority[r_rows], r.needed_by[r_rows], r.item_type[r_rows],
                                  r.compat_group[r_rows])
        sub_p = PledgeArrays(p.id[p_rows], p.quantity[p_rows], p.available_from[p_rows],
                             p.item_type[p_rows], p.compat_group[p_rows], p.donor[p_rows])
        result = match(sub_r, sub_p, excluded=data.excluded, policy=data.policy, batch_arcs=1)
        proposed = np.bincount(result.arcs.requirement, weights=result.flow,
                               minlength=len(sub_r)).astype(np.int64)
        coverage_after[r_rows] = data.committed[r_rows] - lost_commit[r_rows] + proposed
        scenario_flow[p_rows] = np.bincount(result.arcs.pledge, weights=result.flow,
                                            minlength=len(sub_p)).astype(np.int64)
    return _Outcome(coverage_before, coverage_after, scenario_flow, resolve,
                    np.flatnonzero(removed))


def _candidates(data: ScenarioData, base: Baseline, outcome: _Outcome, donor_id: int,
                rows: Sequence[int]) -> list[list[RefillCandidate]]:
    """Other donors with uncommitted supply in the gap's group or a history in its category.

    A pledge whose donor declined it for this very need does not count as supply for it.
    """
    p = data.pledges
    others = p.donor != donor_id
    declined: dict[int, list[int]] = {}
    pledge_row = {int(pid): i for i, pid in enumerate(p.id.tolist())}
    for pid, rid in zip(data.excluded.pledge_id.tolist(), data.excluded.requirement_id.tolist(),
                        strict=True):
        if pid in pledge_row:
            declined.setdefault(rid, []).append(pledge_row[pid])
    # One row per (key, donor): uncommitted and scenario-spare quantity of the others.
    combo = np.stack([base.pledge_key[others], p.donor[others]])
    pairs, inverse = np.unique(combo, axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    uncommitted = np.bincount(inverse, weights=p.quantity[others],
                              minlength=pairs.shape[1]).astype(np.int64)
    spare = np.bincount(inverse, weights=(p.quantity - outcome.scenario_flow)[others],
                        minlength=pairs.shape[1]).astype(np.int64)
    out = []
    for row in rows:
        key = base.req_key[row]
        lo, hi = np.searchsorted(pairs[0], [key, key + 1])
        category = int(data.items.category[data.requirements.item_type[row]])
        found: dict[int, tuple[int, int, int]] = {
            int(d): (int(uncommitted[i]), int(spare[i]), 0)
            for i, d in zip(range(lo, hi), pairs[1, lo:hi].tolist(), strict=True)}
        for i in declined.get(int(data.requirements.id[row]), []):
            donor = int(p.donor[i])
            if donor in found:
                u, s, h = found[donor]
                left = int(p.quantity[i] - outcome.scenario_flow[i])
                found[donor] = (max(u - int(p.quantity[i]), 0), max(s - left, 0), h)
        history = data.history[:, category] if category >= 0 else np.zeros(0, np.int64)
        for donor, hrow in data.history_donor_row.items():
            if donor != donor_id and len(history) and history[hrow] > 0:
                u, s, _ = found.get(donor, (0, 0, 0))
                found[donor] = (u, s, int(history[hrow]))
        useful = {d: v for d, v in found.items() if v[0] > 0 or v[2] > 0}
        ranked = sorted(useful.items(), key=lambda kv: (-kv[1][1], -kv[1][0], -kv[1][2], kv[0]))
        out.append([RefillCandidate(donor=data.donors[d].code, uncommitted_quantity=u,
                                    spare_quantity=s, category_pledges=h)
                    for d, (u, s, h) in ranked[:CANDIDATES]])
    return out


def scenario(data: ScenarioData, base: Baseline, *, donor_id: int,
             from_date: dt.date | None = None, resolve_all: bool = False,
             max_gaps: int | None = None) -> WithdrawalReport:
    """One donor withdraws (from `from_date`: only its pledges available on or after it)."""
    started = time.perf_counter()
    from_day = loader.day_number(from_date) if from_date is not None else None
    outcome = _solve_scenario(data, base, donor_id, from_day, resolve_all)
    r = data.requirements
    loss = np.maximum(outcome.coverage_before - outcome.coverage_after, 0)
    gap_rows = np.flatnonzero(loss)
    unit_value = data.items.unit_value_cents[r.item_type]
    value_lost = loss * unit_value
    critical = r.priority <= CRITICAL_PRIORITY
    # Largest first: most urgent, then most value at risk.
    order = gap_rows[np.lexsort((r.id[gap_rows], -value_lost[gap_rows], r.priority[gap_rows]))]
    listed = order if max_gaps is None else order[:max_gaps]
    candidates = _candidates(data, base, outcome, donor_id, listed.tolist())
    gaps = [Gap(requirement_id=int(r.id[i]), reference=data.references[i],
                item_type=data.item_names[int(r.item_type[i])],
                capability_area=loader.AREAS[int(data.area[i])], priority=int(r.priority[i]),
                needed=int(r.quantity[i] + data.committed[i]),
                coverage_before=int(outcome.coverage_before[i]),
                coverage_after=int(outcome.coverage_after[i]), quantity_lost=int(loss[i]),
                value_lost_eur_cents=int(value_lost[i]), candidates=candidates[n])
            for n, i in enumerate(listed.tolist())]
    by_area = []
    if len(gap_rows):
        combo = np.stack([data.area[gap_rows], r.priority[gap_rows]])
        groups, inverse = np.unique(combo, axis=1, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, minlength=groups.shape[1])
        units = np.bincount(inverse, weights=loss[gap_rows], minlength=groups.shape[1])
        values = np.bincount(inverse, weights=value_lost[gap_rows], minlength=groups.shape[1])
        by_area = [AreaPriorityLoss(capability_area=loader.AREAS[int(a)], priority=int(pr),
                                    requirements=int(c), quantity_lost=int(u),
                                    value_lost_eur_cents=int(v))
                   for a, pr, c, u, v in zip(groups[0].tolist(), groups[1].tolist(),
                                             counts.tolist(), units.tolist(), values.tolist(),
                                             strict=True)]
        by_area.sort(key=lambda x: (x.priority, -x.value_lost_eur_cents))
    out = data.out_donor == donor_id
    if from_day is not None:
        out &= data.out_available >= from_day
    return WithdrawalReport(
        donor=data.donors[donor_id] if donor_id in data.donors else _unknown(donor_id),
        from_date=from_date, pledges_withdrawn=int(out.sum()),
        quantity_withdrawn=int(data.out_units[out].sum()),
        value_withdrawn_eur_cents=int(data.out_value_cents[out].sum()),
        requirements_losing=len(gap_rows),
        critical_requirements_losing=int(critical[gap_rows].sum()),
        quantity_lost=int(loss.sum()), value_lost_eur_cents=int(value_lost.sum()),
        critical_quantity_lost=int(loss[critical].sum()), by_area_priority=by_area, gaps=gaps,
        resolved_groups=len(outcome.resolved_keys), seconds=time.perf_counter() - started)


def _unknown(donor_id: int) -> ParticipantRef:
    return ParticipantRef(id=donor_id, code="?", name="?")


def withdraw(session: Session, *, actor: Actor, donor: str, from_date: dt.date | None = None,
             resolve_all: bool = False, max_gaps: int | None = None) -> WithdrawalReport:
    """What breaks if `donor` stops delivering what it has not delivered yet (optionally only
    pledges available from `from_date`). Computed over what the actor may see; read-only."""
    access_policy.ensure(actor, RUN_SCENARIOS)
    participant = registry_service.resolve_participant(session, code=donor, field="donor")
    started = time.perf_counter()
    data = load(session, actor=actor)
    report = scenario(data, baseline(data), donor_id=participant.id, from_date=from_date,
                      resolve_all=resolve_all, max_gaps=max_gaps)
    if participant.id not in data.donors:
        report = report.model_copy(update={"donor": ParticipantRef.model_validate(participant)})
    return report.model_copy(update={"seconds": time.perf_counter() - started})


def top_donors(session: Session, *, actor: Actor, top: int) -> list[tuple[int, int]]:
    """(donor id, pledged value in EUR cents) of the `top` donors by value the actor sees;
    withdrawn and cancelled pledges do not count."""
    rows = session.execute(
        select(Pledge.donor_id, func.sum(Pledge.value_eur_cents))
        .where(Pledge.status.not_in([PledgeStatus.WITHDRAWN, PledgeStatus.CANCELLED]),
               visibility_clause(actor, Pledge))
        .group_by(Pledge.donor_id)
        .order_by(func.sum(Pledge.value_eur_cents).desc(), Pledge.donor_id).limit(top)).all()
    return [(int(d), int(v)) for d, v in rows]


def withdraw_top(session: Session, *, actor: Actor, top: int = 10,
                 max_gaps: int = 10) -> TopWithdrawalReport:
    """One scenario per top donor by pledged value, ranked by the critical (priority 1-2)
    gaps its departure would open: the coalition's dependency on single donors. The data is
    loaded and the baseline solved once; each scenario only masks one donor."""
    access_policy.ensure(actor, RUN_SCENARIOS)
    if top < 1:
        raise ValidationFailed.single("top", "must be at least 1", top)
    started = time.perf_counter()
    data = load(session, actor=actor)
    base = baseline(data)
    donors = top_donors(session, actor=actor, top=top)
    reports = [scenario(data, base, donor_id=donor_id, max_gaps=max_gaps)
               for donor_id, _ in donors]
    value = dict(donors)
    ranked = sorted(reports, key=lambda rep: (-rep.critical_requirements_losing,
                                              -rep.critical_quantity_lost,
                                              -rep.value_lost_eur_cents, rep.donor.code))
    return TopWithdrawalReport(
        donors=[DonorDependency(rank=n, donor=rep.donor,
                                pledged_value_eur_cents=value[rep.donor.id],
                                critical_requirements_losing=rep.critical_requirements_losing,
                                critical_quantity_lost=rep.critical_quantity_lost,
                                requirements_losing=rep.requirements_losing,
                                value_lost_eur_cents=rep.value_lost_eur_cents)
                for n, rep in enumerate(ranked, start=1)],
        scenarios=ranked, seconds=time.perf_counter() - started)

