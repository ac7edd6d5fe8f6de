"""Why a requirement got what it got, or why not, in terms a coordinator can act on.

The explanation is read off the solved instance, not re-derived: it looks at every pledge of
the same item type or compatibility group and says where its quantity went. In an optimal
matching a need is short only if each compatible pledge is either unusable for it (declined,
beyond the lateness limit) or fully used by needs at least as urgent; the text says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from coalition.matching.arcs import excluded_pair_keys, match_key, pair_key
from coalition.matching.arrays import BoolArray, Int64Array

if TYPE_CHECKING:
    from coalition.matching.result import MatchResult


class UnknownRequirement(LookupError):
    """The requirement id was not part of the run."""


class Outcome(StrEnum):
    MET = "met"
    PARTIAL = "partially met"
    UNMET = "not met"
    NOTHING_OPEN = "nothing outstanding"


class Cause(StrEnum):
    NO_COMPATIBLE_SUPPLY = "no_compatible_supply"
    DECLINED = "declined"
    TOO_LATE = "too_late"
    SUPPLY_EXHAUSTED = "supply_exhausted"
    USED_BY_HIGHER_PRIORITY = "used_by_higher_priority"
    USED_BY_EQUAL_PRIORITY = "used_by_equal_priority"
    LATE_SUPPLY = "late_supply"
    SUBSTITUTED = "substituted"
    SPLIT = "split"


@dataclass(frozen=True, slots=True)
class ProposalLine:
    pledge_id: int
    donor: int
    quantity: int
    lateness_days: int
    substitution: bool


@dataclass(frozen=True, slots=True)
class SupplyUse:
    """Where the quantity of a set of compatible pledges went."""

    pledges: int
    quantity: int
    to_this: int
    to_higher_priority: int
    to_equal_priority: int
    to_lower_priority: int
    unallocated: int


@dataclass(frozen=True, slots=True)
class Explanation:
    requirement_id: int
    priority: int
    needed: int
    proposed: int
    outcome: Outcome
    causes: tuple[Cause, ...]
    proposals: tuple[ProposalLine, ...]
    compatible_pledges: int
    """Pledges of the same item type or group with uncommitted quantity."""
    declined_pledges: int
    too_late_pledges: int
    usable: SupplyUse
    """The compatible pledges this requirement could actually draw on."""
    on_time: SupplyUse
    """The usable pledges available by the needed-by day."""
    same_type: SupplyUse
    """The usable pledges of exactly the requested item type."""

    def text(self, donor_names: Mapping[int, str] | None = None) -> str:
        """The explanation in sentences; donors by name where `donor_names` has them."""
        return "\n".join(_render(self, donor_names or {}))


def _supply_use(result: MatchResult, pledge_rows: Int64Array, row: int, priority: int) -> SupplyUse:
    pledges = result.pledges
    prop = result.proposals
    prop_pledge = result.arcs.pledge[prop.arc]
    prop_req = result.arcs.requirement[prop.arc]
    mine = np.isin(prop_pledge, pledge_rows)
    qty = prop.quantity
    this = mine & (prop_req == row)
    others = mine & (prop_req != row)
    offered = int(pledges.quantity[pledge_rows].sum())
    used = int(qty[mine].sum())
    return SupplyUse(
        pledges=len(pledge_rows),
        quantity=offered,
        to_this=int(qty[this].sum()),
        to_higher_priority=int(qty[others & (prop.priority < priority)].sum()),
        to_equal_priority=int(qty[others & (prop.priority == priority)].sum()),
        to_lower_priority=int(qty[others & (prop.priority > priority)].sum()),
        unallocated=offered - used,
    )


def explain(result: MatchResult, requirement_id: int) -> Explanation:
    reqs, pledges, arcs = result.requirements, result.pledges, result.arcs
    found = np.flatnonzero(reqs.id == requirement_id)
    if not len(found):
        raise UnknownRequirement(f"requirement {requirement_id} was not part of this run")
    row = int(found[0])
    priority = int(reqs.priority[row])
    needed = int(reqs.quantity[row])

    key = match_key(reqs.item_type[row : row + 1], reqs.compat_group[row : row + 1])[0]
    compatible = np.flatnonzero(
        (match_key(pledges.item_type, pledges.compat_group) == key) & (pledges.quantity > 0)
    )
    banned = excluded_pair_keys(reqs, pledges, result.excluded)
    declined_mask: BoolArray = np.isin(
        pair_key(np.full(len(compatible), row, np.int64), compatible, len(pledges)), banned
    )
    lateness = np.maximum(pledges.available_from[compatible] - reqs.needed_by[row], 0)
    limit = result.policy.max_lateness_days
    too_late_mask = ~declined_mask & (
        lateness > limit if limit is not None else np.zeros(len(compatible), np.bool_)
    )

    own = arcs.of_requirement(row)
    own_pledges = arcs.pledge[own]
    own_flow = result.flow[own]
    on_time_rows = own_pledges[arcs.lateness[own] == 0]
    same_type_rows = own_pledges[~arcs.substitution[own]]
    proposed = int(own_flow.sum())
    served = np.flatnonzero(own_flow)
    lines = tuple(
        ProposalLine(
            pledge_id=int(pledges.id[own_pledges[i]]),
            donor=int(pledges.donor[own_pledges[i]]),
            quantity=int(own_flow[i]),
            lateness_days=int(arcs.lateness[own][i]),
            substitution=bool(arcs.substitution[own][i]),
        )
        for i in served.tolist()
    )

    usable = _supply_use(result, own_pledges, row, priority)
    on_time = _supply_use(result, on_time_rows, row, priority)
    same_type = _supply_use(result, same_type_rows, row, priority)

    if needed == 0:
        outcome = Outcome.NOTHING_OPEN
    elif proposed == needed:
        outcome = Outcome.MET
    elif proposed:
        outcome = Outcome.PARTIAL
    else:
        outcome = Outcome.UNMET

    causes: list[Cause] = []
    if proposed < needed:
        if not len(compatible):
            causes.append(Cause.NO_COMPATIBLE_SUPPLY)
        if declined_mask.any():
            causes.append(Cause.DECLINED)
        if too_late_mask.any():
            causes.append(Cause.TOO_LATE)
        if usable.pledges:
            causes.append(Cause.SUPPLY_EXHAUSTED)
        if usable.to_higher_priority:
            causes.append(Cause.USED_BY_HIGHER_PRIORITY)
        if usable.to_equal_priority:
            causes.append(Cause.USED_BY_EQUAL_PRIORITY)
    if any(line.lateness_days for line in lines):
        causes.append(Cause.LATE_SUPPLY)
    if any(line.substitution for line in lines):
        causes.append(Cause.SUBSTITUTED)
    if len({line.donor for line in lines}) > 1:
        causes.append(Cause.SPLIT)

    return Explanation(
        requirement_id=requirement_id,
        priority=priority,
        needed=needed,
        proposed=proposed,
        outcome=outcome,
        causes=tuple(causes),
        proposals=lines,
        compatible_pledges=len(compatible),
        declined_pledges=int(declined_mask.sum()),
        too_late_pledges=int(too_late_mask.sum()),
        usable=usable,
        on_time=on_time,
        same_type=same_type,
    )


def _others(use: SupplyUse) -> str:
    parts = []
    if use.to_higher_priority:
        parts.append(f"{use.to_higher_priority} to more urgent needs")
    if use.to_equal_priority:
        parts.append(f"{use.to_equal_priority} to equally urgent needs")
    if use.to_lower_priority:
        parts.append(f"{use.to_lower_priority} to less urgent needs")
    if use.unallocated:
        parts.append(f"{use.unallocated} left unallocated")
    return ", ".join(parts) if parts else "nothing to other needs"


def _render(e: Explanation, donor_names: Mapping[int, str]) -> list[str]:
    out = [
        f"Requirement {e.requirement_id} (priority {e.priority}): needs {e.needed}, "
        f"proposed {e.proposed} ({e.outcome.value})."
    ]
    for line in e.proposals:
        late = f"{line.lateness_days} days late" if line.lateness_days else "on time"
        kind = "substitute type" if line.substitution else "same type"
        out.append(
            f"  pledge {line.pledge_id} (donor {donor_names.get(line.donor, line.donor)}): "
            f"{line.quantity} units, {late}, {kind}"
        )
    for cause in e.causes:
        out.append("- " + _cause_text(e, cause))
    return out


def _cause_text(e: Explanation, cause: Cause) -> str:
    short = e.needed - e.proposed
    if cause is Cause.NO_COMPATIBLE_SUPPLY:
        return "No pledge of this item type or its compatibility group has uncommitted quantity."
    if cause is Cause.DECLINED:
        return (
            f"{e.declined_pledges} compatible pledge(s) were declined for this requirement "
            "earlier and are not proposed again."
        )
    if cause is Cause.TOO_LATE:
        return f"{e.too_late_pledges} compatible pledge(s) arrive later than the lateness limit."
    if cause is Cause.SUPPLY_EXHAUSTED:
        return (
            f"Short by {short}: the {e.usable.quantity} units of the {e.usable.pledges} "
            f"usable pledge(s) went {e.usable.to_this} here, {_others(e.usable)}."
        )
    if cause is Cause.USED_BY_HIGHER_PRIORITY:
        return (
            f"{e.usable.to_higher_priority} units of it serve more urgent needs, which always "
            "come first."
        )
    if cause is Cause.USED_BY_EQUAL_PRIORITY:
        return (
            f"{e.usable.to_equal_priority} units of it serve equally urgent needs: that "
            "allocation is less late overall or splits fewer needs."
        )
    if cause is Cause.LATE_SUPPLY:
        if not e.on_time.pledges:
            return "Late: no usable pledge is available by the needed-by day."
        return (
            f"Late: of the {e.on_time.quantity} units available on time, "
            f"{e.on_time.to_this} came here and {_others(e.on_time)}; moving more of them "
            "here would not lower the total lateness of all needs."
        )
    if cause is Cause.SUBSTITUTED:
        if not e.same_type.pledges:
            return "Substitute: no usable pledge of exactly this item type."
        return (
            f"Substitute: the {e.same_type.quantity} units of exactly this type went "
            f"{_others(e.same_type)}, {e.same_type.to_this} here."
        )
    donors = len({line.donor for line in e.proposals})
    return (
        f"Served by {donors} donors: consolidating on fewer donors only counts after quantity "
        "met and lateness."
    )
