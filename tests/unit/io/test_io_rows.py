"""Parsers, row validation, the error limit and laziness of `coalition.io.rows`."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from coalition.errors import ValidationFailed
from coalition.io.rows import (
    Boolean,
    CellError,
    Choice,
    Code,
    Column,
    CurrencyCode,
    DecimalNumber,
    Integer,
    Iso3,
    IsoDate,
    Parser,
    ResourceSpec,
    RowError,
    RowValidator,
    Text,
    validate_all,
)


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (Integer(), "0", 0),
        (Integer(), "+12", 12),
        (Integer(), "12.00", 12),
        (Integer(minimum=None), "-3", -3),
        (Integer(minimum=1, maximum=5), "5", 5),
        (DecimalNumber(), "19200000.00", Decimal("19200000.00")),
        (DecimalNumber(), "2.50", Decimal("2.50")),
        (DecimalNumber(), "2.500", Decimal("2.500")),
        (DecimalNumber(), "1E+3", Decimal("1E+3")),
        (DecimalNumber(places=8, positive=True), "0.92345678", Decimal("0.92345678")),
        (IsoDate(), "2024-02-29", dt.date(2024, 2, 29)),
        (Choice(("announced", "COALITION")), "Coalition", "COALITION"),
        (Iso3(), "dnk", "DNK"),
        (Iso3(), "XKX", "XKX"),
        (CurrencyCode(), "eur", "EUR"),
        (Code(max_length=16, case="upper"), "eu", "EU"),
        (Code(max_length=80), "howitzer-155/m777.a_1", "howitzer-155/m777.a_1"),
        (Code(max_length=80, case="lower", pattern="[a-z0-9-]+"), "M777-A2", "m777-a2"),
        (Text(5), "abcde", "abcde"),
        (Boolean(), "Yes", True),
        (Boolean(), "0", False),
    ],
)
def test_parser_accepts(parser: Parser[Any], text: str, expected: object) -> None:
    assert parser(text) == expected


@pytest.mark.parametrize(
    ("parser", "text", "reason"),
    [
        (Integer(), "-1", "must not be negative"),
        (Integer(minimum=1), "0", "must be at least 1"),
        (Integer(minimum=1, maximum=5), "6", "must be at most 5"),
        (Integer(), "1.5", "not a whole number"),
        (Integer(), "1e3", "not a whole number"),
        (Integer(), "twelve", "not a whole number"),
        (DecimalNumber(), "-0.01", "must not be negative"),
        (DecimalNumber(), "12,50", "not a number (use a point as the decimal separator)"),
        (DecimalNumber(), "abc", "not a number"),
        (DecimalNumber(), "NaN", "not a number"),
        (DecimalNumber(), "Infinity", "not a number"),
        (DecimalNumber(), "1.234", "more than 2 decimal places"),
        (DecimalNumber(), "1.2E-5", "more than 2 decimal places"),
        (DecimalNumber(max_digits=6), "10000.00", "too large"),
        (DecimalNumber(positive=True), "0", "must be greater than 0"),
        (IsoDate(), "14/02/2024", "not a date (YYYY-MM-DD)"),
        (IsoDate(), "2024-02-30", "not a valid calendar date"),
        (IsoDate(), "20240214", "not a date (YYYY-MM-DD)"),
        (Choice(("announced", "confirmed")), "promised", "must be one of announced, confirmed"),
        (Iso3(), "DK", "not an ISO 3166 alpha-3 code (three letters)"),
        (Iso3(), "ABC", "unknown ISO 3166 alpha-3 code"),
        (CurrencyCode(), "EURO", "not an ISO 4217 currency code (three letters)"),
        (Code(max_length=4), "ABCDE", "longer than 4 characters"),
        (Code(max_length=40), "has space", "letters, digits and . _ / - only"),
        (Code(max_length=40, min_length=2), "D", "shorter than 2 characters"),
        (Code(max_length=40, pattern="[A-Z]+", rule="capitals only"), "D1", "capitals only"),
        (Text(3), "abcd", "longer than 3 characters"),
        (Boolean(), "maybe", "must be true or false"),
    ],
)
def test_parser_refuses(parser: Parser[Any], text: str, reason: str) -> None:
    with pytest.raises(CellError) as caught:
        parser(text)
    assert str(caught.value).startswith(reason)


SPEC: ResourceSpec[dict[str, Any]] = ResourceSpec(
    name="things",
    key="ref",
    columns=(
        Column("ref", Code(max_length=10), required=True),
        Column("donor", Iso3(), required=True, lookup="participant_code"),
        Column("item_type", Code(max_length=20), required=True, lookup="item_type"),
        Column("quantity", Integer(minimum=1), required=True),
        Column("amount", DecimalNumber(), default=Decimal(0)),
        Column("status", Choice(("announced", "confirmed")), default="announced"),
        Column("on", IsoDate()),
    ),
    build=dict,
)
KNOWN = {"participant_code": {"DNK", "POL"}.__contains__, "item_type": {"shell"}.__contains__}


def good(ref: str = "r1", **overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {"ref": ref, "donor": "DNK", "item_type": "shell",
                                  "quantity": "3", "amount": "10.50", "status": "confirmed",
                                  "on": "2024-01-31"}
    row.update(overrides)
    return row


def test_valid_row_becomes_a_typed_record() -> None:
    records, errors = validate_all(SPEC, [(2, good())], lookups=KNOWN)
    assert errors == []
    assert records == [(2, {"ref": "r1", "donor": "DNK", "item_type": "shell", "quantity": 3,
                            "amount": Decimal("10.50"), "status": "confirmed",
                            "on": dt.date(2024, 1, 31)})]


def test_blank_optional_cells_take_their_defaults() -> None:
    row = {"ref": "r1", "donor": "DNK", "item_type": "shell", "quantity": "3"}
    records, _ = validate_all(SPEC, [(2, row)], lookups=KNOWN)
    assert records[0][1]["amount"] == Decimal(0)
    assert records[0][1]["status"] == "announced"
    assert records[0][1]["on"] is None


@pytest.mark.parametrize(
    ("column", "text", "reason"),
    [
        ("donor", "SWE", "unknown participant code"),
        ("donor", "QQQ", "unknown ISO 3166 alpha-3 code"),
        ("item_type", "rifle", "unknown item type"),
        ("quantity", "-4", "must be at least 1"),
        ("quantity", None, "required value is missing"),
        ("on", "31/01/2024", "not a date (YYYY-MM-DD)"),
        ("status", "promised", "must be one of announced, confirmed"),
        ("amount", "ten", "not a number"),
    ],
)
def test_each_kind_of_bad_cell_is_reported(column: str, text: str | None, reason: str) -> None:
    records, errors = validate_all(SPEC, [(7, {**good(), column: text})], lookups=KNOWN)
    assert records == []
    assert errors == [RowError(7, column, text, reason)]


def test_every_bad_cell_of_a_row_is_reported() -> None:
    _, errors = validate_all(
        SPEC, [(2, good(donor="SWE", quantity="0", on="soon"))], lookups=KNOWN
    )
    assert [(e.column, e.reason) for e in errors] == [
        ("donor", "unknown participant code"),
        ("quantity", "must be at least 1"),
        ("on", "not a date (YYYY-MM-DD)"),
    ]


def test_good_rows_pass_while_bad_rows_are_collected() -> None:
    rows = [(2, good("a")), (3, good("b", quantity="x")), (4, good("c"))]
    records, errors = validate_all(SPEC, rows, lookups=KNOWN)
    assert [n for n, _ in records] == [2, 4]
    assert [(e.row, e.column) for e in errors] == [(3, "quantity")]


def test_validation_stops_at_the_default_limit_of_100_errors() -> None:
    consumed = 0

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        nonlocal consumed
        for i in range(1000):
            consumed += 1
            yield i + 2, good(f"r{i}", quantity="-1")

    validator = RowValidator(SPEC, lookups=KNOWN)
    assert list(validator.validate(rows())) == []
    assert len(validator.errors) == 100
    assert validator.stopped_early
    assert consumed == validator.rows_read == 100


def test_the_limit_is_configurable_and_counts_cells_not_rows() -> None:
    rows = [(i, good(f"r{i}", donor="SWE", quantity="0")) for i in range(2, 20)]
    validator = RowValidator(SPEC, lookups=KNOWN, max_errors=5)
    list(validator.validate(rows))
    assert len(validator.errors) == 5
    assert [e.row for e in validator.errors] == [2, 2, 3, 3, 4]
    assert validator.rows_read == 3


def test_under_the_limit_nothing_is_marked_as_stopped() -> None:
    validator = RowValidator(SPEC, lookups=KNOWN, max_errors=5)
    list(validator.validate([(2, good(quantity="0"))]))
    assert not validator.stopped_early
    assert validator.rows_read == 1


def test_validate_is_a_lazy_generator() -> None:
    pulled: list[int] = []

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        for i in range(2, 1_000_000):
            pulled.append(i)
            yield i, good(f"r{i}")

    validated = RowValidator(SPEC, lookups=KNOWN).validate(rows())
    assert next(validated)[0] == 2
    assert pulled == [2]
    assert inspect.isgenerator(validated)


def test_duplicate_natural_keys_within_a_file_are_refused() -> None:
    _, errors = validate_all(SPEC, [(2, good("same")), (3, good("other")), (4, good("same"))],
                             lookups=KNOWN)
    assert errors == [RowError(4, "ref", "same", "duplicate of row 2")]


def test_lookups_are_asked_once_per_distinct_value() -> None:
    asked: list[str] = []

    def known(code: str) -> bool:
        asked.append(code)
        return code in {"DNK", "POL"}

    rows = [(i, good(f"r{i}", donor="DNK" if i % 2 else "POL")) for i in range(2, 200)]
    records, _ = validate_all(SPEC, rows, lookups={**KNOWN, "participant_code": known})
    assert len(records) == 198
    assert sorted(asked) == ["DNK", "POL"]


def test_a_missing_lookup_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs lookups for: item_type"):
        RowValidator(SPEC, lookups={"participant_code": lambda code: True})


def test_raise_if_invalid_carries_every_error_as_a_field_error() -> None:
    validator = RowValidator(SPEC, lookups=KNOWN)
    list(validator.validate([(2, good(quantity="-1")), (3, good("r2", on="x"))]))
    with pytest.raises(ValidationFailed) as caught:
        validator.raise_if_invalid()
    assert [(e.row, e.field, e.value) for e in caught.value.errors] == [
        (2, "quantity", "-1"), (3, "on", "x"),
    ]
    assert "2 invalid value(s) in things" in caught.value.detail


def test_raise_if_invalid_is_silent_when_all_rows_are_valid() -> None:
    validator = RowValidator(SPEC, lookups=KNOWN)
    list(validator.validate([(2, good())]))
    validator.raise_if_invalid()
    assert validator.ok
    assert validator.rows_valid == 1


def test_row_rules_run_only_on_rows_whose_cells_parsed() -> None:
    seen: list[object] = []

    def rule(values: Any) -> list[tuple[str, str]]:
        seen.append(values["ref"])
        return [("amount", "too much")] if values["amount"] > 100 else []

    spec = ResourceSpec(name="ruled", columns=SPEC.columns, build=dict, rules=(rule,))
    rows = [(2, good("a", amount="500")), (3, good("b", quantity="x")), (4, good("c"))]
    records, errors = validate_all(spec, rows, lookups=KNOWN)
    assert seen == ["a", "c"]
    assert errors == [
        RowError(2, "amount", "500", "too much"),
        RowError(3, "quantity", "x", "not a whole number"),
    ]
    assert [n for n, _ in records] == [4]


def test_spec_refuses_duplicate_columns_and_unknown_key() -> None:
    with pytest.raises(ValueError, match="duplicate column names"):
        ResourceSpec(name="x", columns=(Column("a", Text(3)), Column("a", Text(3))), build=dict)
    with pytest.raises(ValueError, match="key 'b' is not a column"):
        ResourceSpec(name="x", columns=(Column("a", Text(3)),), key="b", build=dict)
