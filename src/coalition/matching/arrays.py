"""The column-oriented inputs of the matching engine: requirements, pledges, declined pairs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Compatibility group of an item type that has none: it can only be served by the same type.
NO_GROUP = -1

MIN_PRIORITY = 1
MAX_PRIORITY = 5


class MatchingInputError(ValueError):
    """The arrays handed to the engine are inconsistent (lengths, ranges, duplicate ids)."""


def _int64(values: ArrayLike, name: str) -> Int64Array:
    array = np.asarray(values)
    if array.ndim != 1:
        raise MatchingInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise MatchingInputError(f"{name} must hold integers, got {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)


def _coerce_columns(obj: Any) -> int:
    """Turn every field into a contiguous int64 vector and return the common length."""
    length: int | None = None
    for field in fields(obj):
        column = _int64(getattr(obj, field.name), f"{type(obj).__name__}.{field.name}")
        object.__setattr__(obj, field.name, column)
        if length is None:
            length = len(column)
        elif len(column) != length:
            raise MatchingInputError(
                f"{type(obj).__name__}: column {field.name} has {len(column)} rows, "
                f"expected {length}"
            )
    return length or 0


def _check_unique(ids: Int64Array, what: str) -> None:
    if len(np.unique(ids)) != len(ids):
        raise MatchingInputError(f"{what} ids must be unique")


def _check_item_columns(item_type: Int64Array, compat_group: Int64Array, what: str) -> None:
    if np.any(item_type < 0):
        raise MatchingInputError(f"{what} item types must be >= 0")
    if np.any(compat_group < NO_GROUP):
        raise MatchingInputError(f"{what} compatibility groups must be >= 0 or NO_GROUP")


@dataclass(frozen=True, slots=True)
class RequirementArrays:
    """Open requirements, one row each; quantities are what is still unmet."""

    id: Int64Array
    quantity: Int64Array
    priority: Int64Array
    needed_by: Int64Array
    """Day number (any fixed epoch, the same as `PledgeArrays.available_from`)."""
    item_type: Int64Array
    compat_group: Int64Array
    """Compatibility group of the item type, or `NO_GROUP`."""

    def __post_init__(self) -> None:
        _coerce_columns(self)
        _check_unique(self.id, "requirement")
        if np.any(self.quantity < 0):
            raise MatchingInputError("requirement quantities must be >= 0")
        if np.any((self.priority < MIN_PRIORITY) | (self.priority > MAX_PRIORITY)):
            raise MatchingInputError(
                f"requirement priorities must be in {MIN_PRIORITY}..{MAX_PRIORITY}"
            )
        _check_item_columns(self.item_type, self.compat_group, "requirement")

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True, slots=True)
class PledgeArrays:
    """Pledges with uncommitted quantity, one row each."""

    id: Int64Array
    quantity: Int64Array
    available_from: Int64Array
    """Day number on the same epoch as `RequirementArrays.needed_by`."""
    item_type: Int64Array
    compat_group: Int64Array
    donor: Int64Array

    def __post_init__(self) -> None:
        _coerce_columns(self)
        _check_unique(self.id, "pledge")
        if np.any(self.quantity < 0):
            raise MatchingInputError("pledge quantities must be >= 0")
        _check_item_columns(self.item_type, self.compat_group, "pledge")

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True, slots=True)
class ExcludedPairs:
    """(pledge id, requirement id) pairs that must not be proposed again, e.g. declined."""

    pledge_id: Int64Array
    requirement_id: Int64Array

    def __post_init__(self) -> None:
        _coerce_columns(self)

    def __len__(self) -> int:
        return len(self.pledge_id)

    @classmethod
    def empty(cls) -> ExcludedPairs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))


def check_item_groups(requirements: RequirementArrays, pledges: PledgeArrays) -> None:
    """Every item type must belong to one compatibility group in both tables.

    The group is a property of the item type in the catalogue; two rows that disagree mean
    the arrays were assembled from different catalogue versions, and matching them would
    silently allow or forbid substitutions.
    """
    types = np.concatenate([requirements.item_type, pledges.item_type])
    groups = np.concatenate([requirements.compat_group, pledges.compat_group])
    if not len(types):
        return
    order = np.lexsort((groups, types))
    types, groups = types[order], groups[order]
    same_type = types[1:] == types[:-1]
    clash = same_type & (groups[1:] != groups[:-1])
    if np.any(clash):
        bad = int(types[1:][clash][0])
        raise MatchingInputError(f"item type {bad} appears with two compatibility groups")
