"""The four resource specs: defaults, cross-column rules, and agreement with the domain."""

from __future__ import annotations

import csv
import datetime as dt
import enum
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from coalition.errors import ValidationFailed
from coalition.io.rows import Lookup, ResourceSpec, RowError, RowValidator, validate_all
from coalition.io.specs import (
    CAPABILITY_AREAS,
    CATALOG,
    FUNDING_MECHANISMS,
    PARTICIPANT_KINDS,
    PARTICIPANTS,
    PLEDGE_STATUSES,
    PLEDGES,
    REQUIREMENTS,
    SPECS,
    PledgeRow,
    get_spec,
)
from coalition.io.tabular import read_rows

ANY: dict[str, Lookup] = {
    name: (lambda code: True) for name in
    ("participant_code", "item_type", "category_code", "format_code")
}

PLEDGE = {
    "external_id": "DNK-1", "donor": "DNK", "item_type": "shell-155", "quantity": "1000",
    "amount": "4200000.00", "currency": "EUR", "announced_on": "2024-02-14",
}


def pledge_errors(**cells: str | None) -> list[RowError]:
    return validate_all(PLEDGES, [(2, {**PLEDGE, **cells})], lookups=ANY)[1]


def test_pledge_defaults_follow_the_announcement() -> None:
    records, errors = validate_all(PLEDGES, [(2, PLEDGE)], lookups=ANY)
    assert errors == []
    pledge = records[0][1]
    assert isinstance(pledge, PledgeRow)
    assert pledge.quantity == 1000
    assert pledge.amount == Decimal("4200000.00")
    assert pledge.fx_rate_to_eur == Decimal(1)
    assert pledge.fx_date == pledge.available_from == dt.date(2024, 2, 14)
    # A blank status leaves an existing pledge's status alone; a new one starts announced.
    assert (pledge.funding, pledge.status, pledge.releasability) == (
        "stock_donation", None, "COALITION")
    assert pledge.notes == ""
    assert pledge.parent_external_id is None


def test_pledge_in_foreign_currency_needs_a_rate() -> None:
    assert pledge_errors(currency="usd") == [
        RowError(2, "fx_rate_to_eur", None, "required when the currency is not EUR"),
    ]
    assert pledge_errors(currency="USD", fx_rate_to_eur="0.92") == []


def test_pledge_in_euro_cannot_have_another_rate() -> None:
    assert pledge_errors(fx_rate_to_eur="0.9") == [
        RowError(2, "fx_rate_to_eur", "0.9", "must be 1 (or blank) when the currency is EUR"),
    ]


def test_joint_fund_purchase_must_name_the_contribution_that_paid() -> None:
    assert [e.reason for e in pledge_errors(funding="joint_fund_purchase")] == [
        "required for a joint_fund_purchase"
    ]
    assert pledge_errors(funding="joint_fund_purchase", parent_external_id="PURL-7") == []
    assert [e.reason for e in pledge_errors(parent_external_id="DNK-1")] == [
        "a pledge cannot be its own parent"
    ]


@pytest.mark.parametrize(
    ("column", "text", "reason"),
    [
        ("quantity", "-5", "must be at least 1"),
        ("quantity", "0", "must be at least 1"),
        ("amount", "-1.00", "must not be negative"),
        ("amount", "1.005", "more than 2 decimal places"),
        ("amount", "123456789012345678901", "too large"),
        ("announced_on", "2024-13-01", "not a valid calendar date"),
        ("status", "promised", "must be one of announced, confirmed"),
        ("releasability", "SECRET", "must be one of PUBLIC, COALITION, NATO, NATIONAL"),
        ("currency", "euro", "not an ISO 4217 currency code"),
    ],
)
def test_pledge_cell_errors(column: str, text: str, reason: str) -> None:
    errors = pledge_errors(**{column: text})
    assert len(errors) == 1
    assert (errors[0].column, errors[0].value) == (column, text)
    assert errors[0].reason.startswith(reason)


def test_pledge_unknown_donor_and_item_type_come_from_the_lookups() -> None:
    lookups = {**ANY, "participant_code": {"DNK"}.__contains__,
               "item_type": {"shell-155"}.__contains__}
    _, errors = validate_all(
        PLEDGES, [(2, {**PLEDGE, "donor": "SWE", "item_type": "rifle"})], lookups=lookups
    )
    assert [(e.column, e.reason) for e in errors] == [
        ("donor", "unknown participant code"), ("item_type", "unknown item type"),
    ]


