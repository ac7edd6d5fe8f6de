"""Backup and restore of the whole database, portable between SQLite and PostgreSQL.

A backup is JSON lines (gzip-compressed when the file name ends in .gz): a header with the
format, the Alembic revision and the tables in foreign-key order, then per table a line with
its columns, one line per row (values as JSON: decimals and dates as text, datetimes in UTC
ISO form, bytes in base64) in primary-key order, and a line with the row count and a SHA-256
of the rows. Values are read and written through the tables' SQLAlchemy types, so the same
content reads back the same on either database, and the digest of a table is the same there.

A restore goes into an empty database migrated to the backup's revision, in one transaction:
rows keep their ids, references to the same table (a category's parent, a purchase's
contribution) are set once all rows are in, PostgreSQL's sequences continue after the
largest id, and every table's digest is checked against the backup before it commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Enum,
    LargeBinary,
    Numeric,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from coalition import all_models
from coalition.db import UTCDateTime
from coalition.errors import Conflict, ValidationFailed

FORMAT = "coalition-backup"
VERSION = 1
_BATCH = 2000


@dataclass
class TableSummary:
    name: str
    rows: int
    sha256: str


@dataclass
class BackupSummary:
    revision: list[str]
    dialect: str
    tables: list[TableSummary] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def tables() -> list[Table]:
    """Every table of the application, parents before children."""
    return list(all_models.Base.metadata.sorted_tables)


def _order(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns) or list(table.columns)


# --- values -------------------------------------------------------------------------------


def _encoder(column: Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, Numeric):
        scale = kind.scale

        def number(value: Any) -> Any:
            if value is None:
                return None
            exact = Decimal(value) if not isinstance(value, Decimal) else value
            if scale is not None:
                exact = exact.quantize(Decimal(1).scaleb(-scale))
            return str(exact)

        return number
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else v.astimezone(dt.UTC).isoformat(
            timespec="microseconds")
    if isinstance(kind, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(kind, Enum):
        return lambda v: v.value if isinstance(v, enum.Enum) else v
    return lambda v: v


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, Numeric):
        return lambda v: None if v is None else Decimal(v)
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(kind, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    if isinstance(kind, Enum) and kind.enum_class is not None:
        cls = kind.enum_class
        return lambda v: None if v is None else cls(v)
    return lambda v: v


def _canonical(values: list[Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8") + b"\n"


def _rows(connection: Connection, table: Table) -> Iterator[list[Any]]:
    encoders = [_encoder(c) for c in table.columns]
    # Per statement: options set on the connection would stay on the caller's connection.
    result = connection.execute(
        select(table).order_by(*_order(table)).execution_options(yield_per=_BATCH))
    for row in result:
        yield [encode(value) for encode, value in zip(encoders, row, strict=True)]


def table_digests(connection: Connection) -> dict[str, TableSummary]:
    """Row count and SHA-256 of every table's content, comparable across databases."""
    found = {}
    for table in tables():
        digest = hashlib.sha256()
        count = 0
        for values in _rows(connection, table):
            digest.update(_canonical(values))
            count += 1
        found[table.name] = TableSummary(table.name, count, digest.hexdigest())
    return found


def revision(connection: Connection) -> list[str]:
    return sorted(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def _open(path: Path, mode: str) -> Iterator[IO[str]]:
    if path.suffix == ".gz":
        with cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8")) as handle:
            yield handle
    else:
        with path.open(mode, encoding="utf-8") as handle:
            yield handle


# --- backup -------------------------------------------------------------------------------


def backup(connection: Connection, path: Path | str,
           progress: Callable[[str, int], None] | None = None) -> BackupSummary:
    """Write every table to `path` from one consistent read (run it in one transaction)."""
    path = Path(path)
    summary = BackupSummary(revision(connection), connection.dialect.name)
    with _open(path, "w") as out:
        out.write(json.dumps({
            "format": FORMAT, "version": VERSION, "revision": summary.revision,
            "dialect": summary.dialect,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tables": [t.name for t in tables()],
        }) + "\n")
        for table in tables():
            out.write(json.dumps({"table": table.name,
                                  "columns": [c.name for c in table.columns]}) + "\n")
            digest = hashlib.sha256()
            count = 0
            for values in _rows(connection, table):
                line = _canonical(values)
                digest.update(line)
                out.write(line.decode("utf-8"))
                count += 1
            summary.tables.append(TableSummary(table.name, count, digest.hexdigest()))
            out.write(json.dumps({"end": table.name, "rows": count,
                                  "sha256": digest.hexdigest()}) + "\n")
            if progress is not None:
                progress(table.name, count)
        out.write(json.dumps({"done": True, "rows": summary.rows}) + "\n")
    return summary


# --- restore ------------------------------------------------------------------------------


def restore(connection: Connection, path: Path | str,
            progress: Callable[[str, int], None] | None = None) -> BackupSummary:
    """Load a backup into this empty database at the backup's revision, then verify it."""
    path = Path(path)
    known = {t.name: t for t in tables()}
    with _open(path, "r") as handle:
        header = _header(path, handle.readline())
        here = revision(connection)
        if here != header["revision"]:
            raise ValidationFailed.single(
                "revision", f"the backup is at {', '.join(header['revision']) or 'no revision'}"
                f", this database at {', '.join(here) or 'none'}; migrate it to the backup's "
                "revision first (coalition db upgrade REVISION)")
        if sorted(header["tables"]) != sorted(known):
            raise ValidationFailed.single(
                "tables", "the backup's tables differ from this version's: "
                f"{sorted(set(header['tables']) ^ set(known))}")
        filled = [name for name, table in known.items()
                  if connection.scalar(select(func.count()).select_from(table))]
        if filled:
            raise Conflict(f"restore needs an empty database; these tables have rows: "
                           f"{', '.join(filled)}")
        summary = BackupSummary(header["revision"], str(header["dialect"]))
        for _ in header["tables"]:
            summary.tables.append(_load_table(connection, handle, known))
            if progress is not None:
                progress(summary.tables[-1].name, summary.tables[-1].rows)
        tail = json.loads(handle.readline() or "{}")
        if not tail.get("done"):
            raise ValidationFailed.single("file", "the backup ends early (truncated?)")
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection)
    _verify(connection, summary)
    return summary


