"""Column specs and row validation: text cells in, typed records or precise row errors out.

A `ResourceSpec` declares the columns of one importable resource; `RowValidator` turns the
rows of `coalition.io.tabular.read_rows` into typed records and a `RowError` for every bad
cell, stopping after `max_errors`. Nothing here touches the database: checks that need it
(does this participant or item type exist?) are callables the caller passes in by name.

>>> validator = RowValidator(PLEDGES, lookups={"participant_code": codes.__contains__, ...})
>>> for number, pledge in validator.validate(read_rows(path, PLEDGES.columns)): ...
>>> validator.raise_if_invalid()
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, Protocol, TypeVar

from coalition.errors import FieldError, ValidationFailed
from coalition.io import reference

T_co = TypeVar("T_co", covariant=True)
R = TypeVar("R")

Lookup = Callable[[str], bool]
# A rule sees the parsed values of a row whose cells all parsed; it returns (column, reason).
RowRule = Callable[[Mapping[str, Any]], Iterable[tuple[str, str]]]

DEFAULT_MAX_ERRORS = 100
MISSING = "required value is missing"


class CellError(ValueError):
    """Raised by a parser; the message is the reason shown to the person fixing the file."""


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        shown = f" (got {self.value!r})" if self.value is not None else ""
        return f"row {self.row}, {self.column}: {self.reason}{shown}"

    def to_field_error(self) -> FieldError:
        return FieldError(self.column, self.reason, row=self.row, value=self.value)


class Parser(Protocol[T_co]):
    """Turns one non-blank, stripped cell into a typed value or raises `CellError`."""

    def __call__(self, text: str) -> T_co: ...

    def describe(self) -> str:
        """What a valid value looks like, for templates and error help."""
        ...


# --- parsers ------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+")
# "12.0" is what some tools write for a whole number; accept exactly that shape, no exponents.
_INTEGER_WITH_ZEROS = re.compile(r"([+-]?\d+)\.0*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Integer:
    minimum: int | None = 0
    maximum: int | None = None

    def __call__(self, text: str) -> int:
        if _INTEGER.fullmatch(text):
            value = int(text)
        else:
            zeros = _INTEGER_WITH_ZEROS.fullmatch(text)
            if zeros is None:
                raise CellError("not a whole number")
            value = int(zeros.group(1))
        if self.minimum is not None and value < self.minimum:
            raise CellError("must not be negative" if self.minimum == 0 else
                            f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise CellError(f"must be at most {self.maximum}")
        return value

    def describe(self) -> str:
        return _range("whole number", self.minimum, self.maximum)


@dataclass(frozen=True, slots=True)
class DecimalNumber:
    """An exact decimal; `places` bounds the digits after the point (2 for money)."""

    minimum: Decimal | None = Decimal(0)
    places: int | None = 2
    positive: bool = False
    # Total significant digits the column stores (Numeric(20, 2) -> 20); None for no bound.
    max_digits: int | None = None

    def __call__(self, text: str) -> Decimal:
        number = _decimal_or_none(text)
        if number is None:
            hint = " (use a point as the decimal separator)" if "," in text else ""
            raise CellError("not a number" + hint)
        if self.max_digits is not None and number:
            integer_digits = number.adjusted() + 1
            if integer_digits > self.max_digits - (self.places or 0):
                raise CellError("too large")
        if self.positive and number <= 0:
            raise CellError("must be greater than 0")
        if self.minimum is not None and number < self.minimum:
            raise CellError("must not be negative" if self.minimum == 0 else
                            f"must be at least {self.minimum}")
        if self.places is not None and _decimal_places(text, number) > self.places:
            raise CellError(f"more than {self.places} decimal places")
        return number

    def describe(self) -> str:
        text = "decimal number > 0" if self.positive else _range("decimal number", self.minimum)
        if self.places is not None:
            text += f", at most {self.places} decimal places"
        return text


def _decimal_places(text: str, number: Decimal) -> int:
    """Significant digits after the point: "2.50" has 1; read from the text when it is plain."""
    dot = text.find(".")
    if dot < 0 and "e" not in text and "E" not in text:
        return 0
    if "e" not in text and "E" not in text:
        return len(text.rstrip("0")) - dot - 1
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _range(kind: str, minimum: object = None, maximum: object = None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    return kind if maximum is None else f"{kind} <= {maximum}"


@dataclass(frozen=True, slots=True)
class IsoDate:
    def __call__(self, text: str) -> dt.date:
        if not _ISO_DATE.fullmatch(text):
            raise CellError("not a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise CellError("not a valid calendar date") from exc

    def describe(self) -> str:
        return "date YYYY-MM-DD"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values, matched ignoring case; returns the canonical spelling."""

    values: tuple[str, ...]
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {v.casefold(): v for v in self.values})

    def __call__(self, text: str) -> str:
        found = self._index.get(text.casefold())
        if found is None:
            raise CellError(f"must be one of {', '.join(self.values)}")
        return found

    def describe(self) -> str:
        return "one of " + ", ".join(self.values)


