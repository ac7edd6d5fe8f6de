"""The importable resources: participants, catalog item types, requirements and pledges.

Column names are the template headers. Enum values mirror the domain enums (a test keeps
them in step) so this module stays free of SQLAlchemy. Lookups name the database checks an
importer must provide: `participant_code`, `item_type`, `category_code`, `format_code`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from coalition.access.labels import Releasability
from coalition.errors import ValidationFailed
from coalition.io import reference
from coalition.io.rows import (
    Boolean,
    Choice,
    Code,
    Column,
    CurrencyCode,
    DecimalNumber,
    Integer,
    IsoDate,
    ResourceSpec,
    Rule,
    Text,
)

PARTICIPANT_KINDS = ("state", "organisation", "coalition")
CAPABILITY_AREAS = (
    "air_defence", "artillery", "armour", "drones", "demining", "maritime", "air_force", "it",
    "infantry", "logistics", "medical", "other",
)
PLEDGE_STATUSES = (
    "announced", "confirmed", "allocated", "shipped", "delivered", "withdrawn", "cancelled",
)
FUNDING_MECHANISMS = (
    "stock_donation", "donor_funded_procurement", "joint_fund_contribution",
    "joint_fund_purchase", "other",
)
RELEASABILITY = tuple(r.value for r in Releasability)

R = TypeVar("R")

_BIGINT_MAX = 2**63 - 1
# Code shapes and year bounds are those of the domain schemas (registry, catalog), so a row
# that passes here is not refused later by the service.
_UPPER_CODE = r"[A-Z][A-Z0-9_-]*"
_UPPER_RULE = "letters, digits, _ and - only, starting with a letter"
_PARTICIPANT_CODE = Code(max_length=16, min_length=2, case="upper", pattern=_UPPER_CODE,
                         rule=_UPPER_RULE)
_FORMAT_CODE = Code(max_length=32, min_length=2, case="upper", pattern=_UPPER_CODE,
                    rule=_UPPER_RULE)
_CATALOG_CODE = r"[a-z0-9][a-z0-9._-]*"
_CATALOG_RULE = "letters, digits, . _ and - only, starting with a letter or digit"
_ITEM_TYPE_CODE = Code(max_length=80, case="lower", pattern=_CATALOG_CODE, rule=_CATALOG_RULE)
_CATEGORY_CODE = Code(max_length=64, case="lower", pattern=_CATALOG_CODE, rule=_CATALOG_RULE)
_RELEASABILITY = Choice(RELEASABILITY)


def _positional(cls: Callable[..., R]) -> Callable[[dict[str, Any]], R]:
    # The validator fills `values` in column order and record fields follow the same order
    # (a test checks it); positional construction is several times faster than **kwargs,
    # which matters at a million rows.
    return lambda values: cls(*values.values())


def _releasability_column() -> Column:
    return Column("releasability", _RELEASABILITY, default="COALITION", example="COALITION",
                  description="who may see the record")


# --- participants -------------------------------------------------------------------------


@dataclass(slots=True)
class ParticipantRow:
    code: str
    kind: str
    name: str
    nato_member_since: int | None
    eu_member_since: int | None
    eu_member_until: int | None
    gdp_usd: int | None
    gdp_year: int | None
    is_donor: bool
    is_recipient: bool


def _participant_rules(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if v["kind"] == "state" and not reference.is_iso3(v["code"]):
        problems.append(("code", "unknown ISO 3166 alpha-3 code (a state needs its ISO code)"))
    since, until = v["eu_member_since"], v["eu_member_until"]
    if until is not None and (since is None or until < since):
        problems.append(("eu_member_until", "must not be before eu_member_since"))
    if (v["gdp_usd"] is None) != (v["gdp_year"] is None):
        problems.append(("gdp_year", "gdp_usd and gdp_year go together"))
    return problems


PARTICIPANTS: ResourceSpec[ParticipantRow] = ResourceSpec(
    name="participants",
    description="States, organisations and coalitions taking part, keyed by code.",
    key="code",
    columns=(
        Column("code", _PARTICIPANT_CODE, required=True, example="DNK",
               description="ISO 3166 alpha-3 code for a state, a short code for others (EU)"),
        Column("kind", Choice(PARTICIPANT_KINDS), required=True, example="state"),
        Column("name", Text(200), required=True, example="Denmark"),
        Column("nato_member_since", Integer(minimum=1949, maximum=2100), example="1949"),
        Column("eu_member_since", Integer(minimum=1957, maximum=2100), example="1973"),
        Column("eu_member_until", Integer(minimum=1957, maximum=2100), example=""),
        Column("gdp_usd", Integer(minimum=0, maximum=_BIGINT_MAX), example="404198886924",
               description="GDP in current US dollars"),
        Column("gdp_year", Integer(minimum=1960, maximum=2100), example="2023"),
        Column("is_donor", Boolean(), default=False, example="true"),
        Column("is_recipient", Boolean(), default=False, example="false"),
    ),
    rules=(_participant_rules,),
    build=_positional(ParticipantRow),
)


# --- catalog ------------------------------------------------------------------------------


@dataclass(slots=True)
class ItemTypeRow:
    code: str
    name: str
    category: str
    capability_area: str
    unit: str
    unit_value_eur: Decimal | None
    compatibility_group: str | None
    soviet_origin: bool
    description: str


CATALOG: ResourceSpec[ItemTypeRow] = ResourceSpec(
    name="catalog",
    description="Item types of the catalog, keyed by code, each in a category.",
    key="code",
    columns=(
        Column("code", _ITEM_TYPE_CODE, required=True, example="howitzer-155-m777"),
        Column("name", Text(200), required=True, example="M777 155mm towed howitzer"),
        Column("category", _CATEGORY_CODE, required=True, lookup="category_code",
               example="artillery", description="code of an existing category"),
        Column("capability_area", Choice(CAPABILITY_AREAS), required=True, example="artillery"),
        Column("unit", Text(32), default="unit", example="unit"),
        Column("unit_value_eur", DecimalNumber(places=2, max_digits=18), example="3200000.00",
               description="typical value of one unit in EUR"),
        Column("compatibility_group", Text(80), example="155mm NATO",
               description="item types in one group can substitute for each other"),
        Column("soviet_origin", Boolean(), default=False, example="false"),
        Column("description", Text(2000), default="", example=""),
    ),
    build=_positional(ItemTypeRow),
)


# --- requirements -------------------------------------------------------------------------


@dataclass(slots=True)
class RequirementRow:
    reference: str
    recipient: str
    item_type: str
    quantity: int
    priority: int
    needed_by: dt.date
    capability_area: str | None
    format: str | None
    releasability: str
    notes: str


REQUIREMENTS: ResourceSpec[RequirementRow] = ResourceSpec(
    name="requirements",
    description="What the recipient needs, keyed by its reference.",
    key="reference",
    columns=(
        Column("reference", Code(max_length=40), required=True, example="UA-REQ-2024-0001"),
        Column("recipient", _PARTICIPANT_CODE, default="UKR", lookup="participant_code",
               example="UKR"),
        Column("item_type", _ITEM_TYPE_CODE, required=True, lookup="item_type",
               example="howitzer-155-m777"),
        Column("quantity", Integer(minimum=1, maximum=_BIGINT_MAX), required=True, example="12"),
        Column("priority", Integer(minimum=1, maximum=5), required=True, example="1",
               description="1 is the most urgent"),
        Column("needed_by", IsoDate(), required=True, example="2024-06-30"),
        Column("capability_area", Choice(CAPABILITY_AREAS), example="artillery",
               description="blank: the item type's capability area"),
        Column("format", _FORMAT_CODE, lookup="format_code", example="UDCG"),
        _releasability_column(),
        Column("notes", Text(2000), default="", example=""),
    ),
    build=_positional(RequirementRow),
)


# --- pledges ------------------------------------------------------------------------------


@dataclass(slots=True)
class PledgeRow:
    external_id: str | None
    donor: str
    item_type: str
    quantity: int
    amount: Decimal
    currency: str
    fx_rate_to_eur: Decimal
    fx_date: dt.date
    funding: str
    available_from: dt.date
    releasability: str
    # None: announced for a new pledge, unchanged for an existing one.
    status: str | None
    announced_on: dt.date
    format: str | None
    parent_external_id: str | None
    notes: str


def _fx_rule(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    rate = v["fx_rate_to_eur"]
    if v["currency"] == "EUR":
        if rate is not None and rate != 1:
            return [("fx_rate_to_eur", "must be 1 (or blank) when the currency is EUR")]
    elif rate is None:
        return [("fx_rate_to_eur", "required when the currency is not EUR")]
    return []


def _own_parent_rule(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    parent = v["parent_external_id"]
    if parent is not None and parent == v["external_id"]:
        return [("parent_external_id", "a pledge cannot be its own parent")]
    return []


def _purchase_parent_rule(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    if v["parent_external_id"] is None and v["funding"] == "joint_fund_purchase":
        # Without the link to the contribution that paid for it, money would count twice.
        return [("parent_external_id", "required for a joint_fund_purchase")]
    return []


def _build_pledge(v: dict[str, Any]) -> PledgeRow:
    # `v` is the validator's fresh dict for this row, so filling defaults in place is safe.
    announced: dt.date = v["announced_on"]
    if v["fx_rate_to_eur"] is None:
        v["fx_rate_to_eur"] = Decimal(1)
    if v["fx_date"] is None:
        v["fx_date"] = announced
    if v["available_from"] is None:
        v["available_from"] = announced
    return PledgeRow(*v.values())


PLEDGES: ResourceSpec[PledgeRow] = ResourceSpec(
    name="pledges",
    description="What donors offer; external_id makes a re-import update instead of duplicate.",
    key="external_id",
    columns=(
        Column("external_id", Code(max_length=80), example="DNK-2024-017",
               description="your stable id for this pledge; re-importing updates it"),
        Column("donor", _PARTICIPANT_CODE, required=True, lookup="participant_code",
               example="DNK"),
        Column("item_type", _ITEM_TYPE_CODE, required=True, lookup="item_type",
               example="howitzer-155-m777"),
        Column("quantity", Integer(minimum=1, maximum=_BIGINT_MAX), required=True, example="6"),
        Column("amount", DecimalNumber(places=2, max_digits=20), required=True,
               example="19200000.00", description="value in `currency`"),
        Column("currency", CurrencyCode(), required=True, example="EUR"),
        Column("fx_rate_to_eur", DecimalNumber(places=8, positive=True, max_digits=18),
               example="1", description="EUR per unit of currency; blank for EUR"),
        Column("fx_date", IsoDate(), example="2024-02-14", description="blank: announced_on"),
        Column("funding", Choice(FUNDING_MECHANISMS), default="stock_donation",
               example="stock_donation"),
        Column("available_from", IsoDate(), example="2024-03-01",
               description="blank: announced_on"),
        _releasability_column(),
        Column("status", Choice(PLEDGE_STATUSES), example="announced",
               description="blank: announced for a new pledge, unchanged for an existing one"),
        Column("announced_on", IsoDate(), required=True, example="2024-02-14"),
        Column("format", _FORMAT_CODE, lookup="format_code", example="UDCG",
               description="meeting format the pledge was made in"),
        Column("parent_external_id", Code(max_length=80), example="",
               description="for a joint-fund purchase: the contribution that paid for it"),
        Column("notes", Text(2000), default="", example=""),
    ),
    rules=(
        Rule(_fx_rule, reads=("currency", "fx_rate_to_eur")),
        Rule(_own_parent_rule, reads=("external_id", "parent_external_id"),
             only_if="parent_external_id"),
        Rule(_purchase_parent_rule, reads=("funding", "parent_external_id")),
    ),
    build=_build_pledge,
)


SPECS: dict[str, ResourceSpec[Any]] = {
    spec.name: spec for spec in (PARTICIPANTS, CATALOG, REQUIREMENTS, PLEDGES)
}


def get_spec(resource: str) -> ResourceSpec[Any]:
    try:
        return SPECS[resource]
    except KeyError:
        raise ValidationFailed.single(
            "resource", f"unknown resource; use one of {', '.join(SPECS)}", resource
        ) from None


# Columns an export adds after the importable ones: read-only facts (ids, derived values,
# progress). An import accepts and ignores them, so an exported file imports as it is.
EXPORT_ONLY: dict[str, tuple[str, ...]] = {
    "participants": ("id",),
    "catalog": ("id",),
    "requirements": ("id", "status", "quantity_committed", "quantity_in_transit",
                     "quantity_delivered"),
    "pledges": ("id", "value_eur", "quantity_allocated", "quantity_shipped",
                "quantity_delivered"),
}
