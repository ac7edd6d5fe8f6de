"""Set-based reads and writes for the bulk ingest, one fast path per database.

PostgreSQL gets whole arrays in one statement (`IN (SELECT unnest(array))`, `UPDATE ... FROM
unnest(...)`) and COPY for inserts; SQLite, in-process, gets executemany and `json_each` of one
JSON array. Either way it is one round trip per table, not per row, and everything runs on the
session's own connection, inside its transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVarTuple, cast

import polars as pl
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    String,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_SQLITE_TIME = "timestamptz"
_NUMERIC = frozenset({"int2", "int4", "int8", "numeric"})
_FRAME_TYPES = {"int8": pl.Int64, "int4": pl.Int64, "text": pl.String, "timestamptz": pl.String}
Ts = TypeVarTuple("Ts")


class UniqueViolation(Exception):
    """An insert hit an existing key; the caller's savepoint has been rolled back."""


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_JOINS = ("enable_hashjoin", "enable_mergejoin")


@contextmanager
def keyed_plans(session: Session) -> Iterator[None]:
    """PostgreSQL joins the block's statements row by row through the key's index.

    A batch reads and updates a few thousand rows of tables of hundreds of thousands, by key.
    The planner, costing pages as if read from disk (and with statistics that lag a bulk
    load), hashes the whole table instead: a full scan per statement, 20 ms each at 100,000
    shipments, against 2 ms through the index. Hash and merge joins are switched off for the
    block only (`set_config(..., true)` in the caller's transaction, the previous values put
    back after it; an error that rolls the savepoint back undoes them too). SQLite looks up
    keys one by one anyway.
    """
    if not is_postgres(session):
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql(
        "SELECT " + ", ".join(f"current_setting('{name}'), set_config('{name}', 'off', true)"
                              for name in _JOINS)).one()
    yield
    connection.exec_driver_sql(
        "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in _JOINS),
        tuple(before[0::2]))


def _quoted(value: object) -> str:
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values: Iterable[Any], pg_type: str) -> str:
    """A PostgreSQL array literal: psycopg adapts lists element by element in Python, which
    costs more than the statement at 10,000 elements; one joined string costs little."""
    if pg_type in _NUMERIC:
        # No number prints as "None".
        return "{" + ",".join(map(str, values)).replace("None", "NULL") + "}"
    if pg_type == "timestamptz":
        # ISO 8601 text holds no character an array literal would need quoted.
        return "{" + ",".join(["NULL" if v is None else v.isoformat() for v in values]) + "}"
    items = list(values)
    if not items:
        return "{}"
    try:
        # Text cannot hold NUL, so it can stand between the items while they are escaped
        # all at once.
        joined = "\x00".join(items)
    except TypeError:  # a NULL, or not text
        joined = ""
    if joined.count("\x00") != len(items) - 1 or not joined:
        return "{" + ",".join("NULL" if v is None else _quoted(v) for v in items) + "}"
    return '{"' + joined.replace("\\", "\\\\").replace('"', '\\"').replace(
        "\x00", '","') + '"}'


def _member(column: Any, values: list[Any], postgres: bool) -> ColumnElement[bool]:
    if postgres:
        pg_type, element = (("text", String()) if values and isinstance(values[0], str)
                            else ("int8", BigInteger()))
        # A semi-join on unnest, not `= ANY(array)`: the array comes from a cast of a
        # parameter, which the planner does not fold, so ANY would scan the whole array for
        # every row instead of hashing it.
        keys = select(func.unnest(sql_cast(
            bindparam(None, pg_array(values, pg_type), type_=String()),
            postgresql.ARRAY(element)))).scalar_subquery()
        return cast(ColumnElement[bool], column.in_(keys))
    # One JSON array parameter rather than an IN list: SQLAlchemy renders and binds an
    # expanding IN value by value, which costs more than the query; the plan is the same
    # (the column's index, searched for each value).
    each = func.json_each(bindparam(None, json.dumps(values), type_=String())).table_valued(
        "value")
    return cast(ColumnElement[bool], column.in_(select(each.c.value)))