_ALPHA3 = re.compile(r"[A-Za-z]{3}")


@dataclass(frozen=True, slots=True)
class Iso3:
    """An ISO 3166 alpha-3 country code known to the reference table, upper-cased."""

    def __call__(self, text: str) -> str:
        if not _ALPHA3.fullmatch(text):
            raise CellError("not an ISO 3166 alpha-3 code (three letters)")
        code = text.upper()
        if not reference.is_iso3(code):
            raise CellError("unknown ISO 3166 alpha-3 code")
        return code

    def describe(self) -> str:
        return "ISO 3166 alpha-3 country code"


@dataclass(frozen=True, slots=True)
class CurrencyCode:
    def __call__(self, text: str) -> str:
        if not _ALPHA3.fullmatch(text):
            raise CellError("not an ISO 4217 currency code (three letters)")
        return text.upper()

    def describe(self) -> str:
        return "ISO 4217 currency code"


_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/\-]*")
_CODE_RULE = "letters, digits and . _ / - only, starting with a letter or digit"


@dataclass(frozen=True)
class Code:
    """An identifier without blanks (participant code, item type code, external id).

    `case` folds the text first ("dnk" is DNK); `pattern` and `rule` narrow what is allowed
    to what the domain stores, with `rule` as the reason shown when it does not match.
    """

    max_length: int
    case: Literal["upper", "lower"] | None = None
    min_length: int = 1
    pattern: str | None = None
    rule: str = _CODE_RULE
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern) if self.pattern else _CODE)

    def __call__(self, text: str) -> str:
        if len(text) > self.max_length:
            raise CellError(f"longer than {self.max_length} characters")
        if len(text) < self.min_length:
            raise CellError(f"shorter than {self.min_length} characters")
        if self.case == "upper":
            text = text.upper()
        elif self.case == "lower":
            text = text.lower()
        if not self._compiled.fullmatch(text):
            raise CellError(self.rule)
        return text

    def describe(self) -> str:
        case = f" (stored {self.case} case)" if self.case else ""
        return f"code of {self.rule}, at most {self.max_length} characters{case}"


@dataclass(frozen=True, slots=True)
class Text:
    max_length: int

    def __call__(self, text: str) -> str:
        if len(text) > self.max_length:
            raise CellError(f"longer than {self.max_length} characters")
        return text

    def describe(self) -> str:
        return f"text of at most {self.max_length} characters"


_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True, slots=True)
class Boolean:
    def __call__(self, text: str) -> bool:
        folded = text.casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise CellError("must be true or false")

    def describe(self) -> str:
        return "true or false"