def _header(path: Path, line: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError:
        header = {}
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValidationFailed.single("file", f"{path.name} is not a Coalition backup "
                                              f"(format {FORMAT} version {VERSION})")
    return header


def _load_table(connection: Connection, handle: IO[str],
                known: dict[str, Table]) -> TableSummary:
    start = json.loads(handle.readline())
    table = known[start["table"]]
    names = start["columns"]
    if sorted(names) != sorted(c.name for c in table.columns):
        raise ValidationFailed.single("columns", f"{table.name}: the backup's columns differ "
                                                 "from this version's")
    columns = [table.c[name] for name in names]
    decoders = [_decoder(c) for c in columns]
    # Self-references (parent category, parent pledge) may point forward: set them last.
    deferred = [i for i, c in enumerate(columns)
                if any(fk.column.table is table for fk in c.foreign_keys)]
    # Columns an UPDATE would stamp (updated_at): the second step keeps the backup's value.
    touched = [c for c in table.columns if c.onupdate is not None]
    digest = hashlib.sha256()
    batch: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    count = 0
    while True:
        line = handle.readline()
        if line.startswith("{"):
            end = json.loads(line)
            break
        values = json.loads(line)
        digest.update(_canonical(values))
        row = {name: decode(value) for name, decode, value in
               zip(names, decoders, values, strict=True)}
        for i in deferred:
            if row[names[i]] is not None:
                links.append({"_key": _key(table, row), "_value": row[names[i]],
                              "_column": names[i],
                              **{f"_keep_{c.name}": row[c.name] for c in touched}})
                row[names[i]] = None
        batch.append(row)
        count += 1
        if len(batch) >= _BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
    if end.get("end") != table.name or end.get("rows") != count or (
            end.get("sha256") != digest.hexdigest()):
        raise ValidationFailed.single("file", f"{table.name}: the rows do not match the "
                                              "backup's count and digest (damaged?)")
    _link(connection, table, links)
    return TableSummary(table.name, count, digest.hexdigest())


def _key(table: Table, row: dict[str, Any]) -> Any:
    (pk,) = table.primary_key.columns
    return row[pk.name]


def _link(connection: Connection, table: Table, links: list[dict[str, Any]]) -> None:
    if not links:
        return
    (pk,) = table.primary_key.columns
    kept = [c.name for c in table.columns if c.onupdate is not None]
    for column in sorted({link["_column"] for link in links}):
        params = [{k: v for k, v in link.items() if k != "_column"} for link in links
                  if link["_column"] == column]
        values: dict[str, Any] = {column: bindparam("_value"),
                  **{name: bindparam(f"_keep_{name}") for name in kept}}
        connection.execute(update(table).where(pk == bindparam("_key")).values(values),
                           params)


def _reset_sequences(connection: Connection) -> None:
    """Sequences continue after the restored ids, so new rows do not collide with them."""
    for table in tables():
        pks = list(table.primary_key.columns)
        if len(pks) != 1 or not pks[0].autoincrement or pks[0].type.python_type is not int:
            continue
        name = pks[0].name
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                     {"t": table.name, "c": name})
        if sequence is None:
            continue
        connection.execute(text(
            f'SELECT setval(:s, COALESCE((SELECT max("{name}") FROM "{table.name}"), 1), '
            f'(SELECT max("{name}") IS NOT NULL FROM "{table.name}"))'), {"s": sequence})


def _verify(connection: Connection, summary: BackupSummary) -> None:
    stored = table_digests(connection)
    wrong = [t.name for t in summary.tables
             if (stored[t.name].rows, stored[t.name].sha256) != (t.rows, t.sha256)]
    if wrong:
        raise ValidationFailed.single("restore", "restored content differs from the backup in "
                                                 f"{', '.join(wrong)}")