def fetch_in(session: Session, stmt: Select[*Ts], column: Any,
             values: Collection[Any]) -> list[Row[*Ts]]:
    """`stmt` restricted to rows whose `column` is one of `values`.

    Run on the session's connection, not through the ORM: these are plain column rows, and
    the ORM's result machinery costs more than the query. (The caller flushes first.)"""
    keys = list(values)
    if not keys:
        return []
    # all(), not iteration: one fetchall from the driver instead of a fetchone per row.
    return list(session.connection().execute(
        stmt.where(_member(column, keys, is_postgres(session)))).all())


def member_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """A WHERE clause `column IN values` for one statement."""
    return _member(column, list(values), is_postgres(session))


class TimeReader:
    """Reads UTC time columns in bulk. SQLite keeps them as text, which SQLAlchemy parses with
    a regular expression in Python, value by value; `datetime.fromisoformat` in C costs a
    tenth of that. PostgreSQL's driver returns aware times already."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        # SQLite: the text each time was read from, to write it back unchanged without
        # formatting it again (see `update_rows`).
        self.texts: dict[dt.datetime, str] = {}

    def column(self, column: Any) -> Any:
        return type_coerce(column, String()).label(column.key) if self.sqlite else column

    def value(self, value: Any) -> dt.datetime | None:
        if value is None or not self.sqlite:
            return cast(dt.datetime | None, value)
        at = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        self.texts[at] = value
        return at


def time_reader(session: Session) -> TimeReader:
    return TimeReader(not is_postgres(session))


def _sqlite_time(value: dt.datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds."""
    if value is None:
        return None
    # In UTC the ISO form ends in "+00:00"; cutting it off is cheaper than replace().
    return value.astimezone(dt.UTC).isoformat(" ", "microseconds")[:26]


