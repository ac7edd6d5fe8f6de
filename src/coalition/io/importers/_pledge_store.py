"""Set-based reads and writes of the bulk pledge import, one fast path per database.

PostgreSQL: ids reserved from the table's sequence, rows sent with binary COPY, existing keys
found with `= ANY(array)`. SQLite (in-process): executemany, ids read back with
`last_insert_rowid()`. Either way the status history of a batch is written by one
INSERT ... SELECT over the batch's ids, so Python never builds those rows; except in a
PostgreSQL bulk load, where chunks and their history go by COPY with the values all new rows
share as the columns' defaults for the while. Everything runs on the session's own
connection, inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Connection, Index, Table, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from coalition.db import Base, exists_on
from coalition.pledges.models import Pledge

if TYPE_CHECKING:
    import polars as pl

# The pledge columns a new row fills, in insert order (the id comes first on PostgreSQL):
# the 16 of a `NewPledge`, then the ones every new pledge starts with.
INSERT_COLUMNS = (
    "external_id", "donor_id", "item_type_id", "quantity", "amount", "currency",
    "fx_rate_to_eur", "fx_date", "value_eur_cents", "funding", "announced_on",
    "available_from", "format_id", "releasability", "status", "notes",
    "quantity_allocated", "quantity_shipped", "quantity_delivered", "created_at", "updated_at",
)
_PG_TYPES = ("int8", "text", "int8", "int8", "int8", "numeric", "text", "numeric", "date",
             "int8", "text", "date", "date", "int8", "text", "text", "text", "int8", "int8",
             "int8", "timestamptz", "timestamptz")
_EXISTING = (
    "SELECT p.id, p.external_id, p.donor_id, p.item_type_id, p.quantity, p.amount, p.currency,"
    " p.fx_rate_to_eur, p.fx_date, p.funding, parent.external_id, p.announced_on,"
    " p.available_from, p.format_id, p.releasability, p.status, p.notes"
    " FROM pledges p LEFT JOIN pledges parent ON parent.id = p.parent_pledge_id"
    " WHERE p.external_id {where}"
)
# The fields of ExistingPledge, in the order _EXISTING reads them.
_EXISTING_FIELDS = (
    "id", "external_id", "donor_id", "item_type_id", "quantity", "amount", "currency",
    "fx_rate_to_eur", "fx_date", "funding", "parent_external_id", "announced_on",
    "available_from", "format_id", "releasability", "status", "notes")


def _existing_schema() -> dict[str, Any]:
    import polars as pl

    types = {"id": pl.Int64(), "donor_id": pl.Int64(), "item_type_id": pl.Int64(),
             "quantity": pl.Int64(), "fx_date": pl.Date(), "announced_on": pl.Date(),
             "available_from": pl.Date(), "format_id": pl.Int64()}
    return {name: types.get(name, pl.String()) for name in _EXISTING_FIELDS}


_HISTORY = (
    "INSERT INTO pledge_transitions (pledge_id, from_status, to_status, at, actor, reason)"
    " SELECT id, {from_status}, {to_status}, {p}, {p}, {reason} FROM pledges"
    " WHERE {where} {extra} ORDER BY id"
)
_BULK_CACHE_KIB = 128 * 1024
_INSERT_HISTORY = ("INSERT INTO pledge_transitions (pledge_id, from_status, to_status, at,"
                   " actor, reason)")
_BATCH = "coalition_import_batch"
# A prepared frame's columns in INSERT_COLUMNS order (the first 16).
_FRAME_COLUMNS = INSERT_COLUMNS[:16]
# Well under SQLite's limit of 32,766 bound variables per statement.
_SQLITE_CHUNK = 10_000


def _tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in ("pledges", "pledge_transitions")]


class DuplicateKey(Exception):
    """A batch met the unique external id of a stored pledge; it was rolled back."""


@dataclass(frozen=True, slots=True)
class ExistingPledge:
    """The columns of a stored pledge an import compares a row with."""

    __owner_column__: ClassVar[str] = "donor_id"

    id: int
    external_id: str
    donor_id: int
    item_type_id: int
    quantity: int
    amount: Decimal
    currency: str
    fx_rate_to_eur: Decimal
    fx_date: dt.date
    funding: str
    parent_external_id: str | None
    announced_on: dt.date
    available_from: dt.date
    format_id: int | None
    releasability: str
    status: str
    notes: str


# One new pledge: the first 16 values of INSERT_COLUMNS, with Python types.
NewPledge = tuple[Any, ...]


class PledgeStore:
    """The database side of one import; `connection` is the session's connection."""

    # Whether batches are best stored from a second thread while the next one is parsed.
    threaded = False

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw: Any = connection.connection.dbapi_connection

    @staticmethod
    def open(connection: Connection) -> PledgeStore:
        if connection.dialect.name == "postgresql":
            return PostgresStore(connection)
        return SqliteStore(connection)

    def lock(self) -> None:
        """Keep other writers of pledges out until the import commits (readers go on)."""

    def count(self) -> int:
        return self.connection.scalar(select(func.count()).select_from(Pledge)) or 0

    def _secondary_indexes(self) -> list[Index]:
        # The unique key on external_id stays: each batch looks its keys up through it.
        dialect = self.connection.dialect.name
        return [index for table in _tables()
                for index in sorted(table.indexes, key=lambda i: str(i.name))
                if exists_on(index, dialect)]

    def plan_bulk(self, *, at: dt.datetime, actor: str, empty: bool) -> None:
        """Say, before the first chunk is encoded, that this import will `begin_bulk` before
        its first insert, with new pledges created at `at` by `actor`, into a table that
        was `empty` (no key to look up)."""

    def end_unique(self) -> None:
        """After a bulk load, before anything looks a key up: put back the unique key on
        external_id if `begin_bulk` dropped it. Raises DuplicateKey, with nothing changed,
        when a key was stored twice."""

    def repeated_keys(self) -> list[tuple[str, list[int]]]:
        """Each external id stored more than once, with its ids in order (after
        `end_unique` raised DuplicateKey)."""
        raise NotImplementedError

    def begin_bulk(self) -> None:
        """Drop what a bulk load is faster to rebuild once than to maintain row by row: the
        secondary indexes of pledges and their history (PostgreSQL: also the foreign keys,
        whose per-row checks cost more than one validating join at the end, and the
        history's primary key). The import validated every reference itself; `end_bulk`
        restores all of it, identical to the migrations, and a rollback restores it too
        (DDL is transactional on both)."""
        for index in self._secondary_indexes():
            self.connection.execute(DropIndex(index))

    def end_bulk(self) -> None:
        for index in self._secondary_indexes():
            self.connection.execute(CreateIndex(index))

    def close(self) -> None:
        """Undo connection settings of the import (the connection goes back to the pool)."""

    def existing(self, keys: Sequence[str]) -> dict[str, ExistingPledge]:
        raise NotImplementedError

    def existing_frame(self, keys: Sequence[str]) -> pl.DataFrame:
        """`existing` as a frame (one column per field, decimals as their text)."""
        import polars as pl

        found = list(self.existing(keys).values())
        columns = {name: [getattr(e, name) for e in found] for name in _EXISTING_FIELDS}
        for name in ("amount", "fx_rate_to_eur"):
            columns[name] = [str(value) for value in columns[name]]
        return pl.DataFrame(columns, schema=_existing_schema())

    def insert(self, rows: Sequence[NewPledge], *, at: dt.datetime) -> list[int]:
        """Insert the rows in order, created at `at`; return their ids in the same order.

        Raises DuplicateKey, with nothing of the batch written, when an external id is
        already stored (an import that skips the look-up meets an earlier row of its file).
        """
        raise NotImplementedError

    def history(self, ids: Sequence[int], statuses: Sequence[str], *, at: dt.datetime,
                actor: str, reason: str) -> None:
        """The status history the service writes for each new pledge: "pledge recorded" into
        announced, then one step to its imported status when that is not announced."""
        raise NotImplementedError

    def encode(self, frame: pl.DataFrame, *, at: dt.datetime) -> Any:
        """What `insert_frame` sends for `frame`, made by the caller's thread while this
        connection stores the chunk before (None: `insert_frame` works from the frame)."""
        return None

    def insert_frame(self, frame: pl.DataFrame, encoded: Any, *,
                     at: dt.datetime) -> tuple[int, int]:
        """`insert` for a chunk `_pledge_frames.prepare` made ready: the first and last of
        the consecutive ids its rows got, in order. Raises DuplicateKey like `insert`."""
        raise NotImplementedError

    def history_range(self, first: int, last: int, *, at: dt.datetime, actor: str,
                      reason: str, statuses: pl.Series | None = None) -> None:
        """`history` for the pledges with ids first..last, read back from the table
        (`statuses`: theirs, in id order, for a store that need not read them back)."""
        mark = self.mark
        where = f"id BETWEEN {mark} AND {mark}"
        with contextlib.closing(self.raw.cursor()) as cursor:
            cursor.execute(_HISTORY.format(
                from_status="NULL", to_status="'announced'", p=mark,
                reason="'pledge recorded'", where=where, extra=""),
                (at_value := self._time(at), actor, first, last))
            cursor.execute(_HISTORY.format(
                from_status="'announced'", to_status="status", p=mark, reason=mark,
                where=where, extra="AND status <> 'announced'"),
                (at_value, actor, reason, first, last))

    mark = "?"

    def link_parents(self, links: Sequence[tuple[int, int]]) -> None:
        """Point each (child id, parent id) pair's child at its parent."""
        # One statement per link (pipelined on PostgreSQL): a join with the links would scan
        # the whole table, which the planner still takes for the few rows it had before.
        mark = self.mark
        with contextlib.closing(self.raw.cursor()) as cursor:
            cursor.executemany(f"UPDATE pledges SET parent_pledge_id = {mark} WHERE id = {mark}",
                               [(parent, child) for child, parent in links])

    def _time(self, at: dt.datetime) -> Any:
        return at


