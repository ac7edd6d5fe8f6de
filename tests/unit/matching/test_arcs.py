from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from coalition.matching import (
    NO_GROUP,
    MatchingInputError,
    PledgeArrays,
    RequirementArrays,
    build_compatible_arcs,
)
from tests.unit.matching.factories import Pledge, Req, excluded, pledges, requirements
from tests.unit.matching.strategies import SmallInstance, small_instances


def _naive_pairs(inst: SmallInstance) -> dict[tuple[int, int], tuple[int, bool]]:
    """Pairs by the rule as written: (pledge row, req row) -> (lateness, substitution)."""
    reqs, offers = inst.requirements, inst.pledges
    banned = set(
        zip(inst.excluded.pledge_id.tolist(), inst.excluded.requirement_id.tolist(), strict=True)
    )
    pairs = {}
    for p in range(len(offers)):
        for r in range(len(reqs)):
            if offers.quantity[p] == 0 or reqs.quantity[r] == 0:
                continue
            same_type = offers.item_type[p] == reqs.item_type[r]
            group = reqs.compat_group[r]
            same_group = group != NO_GROUP and offers.compat_group[p] == group
            if not (same_type or same_group):
                continue
            if (int(offers.id[p]), int(reqs.id[r])) in banned:
                continue
            late = max(0, int(offers.available_from[p]) - int(reqs.needed_by[r]))
            limit = inst.policy.max_lateness_days
            if limit is not None and late > limit:
                continue
            pairs[(p, r)] = (late, not same_type)
    return pairs


@settings(max_examples=200, deadline=None)
@given(small_instances())
def test_build_compatible_arcs_matches_the_rule_as_written(inst: SmallInstance) -> None:
    arcs = build_compatible_arcs(
        inst.requirements,
        inst.pledges,
        excluded=inst.excluded,
        max_lateness_days=inst.policy.max_lateness_days,
    )
    built = {
        (p, r): (late, sub)
        for p, r, late, sub in zip(
            arcs.pledge.tolist(),
            arcs.requirement.tolist(),
            arcs.lateness.tolist(),
            arcs.substitution.tolist(),
            strict=True,
        )
    }
    assert len(built) == len(arcs), "a pair appears twice"
    assert built == _naive_pairs(inst)


@settings(max_examples=100, deadline=None)
@given(small_instances())
def test_arcs_are_contiguous_per_requirement_and_donor(inst: SmallInstance) -> None:
    arcs = build_compatible_arcs(inst.requirements, inst.pledges, excluded=inst.excluded)
    for row in range(len(inst.requirements)):
        block = arcs.requirement[arcs.of_requirement(row)]
        assert np.all(block == row)
        assert int(np.sum(arcs.requirement == row)) == len(block)
        donors = inst.pledges.donor[arcs.pledge[arcs.of_requirement(row)]]
        assert np.all(np.diff(donors) >= 0)


@pytest.mark.parametrize(
    ("req", "pledge", "compatible", "substitution"),
    [
        (Req(1, 5, item_type=1), Pledge(9, 5, item_type=1), True, False),
        (Req(1, 5, item_type=1), Pledge(9, 5, item_type=2), False, False),
        (Req(1, 5, item_type=1, group=7), Pledge(9, 5, item_type=2, group=7), True, True),
        (Req(1, 5, item_type=1, group=7), Pledge(9, 5, item_type=3, group=8), False, False),
        (Req(1, 0, item_type=1), Pledge(9, 5, item_type=1), False, False),
        (Req(1, 5, item_type=1), Pledge(9, 0, item_type=1), False, False),
    ],
)
def test_compatibility_rule(req: Req, pledge: Pledge, compatible: bool, substitution: bool) -> None:
    arcs = build_compatible_arcs(requirements(req), pledges(pledge))
    assert len(arcs) == int(compatible)
    if compatible:
        assert bool(arcs.substitution[0]) is substitution


def test_lateness_counts_days_after_needed_by_only() -> None:
    arcs = build_compatible_arcs(
        requirements(Req(1, 5, needed_by=10)),
        pledges(Pledge(8, 5, available_from=4), Pledge(9, 5, available_from=25)),
    )
    assert dict(zip(arcs.pledge.tolist(), arcs.lateness.tolist(), strict=True)) == {0: 0, 1: 15}


def test_excluded_pairs_and_lateness_limit_are_counted() -> None:
    arcs = build_compatible_arcs(
        requirements(Req(1, 5, needed_by=0)),
        pledges(Pledge(8, 5), Pledge(9, 5, available_from=40), Pledge(10, 5)),
        excluded=excluded((8, 1), (99, 1)),
        max_lateness_days=30,
    )
    assert arcs.pledge.tolist() == [2]
    assert (arcs.excluded, arcs.too_late) == (1, 1)


def test_item_type_in_two_groups_is_refused() -> None:
    with pytest.raises(MatchingInputError, match="two compatibility groups"):
        build_compatible_arcs(
            requirements(Req(1, 5, item_type=1, group=7)),
            pledges(Pledge(9, 5, item_type=1, group=8)),
        )


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("quantity", [-1], ">= 0"),
        ("priority", [6], "priorities"),
        ("priority", [0], "priorities"),
        ("id", [1, 1], "unique"),
        ("item_type", [-3], "item types"),
        ("compat_group", [-2], "compatibility groups"),
        ("needed_by", [1.5], "integers"),
    ],
)
def test_requirement_arrays_reject_bad_columns(
    column: str, values: list[float], message: str
) -> None:
    n = len(values)
    columns: dict[str, object] = {
        "id": np.arange(n),
        "quantity": np.ones(n, np.int64),
        "priority": np.ones(n, np.int64),
        "needed_by": np.zeros(n, np.int64),
        "item_type": np.ones(n, np.int64),
        "compat_group": np.full(n, NO_GROUP),
    }
    columns[column] = np.array(values)
    with pytest.raises(MatchingInputError, match=message):
        RequirementArrays(**columns)  # type: ignore[arg-type]


def test_pledge_arrays_reject_ragged_columns() -> None:
    with pytest.raises(MatchingInputError, match="rows"):
        PledgeArrays(
            id=np.arange(2),
            quantity=np.ones(3, np.int64),
            available_from=np.zeros(2, np.int64),
            item_type=np.ones(2, np.int64),
            compat_group=np.full(2, NO_GROUP),
            donor=np.ones(2, np.int64),
        )
