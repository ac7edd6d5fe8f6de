"""Validation of a whole chunk of rows at once (polars), derived from the same column specs.

`FrameValidator.split` takes the raw text cells of a chunk of rows and separates the rows it
can prove valid, with their typed values, from the rest. It never refuses a row: a row it is
not sure of goes to `RowValidator`, which gives the verdict and the messages, so the two
agree by construction as long as this side only ever accepts what `RowValidator` accepts
(and reads it the same way). Each column is checked in one of two ways:

- a parser with a vector form (whole numbers, plain decimals, codes without case folding,
  text) is applied as polars expressions: conservative shapes only (ASCII digits, no
  blanks around the text), anything else is left to the row validator;
- every other column (lookups, choices, dates, case-folded codes) runs its own Python check
  once per distinct text of the chunk, and the verdicts are mapped back onto the rows.

A cross-column `Rule` runs once per distinct combination of the cells it `reads`.

>>> clean, rest = FrameValidator(PLEDGES, lookups=...).split(chunk)   # chunk: text columns
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import singledispatch
from typing import Any

import polars as pl

from coalition.io.rows import (
    Boolean,
    Code,
    Column,
    DecimalNumber,
    Integer,
    IsoDate,
    Lookup,
    Outcome,
    ResourceSpec,
    Rule,
    Text,
    _checker,
)
from coalition.schemas_common import EDGE_BLANK, NUL

# The row number column of a chunk (what a person calls the row, as in `tabular`).
ROW = "_row"
# Distinct verdicts remembered per column across chunks (dates, codes, choices repeat).
_MEMO_SIZE = 65_536

# (cell is valid, its value), both as expressions of the raw text column.
VectorForm = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]


@singledispatch
def vector_form(parse: object) -> VectorForm | None:
    """The parser as polars expressions, or None: its column is checked per distinct text."""
    return None


@vector_form.register
def _integer(parse: Integer) -> VectorForm | None:
    def form(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        # Up to 18 ASCII digits always fits an Int64; signs and "12.0" go the slow way.
        number = raw.cast(pl.Int64, strict=False)
        valid = raw.str.contains(r"^[0-9]{1,18}$") & number.is_not_null()
        if parse.minimum is not None:
            valid &= number >= parse.minimum
        if parse.maximum is not None:
            valid &= number <= parse.maximum
        return valid, number

    return form


_PLAIN = r"^([0-9]+)(?:\.([0-9]*))?$"


@vector_form.register
def _decimal(parse: DecimalNumber) -> VectorForm | None:
    if parse.minimum is not None and parse.minimum > 0:
        return None

    def form(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        # The checks of DecimalNumber._plain, read off the text; the value stays text
        # (exactly what Decimal(text) is), typed by whoever stores it.
        valid = raw.str.contains(_PLAIN)
        if parse.max_digits is not None:
            whole = raw.str.extract(_PLAIN, 1).str.strip_chars_start("0")
            valid &= whole.str.len_chars() <= parse.max_digits - (parse.places or 0)
        if parse.positive:
            valid &= raw.str.contains("[1-9]")
        if parse.places is not None:
            fraction = raw.str.extract(_PLAIN, 2).fill_null("").str.strip_chars_end("0")
            valid &= fraction.str.len_chars() <= parse.places
        return valid, raw

    return form


@vector_form.register
def _code(parse: Code) -> VectorForm | None:
    if parse.case is not None:
        return None
    pattern = f"^(?:{parse._compiled.pattern})$"

    def form(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        size = raw.str.len_chars()
        valid = (size >= parse.min_length) & (size <= parse.max_length)
        return valid & raw.str.contains(pattern), raw

    return form


@vector_form.register
def _text(parse: Text) -> VectorForm | None:
    def form(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        return (raw.str.len_chars() <= parse.max_length) & ~raw.str.contains(NUL,
                                                                             literal=True), raw

    return form


def dtype_of(column: Column) -> pl.DataType:
    """How a column's values are held in a frame (decimals as their text)."""
    if isinstance(column.parse, Integer):
        return pl.Int64()
    if isinstance(column.parse, IsoDate):
        return pl.Date()
    if isinstance(column.parse, Boolean):
        return pl.Boolean()
    return pl.String()


def _frame_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