class PostgresStore(PledgeStore):
    threaded = True

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        # Set by plan_bulk: the values every new row of a bulk load shares, which the columns'
        # defaults then supply (see begin_bulk).
        self._shared: dict[str, dict[str, str]] = {}
        self._unique: list[UniqueConstraint] = []
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence('pledges', 'id')")
            self.sequence = cursor.fetchone()[0]

    def _foreign_keys(self) -> list[Any]:
        return [fk for table in _tables()
                for fk in sorted(table.foreign_key_constraints, key=lambda f: str(f.name))]

    def plan_bulk(self, *, at: dt.datetime, actor: str, empty: bool) -> None:
        # Into an empty table no batch looks a key up, so the unique key on external_id
        # only catches a key met again in a later chunk: checked once by end_unique (one
        # sort of a table that arrives in key order more often than not) instead of one
        # index insertion per row.
        self._unique = [c for c in _tables()[0].constraints
                        if isinstance(c, UniqueConstraint)] if empty else []
        stamp = at.isoformat()
        self._shared = {
            "pledges": {"quantity_allocated": "0", "quantity_shipped": "0",
                        "quantity_delivered": "0", "created_at": stamp, "updated_at": stamp},
            # What the first entry of every new pledge says but its id.
            "pledge_transitions": {"at": stamp, "actor": actor, "to_status": "announced",
                                   "reason": "pledge recorded"},
        }

    def begin_bulk(self) -> None:
        for fk in self._foreign_keys():
            self.connection.execute(DropConstraint(fk))
        for key in self._unique:
            self.connection.execute(DropConstraint(key))
        # Nothing refers to a history entry: its primary key is rebuilt like an index.
        self.connection.execute(DropConstraint(_tables()[1].primary_key))
        super().begin_bulk()
        # The values all new rows share become, for this transaction, the columns' defaults
        # (constants: evaluated once per statement): COPY then leaves them out, and the
        # server parses two timestamps and three numbers less per pledge, one timestamp and
        # one text less per history row. end_bulk (or a rollback) drops them again.
        with self.raw.cursor() as cursor:
            for table, values in self._shared.items():
                cursor.execute(f"ALTER TABLE {table} " + ", ".join(
                    f"ALTER COLUMN {name} SET DEFAULT {_literal(value)}"
                    for name, value in values.items()))

    def end_unique(self) -> None:
        import psycopg

        keys, self._unique = self._unique, []
        if not keys:
            return
        with self.raw.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(f"SAVEPOINT {_BATCH}")
            try:
                for key in keys:
                    self.connection.execute(AddConstraint(key))
            except IntegrityError as exc:
                if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
                    raise
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_BATCH}")
                raise DuplicateKey(str(exc.orig)) from exc
            cursor.execute(f"RELEASE SAVEPOINT {_BATCH}")

    def repeated_keys(self) -> list[tuple[str, list[int]]]:
        with self.raw.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("SELECT external_id, array_agg(id ORDER BY id) FROM pledges"
                           " GROUP BY external_id HAVING count(*) > 1")
            return [(key, ids) for key, ids in cursor]

    def end_bulk(self) -> None:
        # Index builds sort, and checking a foreign key joins the whole table: with the
        # defaults (64 MB, 4 MB) a million rows spill to disk. For this transaction only.
        with self.raw.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL work_mem = '128MB'")
        with self.raw.cursor() as cursor:
            for table, values in self._shared.items():
                # None of these columns has a default of its own (a test checks the schema
                # against the migrations after a bulk load).
                cursor.execute(f"ALTER TABLE {table} " + ", ".join(
                    f"ALTER COLUMN {name} DROP DEFAULT" for name in values))
        self.connection.execute(AddConstraint(_tables()[1].primary_key))
        super().end_bulk()
        with self.raw.cursor() as cursor:
            # Without statistics the planner checks the parent key of every pledge against
            # all pledges (a hash of the whole table); knowing that few have a parent, it
            # probes the primary key for those few (0.1 s to sample against 0.3 s).
            cursor.execute("ANALYZE pledges (parent_pledge_id)")
        for fk in self._foreign_keys():
            self.connection.execute(AddConstraint(fk))
        with self.raw.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem TO DEFAULT")
            cursor.execute("SET LOCAL work_mem TO DEFAULT")

    def link_parents(self, links: Sequence[tuple[int, int]]) -> None:
        # One statement for all links, by id: with hash and merge joins off the planner
        # probes the primary key once per link, whatever it believes of the table's size
        # (it has no statistics of a table just loaded).
        children = "{" + ",".join(str(child) for child, _ in links) + "}"
        parents = "{" + ",".join(str(parent) for _, parent in links) + "}"
        with self.raw.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute("UPDATE pledges SET parent_pledge_id = link.parent"
                           " FROM unnest(%s::int8[], %s::int8[]) AS link(child, parent)"
                           " WHERE pledges.id = link.child", (children, parents))
            cursor.execute("SET LOCAL enable_hashjoin TO DEFAULT")
            cursor.execute("SET LOCAL enable_mergejoin TO DEFAULT")

    def lock(self) -> None:
        # SHARE ROW EXCLUSIVE conflicts with itself and with INSERT/UPDATE/DELETE, not with
        # SELECT: imports and pledge writes queue behind this one, reads carry on. It also
        # means no other transaction takes ids from the sequence while we do.
        with self.raw.cursor() as cursor:
            cursor.execute("LOCK TABLE pledges IN SHARE ROW EXCLUSIVE MODE")

    def existing(self, keys: Sequence[str]) -> dict[str, ExistingPledge]:
        if not keys:
            return {}
        # One index probe per key. `external_id = ANY(array)` lets the planner pick a scan
        # of the whole table once the batch is a few percent of it, and an import runs
        # one batch after another against a growing table.
        with self.raw.cursor() as cursor:
            cursor.execute(self._lookup_sql(), (_text_array(keys),))
            return {row[1]: ExistingPledge(*row) for row in cursor}

    def existing_frame(self, keys: Sequence[str]) -> pl.DataFrame:
        # Straight from COPY into polars: no Python object per stored pledge.
        import polars as pl

        sql = self._lookup_sql().replace("p.amount,", "p.amount::text,").replace(
            "p.fx_rate_to_eur,", "p.fx_rate_to_eur::text,")
        with self.raw.cursor() as cursor, cursor.copy(
                f"COPY ({sql}) TO STDOUT (FORMAT CSV)", (_text_array(keys),)) as copy:
            data = b"".join(bytes(block) for block in copy)
        return pl.read_csv(data, has_header=False, schema=_existing_schema(),
                           raise_if_empty=False)

    def _lookup_sql(self) -> str:
        return _EXISTING.format(where="= k.external_id").replace(
            " FROM pledges p", " FROM unnest(%s::text[]) AS k(external_id)"
            " CROSS JOIN LATERAL (SELECT * FROM pledges WHERE external_id = k.external_id) p")

    def insert(self, rows: Sequence[NewPledge], *, at: dt.datetime) -> list[int]:
        if not rows:
            return []
        import psycopg

        tail = (0, 0, 0, at, at)
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                           (self.sequence, len(rows)))
            ids = [row[0] for row in cursor]
            names = ", ".join(("id", *INSERT_COLUMNS))
            cursor.execute(f"SAVEPOINT {_BATCH}")
            try:
                with cursor.copy(f"COPY pledges ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(_PG_TYPES)
                    write = copy.write_row
                    for pledge_id, row in zip(ids, rows, strict=True):
                        write((pledge_id, *row, *tail))
            except psycopg.errors.UniqueViolation as exc:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_BATCH}")
                raise DuplicateKey(str(exc)) from exc
            cursor.execute(f"RELEASE SAVEPOINT {_BATCH}")
        return ids

    mark = "%s"

    def encode(self, frame: pl.DataFrame, *, at: dt.datetime) -> Any:
        import polars as pl

        if self._shared:
            return frame.select(*_FRAME_COLUMNS).write_csv(
                include_header=False, quote_style="non_numeric", null_value="").encode()
        stamp = at.isoformat()
        return frame.select(
            *_FRAME_COLUMNS,
            *(pl.lit(0).alias(c) for c in INSERT_COLUMNS[16:19]),
            *(pl.lit(stamp).alias(c) for c in INSERT_COLUMNS[19:]),
        ).write_csv(include_header=False, quote_style="non_numeric", null_value="").encode()

    def insert_frame(self, frame: pl.DataFrame, encoded: Any, *,
                     at: dt.datetime) -> tuple[int, int]:
        import psycopg

        count = frame.height
        names = ", ".join(_FRAME_COLUMNS if self._shared else INSERT_COLUMNS)
        with self.raw.cursor() as cursor:
            cursor.execute(f"SAVEPOINT {_BATCH}")
            # The sequence's last value, before and after: nextval hands out increasing
            # values, so the rows got the run between them exactly when it is as long as
            # the chunk (a count of the run would read every row back).
            cursor.execute(f"SELECT last_value - (NOT is_called)::int FROM {self.sequence}")
            before = cursor.fetchone()[0]
            try:
                # Ids from the column's default, in row order: one run, because the table
                # lock keeps every other writer of pledges (the only users of the sequence)
                # out. Checked all the same.
                with cursor.copy(f"COPY pledges ({names}) FROM STDIN (FORMAT CSV)") as copy:
                    copy.write(encoded)
            except psycopg.errors.UniqueViolation as exc:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_BATCH}")
                raise DuplicateKey(str(exc)) from exc
            cursor.execute(f"RELEASE SAVEPOINT {_BATCH}")
            cursor.execute("SELECT currval(%s)", (self.sequence,))
            last = cursor.fetchone()[0]
            if last - before != count:
                raise RuntimeError("pledge ids taken by another writer during an import")
        return last - count + 1, last

    def history_range(self, first: int, last: int, *, at: dt.datetime, actor: str,
                      reason: str, statuses: pl.Series | None = None) -> None:
        if not self._shared or statuses is None:
            super().history_range(first, last, at=at, actor=actor, reason=reason)
            return
        import polars as pl

        # A bulk load: COPY (many rows to a WAL record, where INSERT ... SELECT writes one
        # each), what the rows share from the columns' defaults (the first entry of each
        # pledge is only its id); the same rows in the same order as the INSERT ... SELECT.
        ids = pl.int_range(first, last + 1, dtype=pl.Int64, eager=True).alias("pledge_id")
        moved = pl.DataFrame([ids, statuses.alias("to_status")]).filter(
            pl.col("to_status") != "announced").select(
                "pledge_id", pl.lit("announced").alias("from_status"), "to_status",
                pl.lit(reason).alias("reason"))
        with self.raw.cursor() as cursor:
            with cursor.copy("COPY pledge_transitions (pledge_id) FROM STDIN") as copy:
                copy.write(pl.DataFrame([ids]).write_csv(include_header=False).encode())
            if moved.height:
                with cursor.copy("COPY pledge_transitions (pledge_id, from_status, to_status,"
                                 " reason) FROM STDIN (FORMAT CSV)") as copy:
                    copy.write(moved.write_csv(include_header=False).encode())

    def history(self, ids: Sequence[int], statuses: Sequence[str], *, at: dt.datetime,
                actor: str, reason: str) -> None:
        if not ids:
            return
        # From arrays of the batch: no read of pledges at all.
        id_array = "{" + ",".join(map(str, ids)) + "}"
        with self.raw.cursor() as cursor:
            cursor.execute(
                f"{_INSERT_HISTORY} SELECT id, NULL, 'announced', %s, %s, 'pledge recorded'"
                " FROM unnest(%s::int8[]) AS id", (at, actor, id_array))
            cursor.execute(
                f"{_INSERT_HISTORY} SELECT id, 'announced', status, %s, %s, %s"
                " FROM unnest(%s::int8[], %s::text[]) AS batch(id, status)"
                " WHERE status <> 'announced'", (at, actor, reason, id_array,
                                                 _text_array(statuses)))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal: psycopg adapts a list element by element with a regular
    expression each, which costs more than the query at 10,000 elements."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def _sqlite_time(value: dt.datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _decimal(value: Any, places: int) -> Decimal:
    # SQLite keeps NUMERIC as a binary float; SQLAlchemy reads it back the same way.
    return Decimal(f"{value:.{places}f}")


