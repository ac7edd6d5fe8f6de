"""Streaming readers for CSV, XLSX and JSON files: one `(row number, {column: text})` at a time.

Every reader is a generator that holds one row (plus a small read buffer) in memory, so a
file of a million rows is read with flat memory. Cell values come back as stripped text or
`None` for a blank cell; typing them is the job of `coalition.io.rows`.

Row numbers are what a person looking at the file would call the row: the header is row 1
of a CSV or XLSX sheet, so the first data row is row 2; in a JSON array the first object is
row 1; in JSON lines the row number is the line number.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, Protocol

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from coalition.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    import polars as pl

Format = Literal["csv", "xlsx", "json"]
ExtraColumns = Literal["error", "ignore"]
Row = tuple[int, dict[str, str | None]]

FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_HEADER_SEPARATORS = re.compile(r"[\s_\-]+")
# A JSON array element larger than this is not a row but a broken or hostile file; refusing
# it keeps the memory bound instead of buffering the rest of the file looking for its end.
_MAX_JSON_ITEM_CHARS = 8 * 1024 * 1024
_JSON_CHUNK_CHARS = 1 << 16


class DeclaredColumn(Protocol):
    """What a reader needs to know about an expected column (`rows.Column` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def required(self) -> bool: ...


class FileFormatError(ValidationFailed):
    """The file cannot be read as a table: missing, not the format it claims, or malformed."""

    def __init__(self, path: Path, message: str, *, row: int | None = None) -> None:
        where = f" (row {row})" if row is not None else ""
        super().__init__([FieldError("file", message, row=row)], f"{path.name}{where}: {message}")
        self.path = path


class HeaderError(ValidationFailed):
    """The header row does not match the declared columns; every problem is listed."""

    def __init__(self, path: Path, errors: list[FieldError]) -> None:
        super().__init__(errors, f"{path.name}: " + "; ".join(str(e) for e in errors))
        self.path = path


def normalise_header(text: str) -> str:
    """`' Item Type '`, `'item-type'` and `'ITEM_TYPE'` all name the column `item_type`."""
    return _HEADER_SEPARATORS.sub("_", text.strip().casefold()).strip("_")


def detect_format(path: Path, format: str | None = None) -> Format:
    """The explicit `format` wins; otherwise the file extension decides."""
    if format is not None:
        wanted = format.lower().lstrip(".")
        if wanted == "jsonl":
            return "json"
        for known in FORMATS:
            if wanted == known:
                return known
        raise FileFormatError(path, f"unsupported format {format!r}; use one of csv, xlsx, json")
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise FileFormatError(
            path, f"cannot tell the format from extension {path.suffix!r}; use csv, xlsx or json"
        )
    return found


def read_rows(
    path: Path | str,
    columns: Sequence[DeclaredColumn] | None = None,
    *,
    format: str | None = None,
    sheet: str | None = None,
    extra: ExtraColumns = "error",
) -> Generator[Row, None, None]:
    """Yield `(row number, {column name: text or None})` for every non-blank data row.

    With `columns`, headers are matched to the declared names ignoring case, surrounding
    blanks and `_`/`-`/space differences, and the dict is keyed by the declared names;
    required columns must be present, a column may not appear twice, and an undeclared
    column is an error unless `extra="ignore"` (a misspelt optional column would otherwise
    drop its data silently). Without `columns`, keys are the stripped header texts.

    >>> for number, row in read_rows("pledges.csv", PLEDGES.columns): ...
    """
    path = Path(path)
    kind = detect_format(path, format)
    if kind == "csv":
        yield from _read_csv(path, columns, extra)
    elif kind == "xlsx":
        yield from _read_xlsx(path, columns, extra, sheet)
    else:
        yield from _read_json(path, columns, extra)


# --- header mapping -----------------------------------------------------------------------


def map_header(
    path: Path,
    header: Sequence[object],
    columns: Sequence[DeclaredColumn] | None,
    *,
    extra: ExtraColumns = "error",
    header_row: int = 1,
) -> list[tuple[int, str]]:
    """Pair each file column position with the declared name it holds; raise on any mismatch."""
    declared = {normalise_header(c.name): c.name for c in columns} if columns is not None else None
    seen: dict[str, int] = {}
    mapping: list[tuple[int, str]] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(header):
        text = _cell_text(raw)
        if text is None:
            # Stray formatted but empty columns are common in spreadsheets; they hold nothing.
            continue
        if declared is None:
            name = text
        else:
            found = declared.get(normalise_header(text))
            if found is None:
                if extra == "error":
                    errors.append(
                        FieldError(text, "unknown column", row=header_row, value=_position(index))
                    )
                continue
            name = found
        if name in seen:
            errors.append(
                FieldError(
                    name,
                    f"column appears more than once ({_position(seen[name])} and "
                    f"{_position(index)})",
                    row=header_row,
                )
            )
            continue
        seen[name] = index
        mapping.append((index, name))
    if columns is not None:
        errors.extend(
            FieldError(c.name, "required column is missing", row=header_row)
            for c in columns
            if c.required and c.name not in seen
        )
    if errors:
        raise HeaderError(path, errors)
    return mapping


def _position(index: int) -> str:
    return f"column {index + 1}"


# --- CSV ---------------------------------------------------------------------------------


def _read_csv(
    path: Path, columns: Sequence[DeclaredColumn] | None, extra: ExtraColumns
) -> Iterator[Row]:
    with _CsvTable(path, columns, extra) as table:
        mapping = table.mapping
        for number, cells in table.rows:
            row = {name: (cells[index] or "").strip() or None for index, name in mapping}
            if any(row.values()):
                yield number, row


class _CsvTable:
    """An open CSV file: its header mapped to the declared columns, then raw rows.

    Rows come as the csv module reads them (unstripped text, "" for blank), padded to the
    header's width, so a validator can pick cells by position without building a dict.
    """

    def __init__(
        self, path: Path, columns: Sequence[DeclaredColumn] | None, extra: ExtraColumns
    ) -> None:
        self.path = path
        self._number = 1
        try:
            # utf-8-sig: spreadsheet programs put a byte-order mark in front of the header.
            self._handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise FileFormatError(path, f"cannot read the file: {exc.strerror or exc}") from exc
        try:
            with self._errors():
                first = self._handle.readline()
                if not first.strip():
                    raise FileFormatError(path, "the file is empty: no header row")
                self.separator = _sniff_delimiter(first)
                self._reader = csv.reader(chain([first], self._handle),
                                          delimiter=self.separator)
                header = next(self._reader)
            self.mapping = map_header(path, header, columns, extra=extra)
            self.width = len(header)
        except BaseException:
            self._handle.close()
            raise

    def __enter__(self) -> _CsvTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        path = self.path
        try:
            yield
        except OSError as exc:
            raise FileFormatError(path, f"cannot read the file: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise FileFormatError(path, "not UTF-8 text", row=self._number + 1) from exc
        except csv.Error as exc:
            raise FileFormatError(path, f"malformed CSV: {exc}", row=self._number + 1) from exc

    @property
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = self.width
        with self._errors():
            for number, cells in enumerate(self._reader, start=2):
                self._number = number
                size = len(cells)
                if size != width:
                    if size == 0:
                        continue
                    if size > width and any(c.strip() for c in cells[width:]):
                        raise FileFormatError(
                            self.path, f"{size} values but only {width} header columns",
                            row=number)
                    cells = cells[:width] + [""] * (width - size)
                yield number, cells


@dataclass
class CellTable:
    """A table opened for fast validation: raw cells by position, and where each declared
    column sits (`positions[i]` for `columns[i]`, None when the file lacks it)."""

    present: frozenset[str]
    positions: tuple[int | None, ...]
    width: int
    rows: Iterator[tuple[int, Sequence[str | None]]]
    _close: Callable[[], None]

    def __enter__(self) -> CellTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


def open_cells(
    path: Path | str,
    columns: Sequence[DeclaredColumn],
    *,
    format: str | None = None,
    sheet: str | None = None,
    extra: ExtraColumns = "error",
) -> CellTable:
    """Open a file for `RowValidator.validate_cells`; header problems raise here.

    CSV rows come straight from the csv module (the fast path for big files); XLSX and
    JSON rows are read by `read_rows` and laid out in the declared order. `present` names
    the declared columns the file has, so an importer can leave the others alone on
    records that already exist.

    >>> with open_cells(path, PLEDGES.columns) as table:
    ...     for number, record in validator.validate_cells(table.rows, table.positions): ...
    """
    path = Path(path)
    names = [c.name for c in columns]
    if detect_format(path, format) == "csv":
        table = _CsvTable(path, columns, extra)
        where = {name: index for index, name in table.mapping}
        return CellTable(frozenset(where), tuple(where.get(n) for n in names), table.width,
                         table.rows, table._handle.close)
    rows = read_rows(path, columns, format=format, sheet=sheet, extra=extra)
    first = next(rows, None)
    present = frozenset(first[1]) if first is not None else frozenset()
    laid_out = ((number, [cells.get(n) for n in names])
                for number, cells in chain([first] if first else [], rows))
    return CellTable(present, tuple(range(len(names))), 0, laid_out, rows.close)


class FrameReadError(Exception):
    """polars could not read the file the way the csv module would: read it row by row."""


@dataclass
class FrameTable:
    """A CSV file opened for chunked reading with polars: its header already checked by the
    csv module (the same errors as `open_cells`), then chunks of raw text cells, one
    column per declared column the file has, plus the row number (`ROW`)."""

    path: Path
    present: frozenset[str]
    separator: str
    width: int
    picks: dict[int, str]

    def batches(self, size: int = 2 << 20) -> Generator[pl.DataFrame, None, None]:
        """Chunks of about `size` bytes of the file, each cut after a whole record; raises
        FrameReadError where polars and the csv module could read the file differently
        (more cells than headers, bad UTF-8, blank lines, which the csv module skips but
        counts)."""
        import polars as pl

        from coalition.io.frames import ROW

        schema = {f"c{i}": pl.String() for i in range(self.width)}
        chosen = [pl.col(f"c{index}").alias(name) for index, name in self.picks.items()]
        number = 2
        try:
            with self.path.open("rb") as handle:
                rest = handle.read(size)
                if rest.startswith(b"\xef\xbb\xbf"):
                    rest = rest[3:]
                cut = _first_record_end(rest)
                while cut < 0:
                    more = handle.read(size)
                    if not more:
                        return
                    rest += more
                    cut = _first_record_end(rest)
                rest = rest[cut + 1:]
                while True:
                    more = handle.read(size)
                    data = rest + more
                    if not data.strip():
                        return
                    cut = len(data) - 1 if not more else _record_end(data, len(rest))
                    while cut < 0:
                        # One record longer than the chunk: read on until it ends.
                        extra = handle.read(size)
                        data += extra
                        cut = len(data) - 1 if not extra else _record_end(data, 0)
                    piece, rest = data[:cut + 1], data[cut + 1:]
                    if (b"\n\n" in piece or b"\n\r\n" in piece
                            or piece.startswith((b"\n", b"\r\n"))):
                        raise FrameReadError("blank lines")
                    frame = pl.read_csv(piece, has_header=False, schema=schema,
                                        separator=self.separator, quote_char='"',
                                        truncate_ragged_lines=False, raise_if_empty=False)
                    yield frame.select(
                        pl.int_range(number, number + frame.height, dtype=pl.Int64).alias(ROW),
                        *chosen)
                    number += frame.height
                    if not more:
                        return
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise FrameReadError(str(exc)) from exc


def _first_record_end(data: bytes) -> int:
    """The first newline of `data` outside quotes (the end of the header), or -1."""
    cut = data.find(b"\n")
    while cut >= 0 and data.count(b'"', 0, cut) % 2:
        cut = data.find(b"\n", cut + 1)
    return cut


def _record_end(data: bytes, start: int) -> int:
    """The last newline of `data` (at or after `start`) outside quotes, or -1: a newline
    ends a record where the quotes before it pair up ("" inside a quoted cell is a pair)."""
    cut = data.rfind(b"\n")
    while cut >= start:
        if data.count(b'"', 0, cut) % 2 == 0:
            return cut
        cut = data.rfind(b"\n", 0, cut)
    return -1


def open_frames(path: Path | str, columns: Sequence[DeclaredColumn],
                wanted: Iterable[str]) -> FrameTable:
    """Check a CSV file's header as `open_cells` does, for reading the `wanted` columns of
    it in polars chunks."""
    path = Path(path)
    keep = set(wanted)
    with _CsvTable(path, columns, "error") as table:
        picks = {index: name for index, name in table.mapping if name in keep}
        separator, width = table.separator, table.width
    return FrameTable(path, frozenset(picks.values()), separator, width, picks)


def _sniff_delimiter(header_line: str) -> str:
    # Spreadsheets in many European locales save CSV with ';'; header names contain none of these.
    return max((",", ";", "\t"), key=header_line.count)


# --- XLSX ---------------------------------------------------------------------------------


def _read_xlsx(
    path: Path, columns: Sequence[DeclaredColumn] | None, extra: ExtraColumns, sheet: str | None
) -> Iterator[Row]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise FileFormatError(path, f"not a readable XLSX workbook: {exc}") from exc
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise FileFormatError(
                path, f"no sheet named {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        rows = worksheet.iter_rows(values_only=True)
        try:
            header = next(rows, None)
            if header is None:
                raise FileFormatError(path, "the sheet is empty: no header row")
            mapping = map_header(path, header, columns, extra=extra)
            for number, values in enumerate(rows, start=2):
                size = len(values)
                row = {
                    name: _cell_text(values[index]) if index < size else None
                    for index, name in mapping
                }
                if any(row.values()):
                    yield number, row
        finally:
            # openpyxl closes the sheet's stream only at its end; closing the generator
            # frees it now instead of whenever a traceback cycle is collected.
            rows.close()
    finally:
        workbook.close()


def _cell_text(value: object) -> str | None:
    """Spreadsheet cell -> the text a person sees in it (dates as ISO, no float noise)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel shows 15 significant digits; beyond that is binary noise (0.30000000000000004).
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip() or None


# --- JSON ---------------------------------------------------------------------------------


def _read_json(
    path: Path, columns: Sequence[DeclaredColumn] | None, extra: ExtraColumns
) -> Iterator[Row]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            start = _peek_non_blank(handle)
            if start == "":
                raise FileFormatError(path, "the file is empty")
            items: Iterable[tuple[int, object]]
            if start == "[":
                items = _json_array_items(path, handle)
            elif start == "{":
                items = _json_lines_items(path, handle)
            else:
                raise FileFormatError(path, "expected a JSON array of objects or JSON lines")
            yield from _json_rows(path, items, columns, extra)
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, "not UTF-8 text") from exc


def _peek_non_blank(handle: IO[str]) -> str:
    while True:
        position = handle.tell()
        char = handle.read(1)
        if char == "" or not char.isspace():
            handle.seek(position)
            return char


def _json_rows(
    path: Path,
    items: Iterable[tuple[int, object]],
    columns: Sequence[DeclaredColumn] | None,
    extra: ExtraColumns,
) -> Iterator[Row]:
    declared = {normalise_header(c.name): c.name for c in columns} if columns is not None else None
    # Keys repeat on every object; resolve each distinct key once.
    names: dict[str, str | None] = {}
    first = True
    for number, item in items:
        if not isinstance(item, dict):
            raise FileFormatError(path, "each row must be a JSON object", row=number)
        if first:
            # The first object plays the part of the header row.
            map_header(path, list(item), columns, extra=extra, header_row=number)
            first = False
        row: dict[str, str | None] = {}
        for key, value in item.items():
            name = names.get(key, "")
            if name == "":
                name = _json_key_name(path, key, declared, extra, number)
                names[key] = name
            if name is None:
                continue
            if name in row:
                raise HeaderError(
                    path, [FieldError(name, "column appears more than once", row=number)]
                )
            row[name] = _json_text(path, name, value, number)
        if any(row.values()):
            yield number, row


def _json_key_name(
    path: Path, key: str, declared: dict[str, str] | None, extra: ExtraColumns, number: int
) -> str | None:
    text = key.strip()
    if not text:
        return None
    if declared is None:
        return text
    found = declared.get(normalise_header(text))
    if found is None and extra == "error":
        raise HeaderError(path, [FieldError(text, "unknown column", row=number)])
    return found


def _json_text(path: Path, name: str, value: object, number: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    raise FileFormatError(path, f"column {name!r} holds a nested value", row=number)


def _json_lines_items(path: Path, handle: IO[str]) -> Iterator[tuple[int, object]]:
    decoder = json.JSONDecoder(parse_float=Decimal)
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, decoder.decode(line)
        except json.JSONDecodeError as exc:
            raise FileFormatError(path, f"invalid JSON: {exc.msg}", row=number) from exc


def _json_array_items(path: Path, handle: IO[str]) -> Iterator[tuple[int, object]]:
    """Decode the elements of a top-level JSON array one by one from a bounded buffer."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    buffer = handle.read(_JSON_CHUNK_CHARS)
    eof = buffer == ""
    position = buffer.index("[") + 1
    number = 0

    def refill() -> None:
        nonlocal buffer, position, eof
        more = handle.read(max(_JSON_CHUNK_CHARS, len(buffer) - position))
        eof = more == ""
        buffer = buffer[position:] + more
        position = 0

    def next_char() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position < len(buffer) or eof:
                return buffer[position] if position < len(buffer) else ""
            refill()

    while True:
        char = next_char()
        if char == "":
            raise FileFormatError(path, "the JSON array is not closed", row=number)
        if char == "]":
            position += 1
            if next_char() != "":
                raise FileFormatError(path, "unexpected content after the JSON array")
            return
        if number > 0:
            if char != ",":
                raise FileFormatError(path, "expected ',' or ']' after an element", row=number)
            position += 1
            char = next_char()
        if char == "":
            raise FileFormatError(path, "the JSON array is not closed", row=number + 1)
        while True:
            try:
                item, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as exc:
                if eof or len(buffer) - position > _MAX_JSON_ITEM_CHARS:
                    raise FileFormatError(
                        path, f"invalid JSON: {exc.msg}", row=number + 1
                    ) from exc
                refill()
                continue
            if end == len(buffer) and not eof:
                # A number cut by the buffer edge decodes as a shorter number; read on to be sure.
                refill()
                continue
            break
        position = end
        number += 1
        yield number, item