# --- specs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: `required` means the header must be there and no cell may be blank;
    a blank optional cell (or an absent optional column) takes `default`."""

    name: str
    parse: Parser[Any]
    required: bool = False
    default: Any = None
    lookup: str | None = None
    example: str = ""
    description: str = ""

    @property
    def unknown_reason(self) -> str:
        return f"unknown {self.lookup.replace('_', ' ')}" if self.lookup else ""


@dataclass(frozen=True)
class ResourceSpec(Generic[R]):
    """An importable resource: its columns, its natural key and how to build its record."""

    name: str
    columns: tuple[Column, ...]
    build: Callable[[dict[str, Any]], R]
    key: str | None = None
    rules: tuple[RowRule, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"spec {self.name}: duplicate column names")
        if self.key is not None and self.key not in names:
            raise ValueError(f"spec {self.name}: key {self.key!r} is not a column")

    @property
    def lookups(self) -> frozenset[str]:
        return frozenset(c.lookup for c in self.columns if c.lookup)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


# --- validation ---------------------------------------------------------------------------


# Most columns repeat a few values (donor, currency, status, dates); remembering the outcome
# per distinct text makes those cells one dict lookup. Bounded so unique columns cost nothing.
_MEMO_SIZE = 4096

Outcome = tuple[Any, str | None]


def _checker(column: Column, lookup: Lookup | None) -> Callable[[str], Outcome]:
    parse = column.parse
    unknown = column.unknown_reason

    def check(text: str) -> Outcome:
        try:
            value = parse(text)
        except CellError as exc:
            return None, str(exc)
        if lookup is not None and not lookup(value):
            return None, unknown
        return value, None

    return check


class RowValidator(Generic[R]):
    """Validates rows lazily; afterwards `errors` holds every bad cell up to `max_errors`.

    Rows with an error are not yielded. Once `max_errors` errors are collected the
    validator stops reading (`stopped_early`), so a wrong file fails fast. Within a file a
    natural key may appear only once, otherwise a re-import could not be idempotent; this
    keeps one entry per key in memory (about 100 bytes each). Lookup answers are cached per
    distinct value for the length of one validation.
    """

    def __init__(
        self,
        spec: ResourceSpec[R],
        *,
        lookups: Mapping[str, Lookup] | None = None,
        max_errors: int = DEFAULT_MAX_ERRORS,
        check_duplicate_keys: bool = True,
    ) -> None:
        if max_errors < 1:
            raise ValueError("max_errors must be at least 1")
        given = dict(lookups or {})
        missing = spec.lookups - given.keys()
        if missing:
            # A forgotten lookup would let unknown codes through; skipping one must be explicit.
            raise ValueError(
                f"spec {spec.name} needs lookups for: {', '.join(sorted(missing))} "
                "(pass lambda code: True to skip a check)"
            )
        self.spec = spec
        self.max_errors = max_errors
        self.errors: list[RowError] = []
        self.rows_read = 0
        self.rows_valid = 0
        self.stopped_early = False
        self._plan = [
            (c.name, c.required, c.default,
             _checker(c, given[c.lookup] if c.lookup else None), dict[str, Outcome]())
            for c in spec.columns
        ]
        self._key = spec.key if check_duplicate_keys else None
        self._keys_seen: dict[object, int] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def validate(
        self, rows: Iterable[tuple[int, Mapping[str, str | None]]]
    ) -> Iterator[tuple[int, R]]:
        """Yield `(row number, record)` for each valid row; collect errors for the rest."""
        errors = self.errors
        limit = self.max_errors
        build = self.spec.build
        rules = self.spec.rules
        plan = self._plan
        key_column = self._key
        keys_seen = self._keys_seen
        found: list[RowError] = []
        for number, cells in rows:
            self.rows_read += 1
            values: dict[str, Any] = {}
            for name, required, default, check, memo in plan:
                text = cells.get(name)
                if text is None:
                    if required:
                        found.append(RowError(number, name, None, MISSING))
                    else:
                        values[name] = default
                    continue
                outcome = memo.get(text)
                if outcome is None:
                    outcome = check(text)
                    if len(memo) < _MEMO_SIZE:
                        memo[text] = outcome
                value, reason = outcome
                if reason is None:
                    values[name] = value
                else:
                    found.append(RowError(number, name, text, reason))
            if not found:
                for rule in rules:
                    for column, reason in rule(values) or ():
                        found.append(RowError(number, column, cells.get(column), reason))
            if not found and key_column is not None:
                key = values[key_column]
                if key is not None:
                    first = keys_seen.setdefault(key, number)
                    if first != number:
                        found.append(RowError(number, key_column, cells.get(key_column),
                                              f"duplicate of row {first}"))
            if not found:
                self.rows_valid += 1
                yield number, build(values)
                continue
            errors.extend(found[: limit - len(errors)])
            found.clear()
            if len(errors) >= limit:
                self.stopped_early = True
                return

    def raise_if_invalid(self) -> None:
        """Raise `ValidationFailed` listing every collected error, if there is any."""
        if not self.errors:
            return
        more = " (stopped early: there may be more)" if self.stopped_early else ""
        detail = (
            f"{len(self.errors)} invalid value(s) in {self.spec.name}{more}; first: "
            f"{self.errors[0]}"
        )
        raise ValidationFailed([e.to_field_error() for e in self.errors], detail)


def validate_all(
    spec: ResourceSpec[R],
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
    *,
    lookups: Mapping[str, Lookup] | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> tuple[list[tuple[int, R]], list[RowError]]:
    """Validate everything into memory: for small files, tests and previews."""
    validator = RowValidator(spec, lookups=lookups, max_errors=max_errors)
    records = list(validator.validate(rows))
    return records, validator.errors