class SqliteStore(PledgeStore):
    _dates: dict[dt.date, str]

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._dates = {}
        self._cache_size: int | None = None
        marks = ", ".join("?" * len(INSERT_COLUMNS))
        self._insert = f"INSERT INTO pledges ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"

    def begin_bulk(self) -> None:
        super().begin_bulk()
        # SQLite's default page cache (2 MB) makes a big load re-read its own pages; this is
        # a ceiling, filled only as pages are touched, and given back in end_bulk.
        self._cache_size = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute(f"PRAGMA cache_size = {-_BULK_CACHE_KIB}")

    def close(self) -> None:
        if self._cache_size is not None:
            self.raw.execute(f"PRAGMA cache_size = {int(self._cache_size)}")
            self._cache_size = None

    def existing(self, keys: Sequence[str]) -> dict[str, ExistingPledge]:
        found: dict[str, ExistingPledge] = {}
        cursor = self.raw.cursor()
        try:
            for start in range(0, len(keys), _SQLITE_CHUNK):
                chunk = keys[start:start + _SQLITE_CHUNK]
                where = f"IN ({', '.join('?' * len(chunk))})"
                for row in cursor.execute(_EXISTING.format(where=where), chunk):
                    found[row[1]] = ExistingPledge(
                        row[0], row[1], row[2], row[3], row[4], _decimal(row[5], 2), row[6],
                        _decimal(row[7], 8), dt.date.fromisoformat(row[8]), row[9], row[10],
                        dt.date.fromisoformat(row[11]), dt.date.fromisoformat(row[12]),
                        row[13], row[14], row[15], row[16])
        finally:
            cursor.close()
        return found

    def _date(self, value: dt.date) -> str:
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = value.isoformat()
        return text

    def insert(self, rows: Sequence[NewPledge], *, at: dt.datetime) -> list[int]:
        if not rows:
            return []
        known = self._dates
        date = self._date
        when = _sqlite_time(at)
        tail = (0, 0, 0, when, when)
        # The values SQLAlchemy would bind: floats for NUMERIC, ISO text for dates.
        converted = [
            (r[0], r[1], r[2], r[3], float(r[4]), r[5], float(r[6]),
             known.get(r[7]) or date(r[7]), r[8], r[9], known.get(r[10]) or date(r[10]),
             known.get(r[11]) or date(r[11]), r[12], r[13], r[14], r[15], *tail)
            for r in rows
        ]
        last = self._insert_run(converted)
        return list(range(last - len(rows) + 1, last + 1))

    def _insert_run(self, rows: Iterable[Sequence[Any]]) -> int:
        """Inserts the rows in a savepoint (a taken key: DuplicateKey, nothing stored) and
        returns the last new id. The import holds SQLite's write lock from its first row on,
        and pledges has no AUTOINCREMENT: each new id is the largest plus one, so a batch's
        ids are the run ending at the last one inserted."""
        cursor = self.raw.cursor()
        cursor.execute(f"SAVEPOINT {_BATCH}")
        try:
            try:
                cursor.executemany(self._insert, rows)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_BATCH}")
                cursor.execute(f"RELEASE SAVEPOINT {_BATCH}")
                raise DuplicateKey(str(exc)) from exc
            cursor.execute(f"RELEASE SAVEPOINT {_BATCH}")
            last: int = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
        finally:
            cursor.close()
        return last

    def _time(self, at: dt.datetime) -> Any:
        return _sqlite_time(at)

    def insert_frame(self, frame: pl.DataFrame, encoded: Any, *,
                     at: dt.datetime) -> tuple[int, int]:
        import polars as pl

        when = _sqlite_time(at)
        text = "%Y-%m-%d"
        # The values SQLAlchemy would bind: floats for NUMERIC (polars reads a decimal text
        # to the nearest double, as float(Decimal(text)) does), ISO text for dates.
        rows = frame.select(
            "external_id", "donor_id", "item_type_id", "quantity",
            pl.col("amount").cast(pl.Float64), "currency",
            pl.col("fx_rate_to_eur").cast(pl.Float64), pl.col("fx_date").dt.to_string(text),
            "value_eur_cents", "funding", pl.col("announced_on").dt.to_string(text),
            pl.col("available_from").dt.to_string(text), "format_id", "releasability",
            "status", "notes",
            *(pl.lit(0).alias(c) for c in INSERT_COLUMNS[16:19]),
            *(pl.lit(when).alias(c) for c in INSERT_COLUMNS[19:]),
        ).iter_rows()
        last = self._insert_run(rows)
        return last - frame.height + 1, last

    def history(self, ids: Sequence[int], statuses: Sequence[str], *, at: dt.datetime,
                actor: str, reason: str) -> None:
        if not ids:
            return
        # The batch's ids are one run (see `insert`): a range of the rowid, read in order.
        where = "id BETWEEN ? AND ?"
        when = _sqlite_time(at)
        bounds = (ids[0], ids[-1])
        cursor = self.raw.cursor()
        try:
            cursor.execute(_HISTORY.format(
                from_status="NULL", to_status="'announced'", p="?",
                reason="'pledge recorded'", where=where, extra=""), (when, actor, *bounds))
            cursor.execute(_HISTORY.format(
                from_status="'announced'", to_status="status", p="?", reason="?",
                where=where, extra="AND status <> 'announced'"), (when, actor, reason, *bounds))
        finally:
            cursor.close()
