"""Column specs and row validation: text cells in, typed records or precise row errors out.

A `ResourceSpec` declares the columns of one importable resource; `RowValidator` turns the
rows of `coalition.io.tabular.read_rows` into typed records and a `RowError` for every bad
cell, stopping after `max_errors` (`coalition.io.frames` checks whole chunks of rows from
the same specs, and leaves every row it cannot prove valid to `RowValidator`). Nothing here
touches the database: checks that need it (does this participant or item type exist?) are
callables the caller passes in by name.

>>> validator = RowValidator(PLEDGES, lookups={"participant_code": codes.__contains__, ...})
>>> for number, pledge in validator.validate(read_rows(path, PLEDGES.columns)): ...
>>> validator.raise_if_invalid()
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, Protocol, TypeVar

from coalition.errors import FieldError, ValidationFailed
from coalition.io import reference
from coalition.schemas_common import NO_NUL_MESSAGE, NUL

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
# Unsigned, no exponent: what nearly every amount in a file looks like.
_PLAIN_DECIMAL = re.compile(r"(\d+)(?:\.(\d*))?")


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
        plain = _PLAIN_DECIMAL.fullmatch(text)
        if plain is not None:
            return self._plain(text, plain)
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

    def _plain(self, text: str, match: re.Match[str]) -> Decimal:
        """The usual shape (digits, maybe a point and more digits): the same checks as below,
        read off the text instead of computed on a Decimal."""
        whole, fraction = match.group(1), match.group(2) or ""
        number = Decimal(text)
        if self.max_digits is not None:
            significant = len(whole.lstrip("0"))
            if significant > self.max_digits - (self.places or 0):
                raise CellError("too large")
        if self.positive and not number:
            raise CellError("must be greater than 0")
        if self.minimum is not None and self.minimum > 0 and number < self.minimum:
            raise CellError(f"must be at least {self.minimum}")
        if self.places is not None and len(fraction.rstrip("0")) > self.places:
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
        if NUL in text:
            raise CellError(NO_NUL_MESSAGE)
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
class Rule:
    """A check across the columns of a row whose cells all parsed.

    `reads` names the columns it looks at, so a bulk validator (`coalition.io.frames`) can
    run it once per distinct combination of their cells instead of once per row; `only_if`
    names a column without which it finds nothing (a blank there: no problem to report).
    """

    check: RowRule
    reads: tuple[str, ...]
    only_if: str | None = None

    def __call__(self, values: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        return self.check(values)


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
        for rule in self.rules:
            if isinstance(rule, Rule) and not set(rule.reads) <= set(names):
                raise ValueError(f"spec {self.name}: a rule reads an unknown column")

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

# (value, reason, text shown in the error): reason None means the cell is valid.
Outcome = tuple[Any, str | None, str | None]
Cells = Sequence[str | None]


def _checker(column: Column, lookup: Lookup | None) -> Callable[[str], Outcome]:
    """The whole verdict on one non-empty raw cell: stripped, parsed and looked up."""
    parse = column.parse
    unknown = column.unknown_reason
    blank: Outcome = (None, MISSING, None) if column.required else (column.default, None, None)

    def check(raw: str) -> Outcome:
        text = raw.strip()
        if not text:
            return blank
        try:
            value = parse(text)
        except CellError as exc:
            return None, str(exc), text
        if lookup is not None and not lookup(value):
            return None, unknown, text
        return value, None, text

    return check


_UNSEEN = object()


def _slow_path(name: str, check: Callable[[str], Outcome], memo: dict[str, Any],
               remember: bool) -> Callable[[int, str, list[RowError]], Any]:
    """A cell whose text is not in the memo: check it, remember a valid verdict, record an
    invalid one (invalid texts are not remembered: they are rare and end the import)."""

    def slow(number: int, raw: str, found: list[RowError]) -> Any:
        value, reason, shown = check(raw)
        if reason is None:
            if remember and len(memo) < _MEMO_SIZE:
                memo[raw] = value
            return value
        found.append(RowError(number, name, shown, reason))
        return None

    return slow


def _compile(spec: ResourceSpec[Any], positions: Sequence[int | None], width: int,
             check_keys: bool) -> Callable[..., Iterator[tuple[int, Any]]]:
    """A validation loop unrolled over the spec's columns, reading cells by position.

    At a million rows the loop itself is the cost: one generic pass per cell (tuple
    unpacking, attribute and dict lookups) takes longer than parsing. The generated code
    keeps every column's memo, slow path and default in local variables; per cell it does
    what `_checker` and the memo say, nothing else.
    """
    count = len(spec.columns)
    lines = [
        "def run(rows, state, errors, limit, build, rules, keys_seen, RowError, MISSING,"
        " UNSEEN, CellError, cell_text, blank_row, "
        + ", ".join(f"s{i}, m{i}, d{i}, p{i}" for i in range(count)) + "):",
        "    found = []",
        "    for number, row in rows:",
        "        state.rows_read += 1",
    ]
    if width:
        # Short rows (a CSV line with fewer separators) are padded so positions stay valid.
        lines += [f"        if len(row) < {width}:",
                  f"            row = list(row) + [None] * ({width} - len(row))"]
    for i, (column, position) in enumerate(zip(spec.columns, positions, strict=True)):
        name = repr(column.name)
        if position is None:
            # Absent optional column: its default. (A required one fails the header check.)
            lines.append(f"        v{i} = d{i}")
            continue
        blank = (f"found.append(RowError(number, {name}, None, MISSING))"
                 if column.required else f"v{i} = d{i}")
        if column.name == spec.key and column.lookup is None:
            # The natural key is unique by design: no memo to look in, parse it right here.
            lines += [
                f"        t = row[{position}]",
                "        if t:",
                "            t = t.strip()",
                "        if t:",
                "            try:",
                f"                v{i} = p{i}(t)",
                "            except CellError as error:",
                f"                found.append(RowError(number, {name}, t, str(error)))",
                "        else:",
                f"            {blank}",
            ]
            continue
        lines += [
            f"        t = row[{position}]",
            "        if t:",
            f"            v{i} = m{i}.get(t, UNSEEN)",
            f"            if v{i} is UNSEEN:",
            f"                v{i} = s{i}(number, t, found)",
            "        else:",
            f"            {blank}",
        ]
    values = ", ".join(f"{c.name!r}: v{i}" for i, c in enumerate(spec.columns))
    lines += [
        "        if found:",
        "            if blank_row(row):",
        "                state.rows_read -= 1",
        "                found.clear()",
        "                continue",
        "        else:",
        f"            values = {{{values}}}",
        "            for rule in rules:",
        "                for column, reason in rule(values) or ():",
        "                    found.append(RowError(number, column, cell_text(row, column),"
        " reason))",
    ]
    if check_keys and spec.key is not None:
        key = next(i for i, c in enumerate(spec.columns) if c.name == spec.key)
        lines += [
            f"            if not found and v{key} is not None:",
            f"                first = keys_seen.setdefault(v{key}, number)",
            "                if first != number:",
            f"                    found.append(RowError(number, {spec.key!r}, "
            f"cell_text(row, {spec.key!r}), f'duplicate of row {{first}}'))",
        ]
    lines += [
        "        if not found:",
        "            state.rows_valid += 1",
        "            yield number, build(values)",
        "            continue",
        "        errors.extend(found[: limit - len(errors)])",
        "        found.clear()",
        "        if len(errors) >= limit:",
        "            state.stopped_early = True",
        "            return",
    ]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<validator {spec.name}>", "exec"), namespace)  # noqa: S102
    run: Callable[..., Iterator[tuple[int, Any]]] = namespace["run"]
    return run


def _blank(row: Cells) -> bool:
    return all(not c or c.isspace() for c in row)


class RowValidator(Generic[R]):
    """Validates rows lazily; afterwards `errors` holds every bad cell up to `max_errors`.

    Rows with an error are not yielded. Once `max_errors` errors are collected the
    validator stops reading (`stopped_early`), so a wrong file fails fast. Within a file a
    natural key may appear only once, otherwise a re-import could not be idempotent; this
    keeps one entry per key in memory (about 100 bytes each), so an importer that checks
    keys itself (the bulk pledge import asks the database) turns it off. Lookup answers
    are cached per distinct value for the length of one validation.
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
        self._memos: list[dict[str, Any]] = [{} for _ in spec.columns]
        # The natural key is unique by design: remembering its cells would only cost memory.
        self._slow = [
            _slow_path(c.name, _checker(c, given[c.lookup] if c.lookup else None), memo,
                       remember=c.name != spec.key)
            for c, memo in zip(spec.columns, self._memos, strict=True)
        ]
        self._check_keys = check_duplicate_keys
        self._keys_seen: dict[object, int] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def validate(
        self, rows: Iterable[tuple[int, Mapping[str, str | None]]]
    ) -> Iterator[tuple[int, R]]:
        """Yield `(row number, record)` for each valid row; collect errors for the rest."""
        names = [c.name for c in self.spec.columns]
        as_cells = ((number, [cells.get(name) for name in names]) for number, cells in rows)
        return self.validate_cells(as_cells, tuple(range(len(names))))

    def validate_cells(
        self,
        rows: Iterable[tuple[int, Cells]],
        positions: Sequence[int | None],
        *,
        width: int = 0,
    ) -> Iterator[tuple[int, R]]:
        """Like `validate` for rows given as sequences of raw cells (CSV rows as read).

        `positions[i]` is where the spec's i-th column sits in a row (None: the file has no
        such column); cells may carry surrounding blanks and `""` or None for blank; rows
        shorter than `width` are padded.
        """
        spec = self.spec
        index = dict(zip((c.name for c in spec.columns), positions, strict=True))

        def cell_text(row: Cells, column: str) -> str | None:
            position = index.get(column)
            text = row[position] if position is not None else None
            return (text.strip() or None) if text else None

        run = _compile(spec, positions, width, self._check_keys)
        args: list[Any] = []
        for column, slow, memo in zip(spec.columns, self._slow, self._memos, strict=True):
            args += [slow, memo, column.default, column.parse]
        return run(rows, self, self.errors, self.max_errors, spec.build, spec.rules,
                   self._keys_seen, RowError, MISSING, _UNSEEN, CellError, cell_text, _blank,
                   *args)

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
