from __future__ import annotations

import pytest
from hypothesis import given, settings

from coalition.matching import Cause, MatchPolicy, Outcome, UnknownRequirement, match
from tests.unit.matching.factories import Pledge, Req, excluded, pledges, requirements
from tests.unit.matching.strategies import SmallInstance, small_instances


def test_met_requirement_lists_its_proposals() -> None:
    result = match(requirements(Req(1, 5)), pledges(Pledge(10, 3), Pledge(11, 2)))
    why = result.explain(1)
    assert why.outcome is Outcome.MET
    assert (why.needed, why.proposed) == (5, 5)
    assert sorted(line.pledge_id for line in why.proposals) == [10, 11]
    assert why.causes == ()
    assert why.text().splitlines()[0] == "Requirement 1 (priority 3): needs 5, proposed 5 (met)."


def test_no_compatible_supply() -> None:
    result = match(requirements(Req(1, 5, item_type=1)), pledges(Pledge(10, 5, item_type=2)))
    why = result.explain(1)
    assert why.outcome is Outcome.UNMET
    assert why.causes == (Cause.NO_COMPATIBLE_SUPPLY,)
    assert "No pledge of this item type" in why.text()


def test_declined_pairs_are_named() -> None:
    result = match(
        requirements(Req(1, 5)),
        pledges(Pledge(10, 5)),
        excluded=excluded((10, 1)),
    )
    why = result.explain(1)
    assert why.causes == (Cause.DECLINED,)
    assert why.declined_pledges == 1
    assert "declined" in why.text()


def test_lateness_limit_is_named() -> None:
    result = match(
        requirements(Req(1, 5, needed_by=0)),
        pledges(Pledge(10, 5, available_from=90)),
        policy=MatchPolicy(max_lateness_days=30),
    )
    assert result.explain(1).causes == (Cause.TOO_LATE,)


def test_supply_taken_by_more_urgent_need() -> None:
    result = match(
        requirements(Req(1, 5, priority=4), Req(2, 4, priority=1)),
        pledges(Pledge(10, 6)),
    )
    why = result.explain(1)
    assert why.outcome is Outcome.PARTIAL
    assert why.causes == (Cause.SUPPLY_EXHAUSTED, Cause.USED_BY_HIGHER_PRIORITY)
    assert (why.usable.to_this, why.usable.to_higher_priority) == (2, 4)
    assert "Short by 3" in why.text()


def test_supply_taken_by_equally_urgent_need_that_is_less_late() -> None:
    # Need 2 is due later: giving it the pledge makes nobody late, giving it to 1 would.
    result = match(
        requirements(Req(1, 5, needed_by=0), Req(2, 5, needed_by=20)),
        pledges(Pledge(10, 5, available_from=10)),
    )
    why = result.explain(1)
    assert why.causes == (Cause.SUPPLY_EXHAUSTED, Cause.USED_BY_EQUAL_PRIORITY)
    assert why.usable.to_equal_priority == 5


def test_late_and_substituted_supply_is_explained() -> None:
    # The on-time exact pledge serves need 2; need 1 is due later, so the late substitute
    # costs it 5 + 7 days per unit instead of 20 + 7 for need 2.
    result = match(
        requirements(
            Req(1, 5, priority=2, needed_by=25, item_type=1, group=7),
            Req(2, 5, priority=1, needed_by=10, item_type=1, group=7),
        ),
        pledges(
            Pledge(10, 5, available_from=0, item_type=1, group=7),
            Pledge(11, 5, available_from=30, item_type=2, group=7, donor=2),
        ),
    )
    why = result.explain(1)
    assert why.outcome is Outcome.MET
    assert why.causes == (Cause.LATE_SUPPLY, Cause.SUBSTITUTED)
    assert why.on_time.to_higher_priority == 5
    assert why.same_type.to_higher_priority == 5
    text = why.text()
    assert "5 days late" in text
    assert "Substitute: the 5 units of exactly this type went 5 to more urgent needs" in text


def test_split_is_explained() -> None:
    result = match(
        requirements(Req(1, 10)), pledges(Pledge(10, 5, donor=1), Pledge(11, 5, donor=2))
    )
    why = result.explain(1)
    assert why.causes == (Cause.SPLIT,)
    assert "Served by 2 donors" in why.text()


def test_nothing_outstanding() -> None:
    result = match(requirements(Req(1, 0)), pledges(Pledge(10, 5)))
    assert result.explain(1).outcome is Outcome.NOTHING_OPEN


def test_unknown_requirement() -> None:
    result = match(requirements(Req(1, 1)), pledges(Pledge(10, 1)))
    with pytest.raises(UnknownRequirement):
        result.explain(99)


@settings(max_examples=100, deadline=None)
@given(small_instances())
def test_a_short_need_always_has_a_cause_and_never_loses_to_less_urgent_ones(
    inst: SmallInstance,
) -> None:
    result = match(inst.requirements, inst.pledges, excluded=inst.excluded, policy=inst.policy)
    for rid in inst.requirements.id.tolist():
        why = result.explain(rid)
        assert why.proposed == sum(line.quantity for line in why.proposals)
        if why.proposed < why.needed:
            assert why.causes
            # Optimality: usable supply is never idle nor given to less urgent needs.
            assert why.usable.unallocated == 0
            assert why.usable.to_lower_priority == 0
        assert why.text()
