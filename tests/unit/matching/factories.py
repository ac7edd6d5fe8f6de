"""One-line builders for small matching instances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coalition.matching import (
    NO_GROUP,
    ExcludedPairs,
    MatchResult,
    PledgeArrays,
    RequirementArrays,
)


@dataclass(frozen=True)
class Req:
    id: int
    quantity: int
    priority: int = 3
    needed_by: int = 0
    item_type: int = 1
    group: int = NO_GROUP


@dataclass(frozen=True)
class Pledge:
    id: int
    quantity: int
    available_from: int = 0
    item_type: int = 1
    group: int = NO_GROUP
    donor: int = 1


def requirements(*rows: Req) -> RequirementArrays:
    return RequirementArrays(
        id=np.array([r.id for r in rows], np.int64),
        quantity=np.array([r.quantity for r in rows], np.int64),
        priority=np.array([r.priority for r in rows], np.int64),
        needed_by=np.array([r.needed_by for r in rows], np.int64),
        item_type=np.array([r.item_type for r in rows], np.int64),
        compat_group=np.array([r.group for r in rows], np.int64),
    )


def pledges(*rows: Pledge) -> PledgeArrays:
    return PledgeArrays(
        id=np.array([p.id for p in rows], np.int64),
        quantity=np.array([p.quantity for p in rows], np.int64),
        available_from=np.array([p.available_from for p in rows], np.int64),
        item_type=np.array([p.item_type for p in rows], np.int64),
        compat_group=np.array([p.group for p in rows], np.int64),
        donor=np.array([p.donor for p in rows], np.int64),
    )


def excluded(*pairs: tuple[int, int]) -> ExcludedPairs:
    """Pairs given as (pledge id, requirement id)."""
    return ExcludedPairs(
        pledge_id=np.array([p for p, _ in pairs], np.int64),
        requirement_id=np.array([r for _, r in pairs], np.int64),
    )


def allocation(result: MatchResult) -> dict[tuple[int, int], int]:
    """Proposals as {(pledge id, requirement id): quantity}."""
    props = result.proposals
    return {
        (p, r): q
        for p, r, q in zip(
            props.pledge_id.tolist(),
            props.requirement_id.tolist(),
            props.quantity.tolist(),
            strict=True,
        )
    }