def _sqlite_columns(rows: Sequence[Sequence[Any]], types: Sequence[str],
                    known: Mapping[dt.datetime, str] | None = None) -> list[Sequence[Any]]:
    """The rows' columns, times converted to what SQLite stores; column by column, since a
    map over one column costs less than rebuilding every row. `known` times are taken as
    they are given (the text they were read from)."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    # A batch stamps many rows with the same time: convert each distinct one once.
    memo: dict[Any, str | None] = {None: None}
    if known:
        memo.update(known)
    for i, t in enumerate(types):
        if t == _SQLITE_TIME:
            columns[i] = [memo[v] if v in memo else memo.setdefault(v, _sqlite_time(v))
                          for v in columns[i]]
    return columns


def _sqlite_rows(rows: Sequence[Sequence[Any]], types: Sequence[str]) -> list[tuple[Any, ...]]:
    if _SQLITE_TIME not in types:
        return [tuple(r) for r in rows]
    return list(zip(*_sqlite_columns(rows, types), strict=True))


class Appender:
    """Rows appended to a table while the caller is still producing them.

    On PostgreSQL a binary COPY is open for the whole block, so the server stores rows while
    Python works out the next ones (two cores, not one after the other). On SQLite the rows
    are collected and inserted with one executemany when the block ends. An exception in the
    block stores nothing; a key that exists raises UniqueViolation when the block ends (run it
    in a savepoint to carry on).
    """

    def __init__(self, session: Session, table: str, columns: Sequence[str],
                 types: Sequence[str]) -> None:
        self.session = session
        self.table = table
        self.columns = columns
        self.types = types
        self.rows: list[Sequence[Any]] = []
        self.count = 0
        self._copy: Any = None

    def __enter__(self) -> Appender:
        if is_postgres(self.session):
            import psycopg

            raw = cast(psycopg.Connection[Any],
                       self.session.connection().connection.dbapi_connection)
            self._cursor = raw.cursor()
            self._block = self._cursor.copy(
                f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN (FORMAT BINARY)")
            self._copy = self._block.__enter__()
            self._copy.set_types(list(self.types))
        return self

    def write(self, row: Sequence[Any]) -> None:
        self.count += 1
        if self._copy is not None:
            self._copy.write_row(row)
        else:
            self.rows.append(row)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: Any) -> None:
        if self._copy is not None:
            import psycopg

            try:
                self._block.__exit__(kind, error, trace)
            except psycopg.errors.UniqueViolation as exc:
                raise UniqueViolation(str(exc)) from exc
            finally:
                self._cursor.close()
            return
        if error is None and self.rows:
            _sqlite_insert(self.session, self.table, self.columns,
                           _sqlite_rows(self.rows, self.types))


def _sqlite_insert(session: Session, table: str, columns: Sequence[str],
                   rows: Sequence[Sequence[Any]]) -> None:
    """One executemany of rows already in SQLite's stored form; a key that exists raises
    UniqueViolation."""
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    try:
        session.connection().exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    except IntegrityError as exc:
        if "UNIQUE" not in str(exc.orig):
            raise
        raise UniqueViolation(str(exc.orig)) from exc


def insert_rows(session: Session, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], types: Sequence[str]) -> None:
    """Appends `rows` to `table`; `types` are PostgreSQL type names of the columns.

    Raises UniqueViolation when a key exists (run it in a savepoint to carry on).
    """
    if not rows:
        return
    data: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, t in enumerate(types):
        if t == _SQLITE_TIME:
            # A batch stamps many rows with the same time: convert each distinct one once.
            memo: dict[dt.datetime | None, str | None] = {None: None}
            data[i] = [memo[v] if v in memo else memo.setdefault(
                v, v.astimezone(dt.UTC).isoformat()) for v in data[i]]
    append_frame(session, table, frame_of(columns, data, types), types)


def frame_of(columns: Sequence[str], data: Sequence[Sequence[Any]],
             types: Sequence[str]) -> pl.DataFrame:
    """Columns of values as a frame for `append_frame`; timestamptz columns hold the
    `isoformat()` text of UTC times."""
    return pl.DataFrame([pl.Series(name, values, dtype=_FRAME_TYPES[t]) for name, values, t
                         in zip(columns, data, types, strict=True)])


@contextmanager
def appending(session: Session, table: str, frame: pl.DataFrame,
              types: Sequence[str]) -> Iterator[None]:
    """`append_frame` for the rows, while the block runs.

    On PostgreSQL the COPY goes to the server from a thread, which waits on the socket without
    the GIL, so Python works on in the block as the server stores the rows (two cores, not one
    after the other). The block must not use the session: the connection is busy until the
    block ends, which waits for the COPY and raises what it raised. On SQLite, in-process, the
    rows go in when the block ends.
    """
    if not is_postgres(session):
        yield
        append_frame(session, table, frame, types)
        return
    raw, csv = _raw(session), _csv(frame)
    failed: list[BaseException] = []

    def copy() -> None:
        try:
            _copy_csv(raw, table, frame.columns, csv)
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=copy, name=f"copy {table}")
    worker.start()
    try:
        yield
    finally:
        worker.join()
    if failed:
        raise failed[0]


def _sqlite_text(iso: pl.Expr) -> pl.Expr:
    """`_sqlite_time` of the times whose `isoformat()` in UTC the column holds, as text."""
    date, clock = iso.str.slice(0, 10) + " ", iso.str.slice(11, 8)
    return pl.when(iso.str.len_chars() == 32).then(date + iso.str.slice(11, 15)).otherwise(
        date + clock + ".000000")


def _raw(session: Session) -> Any:
    return session.connection().connection.dbapi_connection


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv(None, include_header=False, quote_style="non_numeric")


def _copy_csv(raw: Any, table: str, columns: Sequence[str], csv: str) -> None:
    import psycopg

    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(csv)
    except psycopg.errors.UniqueViolation as exc:
        raise UniqueViolation(str(exc)) from exc


def append_frame(session: Session, table: str, frame: pl.DataFrame,
                 types: Sequence[str]) -> None:
    """Appends the frame's rows to the table's columns of the same names; `types` are their
    PostgreSQL type names, and timestamptz columns hold the `isoformat()` text of UTC times.

    PostgreSQL: one CSV `COPY` written by polars in Rust, which costs less than adapting the
    values row by row in Python. SQLite: one executemany. Raises UniqueViolation when a key
    exists (run it in a savepoint to carry on).
    """
    if frame.is_empty():
        return
    if is_postgres(session):
        _copy_csv(_raw(session), table, frame.columns, _csv(frame))
        return
    times = [name for name, t in zip(frame.columns, types, strict=True) if t == _SQLITE_TIME]
    if times:
        if not frame.select(pl.all_horizontal(
                pl.col(times).str.ends_with("+00:00").fill_null(True)).all()).item():
            raise ValueError(f"{table}: times must be the ISO 8601 text of UTC times")
        frame = frame.with_columns(_sqlite_text(pl.col(name)).alias(name) for name in times)
    _sqlite_insert(session, table, frame.columns, frame.rows())


@dataclass(frozen=True)
class Statement:
    """A statement with its parameters, worked out before the connection is free to run it
    (see `appending`)."""

    sql: str
    params: Any


def execute(session: Session, statements: Iterable[Statement | None]) -> None:
    for statement in statements:
        if statement is not None:
            session.connection().exec_driver_sql(statement.sql, statement.params)


def update_rows(session: Session, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], types: Sequence[str], *, add: bool = False,
                touch: str | None = None, now: dt.datetime | None = None,
                known: Mapping[dt.datetime, str] | None = None) -> None:
    """Sets (or with `add`, increments) `columns[1:]` of the rows whose `columns[0]` (the key)
    matches; see `planned_update`."""
    execute(session, [planned_update(is_postgres(session), table, columns, rows, types,
                                     add=add, touch=touch, now=now, known=known)])


def planned_update(postgres: bool, table: str, columns: Sequence[str],
                   rows: Sequence[Sequence[Any]], types: Sequence[str], *, add: bool = False,
                   touch: str | None = None, now: dt.datetime | None = None,
                   known: Mapping[dt.datetime, str] | None = None) -> Statement | None:
    """The statement that sets (or with `add`, increments) `columns[1:]` of the rows whose
    `columns[0]` (the key) matches; `touch` names a timestamp column set to `now` on every
    updated row. SQLite writes `known` times as the text given (`TimeReader.texts`). None
    when there are no rows."""
    if not rows:
        return None
    key, values = columns[0], columns[1:]
    if postgres:
        assigns = [f"{c} = t.{c} + v.{c}" if add else f"{c} = v.{c}" for c in values]
        if touch is not None:
            assigns.append(f"{touch} = %s")
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        sql = (f"UPDATE {table} AS t SET {', '.join(assigns)} "
               f"FROM unnest({arrays}) AS v({', '.join(columns)}) WHERE t.{key} = v.{key}")
        # The SET list (and its %s for `touch`) comes before the arrays in the SQL text.
        params: list[Any] = [now] if touch is not None else []
        params.extend(pg_array((row[i] for row in rows), t) for i, t in enumerate(types))
        return Statement(sql, tuple(params))
    assigns = [f"{c} = {c} + ?" if add else f"{c} = ?" for c in values]
    data = _sqlite_columns(rows, types, known)
    bound = data[1:]
    if touch is not None:
        assigns.append(f"{touch} = ?")
        bound.append([_sqlite_time(now)] * len(rows))
    bound.append(data[0])
    sql = f"UPDATE {table} SET {', '.join(assigns)} WHERE {key} = ?"
    return Statement(sql, list(zip(*bound, strict=True)))