class FrameValidator:
    """Splits chunks of raw rows into proven-valid typed rows and the rest (see module)."""

    def __init__(self, spec: ResourceSpec[Any], *, lookups: Mapping[str, Lookup]) -> None:
        self.spec = spec
        self._checks = {c.name: _checker(c, lookups[c.lookup] if c.lookup else None)
                        for c in spec.columns}
        self._forms = {c.name: None if c.lookup else vector_form(c.parse)
                       for c in spec.columns}
        self._memos: dict[str, dict[str, Outcome]] = {c.name: {} for c in spec.columns}
        self._rules = [r for r in spec.rules if isinstance(r, Rule)]

    @property
    def supported(self) -> bool:
        """Whether every rule of the spec can run here (plain functions cannot)."""
        return len(self._rules) == len(self.spec.rules)

    def _outcome(self, column: Column, text: str) -> Outcome:
        memo = self._memos[column.name]
        found = memo.get(text)
        if found is None:
            found = self._checks[column.name](text)
            if len(memo) < _MEMO_SIZE:
                memo[text] = found
        return found

    def _distinct(self, column: Column, cells: pl.Series) -> tuple[pl.Expr, pl.Expr]:
        texts: list[str] = []
        values: list[Any] = []
        for text in cells.drop_nulls().unique().to_list():
            if text == "":
                continue
            value, reason, _ = self._outcome(column, text)
            if reason is None:
                texts.append(text)
                values.append(_frame_value(value))
        raw = pl.col(column.name)
        dtype = dtype_of(column)
        if not texts:
            return pl.lit(False), pl.lit(None, dtype=dtype)
        valid = raw.is_in(pl.Series(texts, dtype=pl.String()).implode())
        return valid, raw.replace_strict(texts, values, default=None, return_dtype=dtype)

    def split(self, chunk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(typed valid rows: ROW and one column per spec column; raw rows of the rest)."""
        ok = pl.lit(True)
        values: list[pl.Expr] = []
        for column in self.spec.columns:
            name = column.name
            dtype = dtype_of(column)
            default = pl.lit(_frame_value(column.default), dtype=dtype)
            if name not in chunk.columns:
                values.append(default.alias(name))
                continue
            raw = pl.col(name)
            blank = raw.is_null() | (raw == "")
            form = self._forms[name]
            if form is not None:
                valid, value = form(raw)
                valid = valid & ~raw.str.contains(EDGE_BLANK)
            else:
                valid, value = self._distinct(column, chunk.get_column(name))
            ok &= (~blank & valid) if column.required else (blank | valid)
            values.append(pl.when(blank).then(default).otherwise(value).alias(name))
        marked = chunk.with_columns(ok.fill_null(False).alias("_ok"))
        for rule in self._rules:
            marked = self._apply(rule, marked)
        clean = marked.filter(pl.col("_ok")).select(pl.col(ROW), *values)
        rest = marked.filter(~pl.col("_ok")).drop("_ok")
        return clean, rest

    def _apply(self, rule: Rule, marked: pl.DataFrame) -> pl.DataFrame:
        """Run `rule` once per distinct combination of its cells among the valid rows."""
        present = [c for c in rule.reads if c in marked.columns]
        candidates = marked.filter(pl.col("_ok"))
        if rule.only_if is not None:
            if rule.only_if not in marked.columns:
                return marked
            cell = pl.col(rule.only_if)
            candidates = candidates.filter(cell.is_not_null() & (cell != ""))
        if candidates.is_empty():
            return marked
        fixed = {c: self.spec.column(c).default for c in rule.reads if c not in present}
        bad: list[tuple[Any, ...]] = []
        for combo in candidates.select(present).unique().iter_rows():
            row = dict(fixed)
            for name, text in zip(present, combo, strict=True):
                column = self.spec.column(name)
                row[name] = (self._outcome(column, text)[0] if text
                             else column.default)
            if any(True for _ in rule(row) or ()):
                bad.append(combo)
        if not bad:
            return marked
        refused = pl.DataFrame(bad, schema=dict.fromkeys(present, pl.String()), orient="row")
        marked = marked.join(refused.with_columns(pl.lit(True).alias("_bad")), on=present,
                             how="left", nulls_equal=True, maintain_order="left")
        return marked.with_columns((pl.col("_ok") & pl.col("_bad").is_null()).alias("_ok")
                                   ).drop("_bad")