@pytest.mark.parametrize(
    ("cells", "errors"),
    [
        ({"code": "DNK", "kind": "state"}, []),
        ({"code": "eu", "kind": "organisation", "name": "European Union"}, []),
        ({"code": "XKX", "kind": "state"}, []),
        ({"code": "EU", "kind": "state"},
         [("code", "unknown ISO 3166 alpha-3 code (a state needs its ISO code)")]),
        ({"code": "GBR", "kind": "state", "eu_member_since": "1973", "eu_member_until": "1972"},
         [("eu_member_until", "must not be before eu_member_since")]),
        ({"code": "DNK", "kind": "state", "gdp_usd": "404198886924"},
         [("gdp_year", "gdp_usd and gdp_year go together")]),
        ({"code": "DNK", "kind": "nation"},
         [("kind", "must be one of state, organisation, coalition")]),
        ({"code": "DNK", "kind": "state", "nato_member_since": "1800"},
         [("nato_member_since", "must be at least 1949")]),
        ({"code": "E.U.", "kind": "organisation"},
         [("code", "letters, digits, _ and - only, starting with a letter")]),
    ],
)
def test_participant_rules(cells: dict[str, str], errors: list[tuple[str, str]]) -> None:
    row: dict[str, str | None] = {"name": "Somewhere", **cells}
    _, found = validate_all(PARTICIPANTS, [(2, row)])
    assert [(e.column, e.reason) for e in found] == errors


def test_participant_codes_are_stored_upper_case() -> None:
    records, _ = validate_all(PARTICIPANTS, [(2, {"code": "eu", "kind": "organisation",
                                                  "name": "European Union"})])
    assert records[0][1].code == "EU"


def test_requirement_priority_range() -> None:
    row = {"reference": "UA-1", "item_type": "x", "quantity": "2",
           "priority": "6", "needed_by": "2024-06-30"}
    _, errors = validate_all(REQUIREMENTS, [(2, row)], lookups=ANY)
    assert [(e.column, e.reason) for e in errors] == [("priority", "must be at most 5")]


def test_requirement_recipient_defaults_to_ukraine_and_codes_are_folded() -> None:
    row = {"reference": "UA-1", "item_type": "Shell-155", "quantity": "2", "priority": "1",
           "needed_by": "2024-06-30", "format": "udcg"}
    records, errors = validate_all(REQUIREMENTS, [(2, row)], lookups=ANY)
    assert errors == []
    requirement = records[0][1]
    assert (requirement.recipient, requirement.item_type, requirement.format) == (
        "UKR", "shell-155", "UDCG")


def test_catalog_category_is_checked_through_its_lookup() -> None:
    row = {"code": "m777", "name": "M777", "category": "artillery",
           "capability_area": "artillery"}
    _, errors = validate_all(CATALOG, [(2, row)], lookups={"category_code": lambda c: False})
    assert [(e.column, e.reason) for e in errors] == [("category", "unknown category code")]


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_record_fields_follow_column_order(spec: ResourceSpec[Any]) -> None:
    # Records are built positionally from the values in column order.
    records, errors = validate_all(
        spec, [(2, {c.name: c.example or None for c in spec.columns})], lookups=ANY
    )
    assert errors == []
    record = records[0][1]
    assert [f.name for f in fields(record)] == [c.name for c in spec.columns]


def _values(enum_class: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum_class)


def test_choices_match_the_domain_enums() -> None:
    # Imported here: the specs themselves must not pull in SQLAlchemy.
    from coalition.catalog.models import CapabilityArea
    from coalition.pledges.models import FundingMechanism, PledgeStatus
    from coalition.registry.models import ParticipantKind

    assert _values(CapabilityArea) == CAPABILITY_AREAS
    assert _values(ParticipantKind) == PARTICIPANT_KINDS
    assert _values(PledgeStatus) == PLEDGE_STATUSES
    assert _values(FundingMechanism) == FUNDING_MECHANISMS


def test_unknown_resource_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed, match="unknown resource; use one of participants"):
        get_spec("people")


def test_pledges_csv_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "pledges.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["External ID", "Donor", "Item Type", "Quantity", "Amount", "Currency",
                         "FX rate to EUR", "Announced On", "Status"])
        writer.writerow(["P1", "dnk", "shell-155", "1000", "4200000", "USD", "0.92",
                         "2024-02-14", "Confirmed"])
        writer.writerow(["P2", "DNK", "shell-155", "-1", "1", "EUR", "", "2024-02-14", ""])
        writer.writerow(["P3", "SWE", "shell-155", "5", "1", "EUR", "", "14.02.2024", ""])
    validator = RowValidator(PLEDGES, lookups={
        **ANY, "participant_code": {"DNK"}.__contains__,
    })
    records = list(validator.validate(read_rows(path, PLEDGES.columns)))
    assert [(n, r.donor, r.status, r.fx_rate_to_eur) for n, r in records] == [
        (2, "DNK", "confirmed", Decimal("0.92")),
    ]
    assert [(e.row, e.column, e.reason) for e in validator.errors] == [
        (3, "quantity", "must be at least 1"),
        (4, "donor", "unknown participant code"),
        (4, "announced_on", "not a date (YYYY-MM-DD)"),
    ]
