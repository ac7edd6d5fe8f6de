"""Kiel donor names -> participant codes: ISO alpha-3 for states, short codes for EU bodies."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cache

from coalition.io import reference


class DonorKind(enum.StrEnum):
    # Same values as registry.models.ParticipantKind.
    STATE = "state"
    ORGANISATION = "organisation"


# EU institutions give aid in their own name but have no ISO code.
ORGANISATIONS: Mapping[str, tuple[str, str]] = {
    "EU (Commission and Council)": ("EU", "European Union (Commission and Council)"),
    "European Peace Facility": ("EPF", "European Peace Facility"),
    "European Investment Bank": ("EIB", "European Investment Bank"),
}

# Release 7 donor names that differ from the reference table's short and official names.
COUNTRY_ALIASES: Mapping[str, str] = {
    "Czech Republic": "CZE",
    "Turkey": "TUR",
    "United Kingdom": "GBR",
    "United States": "USA",
}


@cache
def _builtin() -> dict[str, tuple[str, DonorKind]]:
    index = {
        reference.name_key(name): (code, DonorKind.ORGANISATION)
        for name, (code, _) in ORGANISATIONS.items()
    }
    index.update(
        {reference.name_key(name): (iso3, DonorKind.STATE) for name, iso3 in
         COUNTRY_ALIASES.items()}
    )
    return index


def resolve_donor(
    name: str, extra: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str, DonorKind] | None:
    """(code, kind) for a donor name as Kiel writes it, or None when it is not known.

    `extra` maps further names to (code, kind) for a release that spells donors differently;
    it is consulted first.
    """
    key = reference.name_key(name)
    for known, (code, kind) in (extra or {}).items():
        if reference.name_key(known) == key:
            return code, DonorKind(kind)
    found = _builtin().get(key)
    if found is not None:
        return found
    iso3 = reference.iso3_for_name(name)
    return (iso3, DonorKind.STATE) if iso3 is not None else None
