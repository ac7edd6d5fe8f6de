"""The bulk pledge import: new rows set-based, changed rows through the service.

Rows are validated as they stream in and go to the database in batches, written by a second
thread on the session's own connection: while PostgreSQL (or SQLite's C code, which releases
the GIL) stores one batch, this thread parses the next, so a large file uses both cores and
flat memory. A batch's rows are split by external id: a new one is inserted with the values
the service would give it (EUR cents through `coalition.money`, the default format, status
history "pledge recorded" then its imported status), one audit entry covers all of them; an
existing one is compared on the columns the file has, and a changed one is updated (and its
status moved) through `pledges.service`, which audits it. Nothing is written once any row is
refused, and the caller's transaction rolls back what was.

Rows come one by one (`add`, from `RowValidator`) or, for a CSV file, as chunks of rows the
frame validator proved valid (`add_frame`, from `_pledge_frames.prepare`): those are inserted
with one statement per chunk, and compared with stored pledges in bulk; whatever may need a
message or a service call goes the row path.

A row without an external id gets one derived from its content ("auto-" and a digest of donor,
item, quantity, value, date, funding, parent and format), so re-importing the same file finds
the same pledges instead of duplicating them.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import hashlib
import queue
import threading
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import audit, policy
from coalition.access.actor import Actor
from coalition.access.labels import Role
from coalition.access.visibility import can_see
from coalition.catalog.models import ItemType
from coalition.db import utcnow
from coalition.errors import DomainError, Forbidden
from coalition.io.frames import ROW
from coalition.io.importers import _pledge_frames
from coalition.io.importers._common import ErrorLimit, row_errors_from
from coalition.io.importers._pledge_store import (
    DuplicateKey,
    ExistingPledge,
    NewPledge,
    PledgeStore,
)
from coalition.io.rows import Lookup, RowError
from coalition.io.specs import PLEDGES, PledgeRow
from coalition.money import convert_to_eur_cents
from coalition.pledges import lifecycle
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus
from coalition.pledges.schemas import PledgeUpdate
from coalition.registry.models import Format, Participant
from coalition.requirements.service import DEFAULT_FORMAT

BATCH_ROWS = 10_000
# A file this large (and at least a quarter of the table) loads faster with the secondary
# indexes rebuilt once at the end than maintained row by row.
BULK_MIN_ROWS = 50_000
_REQUESTABLE = frozenset(s.value for s in lifecycle.REQUESTABLE)
_PLAUSIBLE_LEAD = dt.timedelta(days=3650)
_COLUMNS = tuple(c.name for c in PLEDGES.columns)
# Columns that identify a pledge: a file may not change them on an existing one.
_FIXED = ("donor", "item_type", "currency", "funding", "announced_on", "format",
          "parent_external_id")
_UPDATABLE = ("quantity", "amount", "fx_rate_to_eur", "fx_date", "available_from",
              "releasability", "notes")
# (number, external id, row, donor id, item type id, format id, value in EUR cents)
Candidate = tuple[int, str, PledgeRow, int, int, int | None, int]


def auto_external_id(row: PledgeRow) -> str:
    """A stable id for a row that has none, from what makes the pledge this pledge."""
    text = "|".join(str(v) for v in (
        row.donor, row.item_type, row.quantity, row.amount, row.currency, row.fx_rate_to_eur,
        row.announced_on, row.funding, row.parent_external_id, row.format))
    return "auto-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class _Parent:
    """What linking a child needs of its parent (and `can_see` of any pledge)."""

    __owner_column__: ClassVar[str] = "donor_id"

    id: int
    funding: FundingMechanism
    releasability: str
    donor_id: int
    format_id: int | None


@dataclass
class _Change:
    number: int
    row: PledgeRow
    current: ExistingPledge
    changes: dict[str, Any]
    status: PledgeStatus | None


@dataclass
class PledgeLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_ids: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


class PledgeLoad:
    """Takes validated pledge rows (`add`), stores them in batches, and `finish`es with the
    parent links, the updates of changed pledges and one audit entry for the new ones.

    `keep_ids` collects the ids of created pledges (the Kiel import needs them; a file import
    of a million rows should not).
    """

    def __init__(self, session: Session, *, actor: Actor, source: str, errors: ErrorLimit,
                 present: frozenset[str] = frozenset(_COLUMNS), keep_ids: bool = False,
                 audit_facts: Mapping[str, Any] | None = None,
                 expected_rows: int | None = None) -> None:
        policy.ensure(actor, policy.WRITE_PLEDGES)
        self.session = session
        self.actor = actor
        self.source = source
        self.errors = errors
        self.present = present
        self.keep_ids = keep_ids
        self.audit_facts = dict(audit_facts or {})
        self.result = PledgeLoadResult()
        self.now = utcnow()
        self.reason = f"imported from {source}"
        self.donors = {code: (pid, donor) for code, pid, donor in session.execute(
            select(Participant.code, Participant.id, Participant.is_donor))}
        self.items = dict(session.execute(select(ItemType.code, ItemType.id)).all())
        self.formats = dict(session.execute(select(Format.code, Format.id)).all())
        self.default_format = self.formats.get(DEFAULT_FORMAT)
        self.own_nation = actor.participant_id if actor.role is Role.NATIONAL else None
        # A secretariat records pledges of the formats it coordinates only, as create_pledge.
        self.own_formats = (frozenset(actor.coordinated_format_ids)
                            if actor.role is Role.COORDINATOR else None)
        session.flush()
        self.store = PledgeStore.open(session.connection())
        self.store.lock()
        stored = self.store.count()
        # Into an empty table every row is new: no look-ups; a key met twice in the file is
        # caught by the unique index instead (see _insert).
        self.look_up = stored > 0
        self.bulk = bool(expected_rows and expected_rows >= BULK_MIN_ROWS
                         and expected_rows * 4 >= stored)
        # The indexes are dropped before the first insert, not here: a re-import that
        # changes nothing keeps them.
        if self.bulk:
            self.store.plan_bulk(at=self.now, actor=actor.label, empty=not stored)
        self._bulk_begun = False
        self._batch: list[Candidate] = []
        self._writer: _Writer | None = None

    def lookups(self) -> Mapping[str, Lookup]:
        return {"participant_code": self.donors.__contains__,
                "item_type": self.items.__contains__,
                "format_code": self.formats.__contains__}

    @property
    def stopped(self) -> bool:
        return self.errors.full

    def add(self, number: int, row: PledgeRow) -> None:
        """One validated row (the hot path of a million-row file)."""
        donor_id, is_donor = self.donors[row.donor]
        if not is_donor:
            self.errors.add(RowError(number, "donor", row.donor,
                                     "participant is not registered as a donor"))
            return
        if self.own_nation is not None and donor_id != self.own_nation:
            raise Forbidden(f"a national user may only write pledges of their own nation "
                            f"(row {number}: donor {row.donor})")
        if row.available_from < row.announced_on - _PLAUSIBLE_LEAD:
            self.errors.add(RowError(number, "available_from", str(row.available_from),
                                     "implausibly early"))
            return
        external_id = row.external_id or auto_external_id(row)
        format_id = self.formats[row.format] if row.format else self.default_format
        if self.own_formats is not None and format_id not in self.own_formats:
            raise Forbidden(f"a coordinator may only record pledges of the format they "
                            f"coordinate (row {number}: format {row.format or DEFAULT_FORMAT})")
        self._batch.append((number, external_id, row, donor_id, self.items[row.item_type],
                            format_id, convert_to_eur_cents(row.amount, row.fx_rate_to_eur)))
        if len(self._batch) >= BATCH_ROWS:
            self._send()

    def add_all(self, rows: Iterable[tuple[int, PledgeRow]]) -> None:
        for number, row in rows:
            self.add(number, row)
            if self.errors.full:
                return

    def add_frame(self, frame: pl.DataFrame) -> None:
        """Rows `_pledge_frames.prepare` made ready, after the rows before them."""
        self.flush()
        if frame.height and not self.errors:
            # Into a table with pledges, the writer encodes only the rows that turn out new.
            encoded = None if self.look_up else self.store.encode(frame, at=self.now)
            self._writer_for().put(_Chunk(frame, encoded))

    def flush(self) -> None:
        if self._batch:
            self._send()

    def _writer_for(self) -> _Writer:
        if self._writer is None:
            self._writer = _Writer(self, threaded=self.store.threaded)
        return self._writer

    def _send(self) -> None:
        self._writer_for().put(self._batch)
        self._batch = []

    def finish(self) -> PledgeLoadResult:
        """Flush, then link parents, apply changes and audit. Raises nothing for row errors:
        the caller reads `errors` (and must not commit when there are any)."""
        if self._batch:
            self._send()
        writer = self._writer
        try:
            if writer is not None:
                writer.close()
            if self._bulk_begun and not self.errors.full:
                try:
                    self.store.end_unique()
                except DuplicateKey:
                    self._repeated(writer.state if writer else _WriterState())
            if self.errors or writer is None:
                # Nothing stays: the caller rolls back, which also restores dropped indexes.
                return self.result
            # Before the indexes come back: the links are then cheap updates.
            self._link_parents(writer.parents)
            if self.errors:
                return self.result
            if self._bulk_begun:
                self.store.end_bulk()
            self._apply_changes(writer.changes)
            if not self.errors and self.result.created:
                self._audit()
            return self.result
        finally:
            self.store.close()

    def abort(self) -> None:
        """Stop the writer before the caller rolls back (an exception left `add`)."""
        writer, self._writer = self._writer, None
        # The exception already leaving is the one to report.
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.close()
            self.store.close()

    def _link_parents(self, children: list[tuple[int, str, int]]) -> None:
        """A joint-fund purchase points at the contribution that paid for it, which may be
        an existing pledge or one of this file (before or after it)."""
        if not children:
            return
        wanted = sorted({parent for _, parent, _ in children})
        found: dict[str, _Parent] = {}
        columns = (Pledge.external_id, Pledge.id, Pledge.funding, Pledge.releasability,
                   Pledge.donor_id, Pledge.format_id)
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start:start + 5000]
            found.update((row[0] or "", _Parent(*row[1:])) for row in self.session.execute(
                select(*columns).where(Pledge.external_id.in_(chunk))))
        links = []
        for child_id, parent_ext, number in children:
            parent = found.get(parent_ext)
            if parent is None or not can_see(self.actor, parent):
                self.errors.add(RowError(number, "parent_external_id", parent_ext,
                                         "no pledge with this external_id"))
            elif parent.funding is not FundingMechanism.JOINT_FUND_CONTRIBUTION:
                self.errors.add(RowError(number, "parent_external_id", parent_ext,
                                         "parent must be a joint-fund contribution"))
            else:
                links.append((child_id, parent.id))
        if links and not self.errors:
            self.store.link_parents(links)

    def _apply_changes(self, changes: list[_Change]) -> None:
        for change in changes:
            try:
                if change.changes:
                    pledge_service.update_pledge(
                        self.session, actor=self.actor, pledge_id=change.current.id,
                        data=PledgeUpdate(**change.changes))
                if change.status is not None:
                    pledge_service.transition(self.session, actor=self.actor,
                                              pledge_id=change.current.id, to=change.status,
                                              reason=self.reason)
            except Forbidden:
                raise
            except DomainError as exc:
                self.errors.extend(row_errors_from(exc, change.number, _COLUMNS, "external_id"))
                return
            self.result.updated += 1

    def _audit(self) -> None:
        """One entry for all new pledges; each changed one has its own from the service."""
        r = self.result
        audit.record(self.session, actor=self.actor, action="pledge.import",
                     target_type="pledges", target_id=f"import:{self.source}"[:80],
                     after={"source": self.source, **self.audit_facts, "created": r.created,
                            "updated": r.updated, "unchanged": r.unchanged,
                            "statuses": r.statuses})

    # --- the writer's side (runs in the writer thread) ---------------------------------

    def _store_frame(self, chunk: _Chunk, state: _WriterState) -> None:
        """A prepared chunk: rows whose key is stored go the row path (compared, updated or
        named as duplicates), the others are inserted in one statement."""
        if self.errors:
            return
        frame, encoded = chunk.frame, chunk.encoded
        if self.look_up:
            keys = frame.get_column("external_id")
            was = self.store.existing_frame(keys.to_list())
            if was.height:
                known = keys.is_in(was.get_column("external_id").implode())
                both = frame.filter(known).join(
                    was.rename(lambda name: f"was_{name}"), left_on="external_id",
                    right_on="was_external_id", how="left", maintain_order="left")
                same = self._unchanged(both, state)
                self.result.unchanged += int(same.sum())
                others = both.filter(~same)
                if others.height:
                    stored = self.store.existing(others.get_column("external_id").to_list())
                    self._store_batch(_pledge_frames.candidates(others), state, stored)
                frame = frame.filter(~known)
                if self.errors or frame.is_empty():
                    return
            encoded = self.store.encode(frame, at=self.now)
        self._begin_inserts()
        try:
            first, last = self.store.insert_frame(frame, encoded, at=self.now)
        except DuplicateKey:
            self._duplicates(_pledge_frames.candidates(frame), state)
            return
        self.store.history_range(first, last, at=self.now, actor=self.actor.label,
                                 reason=self.reason, statuses=frame.get_column("status"))
        statuses = self.result.statuses
        for status, count in frame.get_column("status").value_counts().iter_rows():
            statuses[status] = statuses.get(status, 0) + count
        if state.first_id == _NO_ID:
            state.first_id = first
        state.ids.extend(range(first, last + 1))
        state.rows.frombytes(frame.get_column(ROW).cast(pl.Int64).to_numpy().tobytes())
        children = frame.with_row_index("_at").filter(
            pl.col("parent_external_id").is_not_null())
        state.parents.extend(
            (first + at, parent, number) for at, parent, number in children.select(
                "_at", "parent_external_id", ROW).iter_rows())
        self.result.created += frame.height
        if self.keep_ids:
            self.result.created_ids.extend(range(first, last + 1))

    def _begin_inserts(self) -> None:
        if self.bulk and not self._bulk_begun:
            self.store.begin_bulk()
            self._bulk_begun = True

    def _store_batch(self, batch: list[Candidate], state: _WriterState,
                     stored: Mapping[str, ExistingPledge] | None = None) -> None:
        """Candidates of the row path (`stored`: what the database holds of their keys, if
        the caller looked already)."""
        if stored is not None:
            existing = stored
        else:
            existing = self.store.existing([c[1] for c in batch]) if self.look_up else {}
        seen: dict[str, int] = {}
        new: list[Candidate] = []
        errors = self.errors
        for candidate in batch:
            number, external_id, row = candidate[0], candidate[1], candidate[2]
            first = seen.setdefault(external_id, number)
            if first != number:
                errors.add(RowError(number, "external_id", row.external_id,
                                    f"duplicate of row {first}"))
                continue
            current = existing.get(external_id)
            if current is None:
                if row.status is not None and row.status not in _NEW_STATUSES:
                    errors.add(RowError(number, "status", row.status, _UNREACHABLE))
                    continue
                new.append(candidate)
            elif current.id >= state.first_id:
                index = bisect.bisect_left(state.ids, current.id)
                errors.add(RowError(number, "external_id", row.external_id,
                                    f"duplicate of row {state.rows[index]}"))
            else:
                self._compare(candidate, current, state)
        if errors or not new:
            return
        statuses = self.result.statuses
        rows: list[NewPledge] = []
        kinds: list[str] = []
        append = rows.append
        for _, external_id, row, donor_id, item_id, format_id, cents in new:
            status = row.status or "announced"
            statuses[status] = statuses.get(status, 0) + 1
            kinds.append(status)
            append((external_id, donor_id, item_id, row.quantity, row.amount, row.currency,
                    row.fx_rate_to_eur, row.fx_date, cents, row.funding, row.announced_on,
                    row.available_from, format_id, row.releasability, status, row.notes))
        self._begin_inserts()
        try:
            ids = self.store.insert(rows, at=self.now)
        except DuplicateKey:
            self._duplicates(new, state)
            return
        self.store.history(ids, kinds, at=self.now, actor=self.actor.label, reason=self.reason)
        if state.first_id == _NO_ID:
            state.first_id = ids[0]
        state.ids.extend(ids)
        state.rows.extend(c[0] for c in new)
        state.auto.extend(i for i, c in zip(ids, new, strict=True) if not c[2].external_id)
        for pledge_id, candidate in zip(ids, new, strict=True):
            parent = candidate[2].parent_external_id
            if parent is not None:
                state.parents.append((pledge_id, parent, candidate[0]))
        self.result.created += len(ids)
        if self.keep_ids:
            self.result.created_ids.extend(ids)

    def _unchanged(self, both: pl.DataFrame, state: _WriterState) -> pl.Series:
        """Which rows of `both` (a chunk's rows with a stored key, joined with the stored
        pledge's fields as `was_*`) `_compare` would find unchanged: a visible pledge of an
        earlier import, equal in every column the file has. Only what is certainly
        unchanged is marked; `_compare` looks at the rest."""
        label = ["was_releasability", "was_donor_id", "was_format_id"]
        seen = both.select(label).unique()
        visible = seen.with_columns(pl.Series("was_visible", [
            can_see(self.actor, _Parent(0, FundingMechanism.OTHER, *combo))
            for combo in seen.iter_rows()], dtype=pl.Boolean))
        both = both.join(visible, on=label, how="left", nulls_equal=True, maintain_order="left")
        now = pl.col

        def before(name: str) -> pl.Expr:
            return pl.col(f"was_{name}")

        checks = [before("visible"), before("id") < min(state.first_id, _NO_ID - 1)]
        for name, row, stored_value in (
            ("donor", now("donor_id"), before("donor_id")),
            ("item_type", now("item_type_id"), before("item_type_id")),
            ("quantity", now("quantity"), before("quantity")),
            ("amount", _pledge_frames.scaled(now("amount"), 2),
             _pledge_frames.scaled(before("amount"), 2)),
            ("currency", now("currency"), before("currency")),
            ("fx_rate_to_eur", _pledge_frames.scaled(now("fx_rate_to_eur"), 8),
             _pledge_frames.scaled(before("fx_rate_to_eur"), 8)),
            ("fx_date", now("fx_date"), before("fx_date")),
            ("funding", now("funding"), before("funding")),
            ("available_from", now("available_from"), before("available_from")),
            ("releasability", now("releasability"), before("releasability")),
            ("announced_on", now("announced_on"), before("announced_on")),
            ("notes", now("notes"), before("notes")),
        ):
            if name in self.present:
                checks.append(row.eq_missing(stored_value))
        # Blank format, parent or status: the file does not say, so nothing changes.
        if "format" in self.present:
            checks.append(now("format").is_null()
                          | now("format_id").eq_missing(before("format_id")))
        if "parent_external_id" in self.present:
            checks.append(now("parent_external_id").is_null()
                          | now("parent_external_id").eq_missing(before("parent_external_id")))
        if "status" in self.present:
            checks.append(now("status_given").is_null()
                          | now("status_given").eq_missing(before("status")))
        return both.select(pl.all_horizontal(*checks).fill_null(False).alias("same")
                           ).get_column("same")

    def _duplicates(self, new: list[Candidate], state: _WriterState) -> None:
        """The batch met keys an earlier batch stored: name the rows that had them first."""
        stored = self.store.existing([c[1] for c in new])
        for number, external_id, row, *_ in new:
            current = stored.get(external_id)
            if current is not None and current.id >= state.first_id:
                index = bisect.bisect_left(state.ids, current.id)
                self.errors.add(RowError(number, "external_id", row.external_id,
                                         f"duplicate of row {state.rows[index]}"))

    def _repeated(self, state: _WriterState) -> None:
        """Keys stored twice by a bulk load without the unique key: each later row names the
        row that had its key first."""
        found: list[RowError] = []
        for key, ids in self.store.repeated_keys():
            rows = [state.rows[bisect.bisect_left(state.ids, i)] for i in ids]
            shown = None if _contains(state.auto, ids[0]) else key
            found.extend(RowError(row, "external_id", shown, f"duplicate of row {rows[0]}")
                         for row in rows[1:])
        self.errors.extend(sorted(found, key=lambda error: error.row))

    def _compare(self, candidate: Candidate, current: ExistingPledge,
                 state: _WriterState) -> None:
        number, external_id, row, donor_id, item_id, format_id, _ = candidate
        present = self.present
        if not can_see(self.actor, current):
            self.errors.add(RowError(number, "external_id", external_id,
                                     "is taken by a pledge you cannot see"))
            return
        fixed = {
            "donor": (current.donor_id, donor_id, row.donor),
            "item_type": (current.item_type_id, item_id, row.item_type),
            "currency": (current.currency, row.currency, row.currency),
            "funding": (current.funding, row.funding, row.funding),
            "announced_on": (current.announced_on, row.announced_on, row.announced_on),
            # Blank format or parent: the file does not say, so nothing changes.
            "format": (current.format_id, format_id if row.format else current.format_id,
                       row.format),
            "parent_external_id": (current.parent_external_id,
                                   row.parent_external_id or current.parent_external_id,
                                   row.parent_external_id),
        }
        refused = False
        for column in _FIXED:
            now, wanted, shown = fixed[column]
            if column in present and now != wanted:
                self.errors.add(RowError(number, column, str(shown),
                                         f"cannot change the {column} of an existing pledge"))
                refused = True
        if refused:
            return
        changes = {name: getattr(row, name) for name in _UPDATABLE
                   if name in present and getattr(row, name) != getattr(current, name)}
        status = None
        if "status" in present and row.status is not None and row.status != current.status:
            if row.status not in _REQUESTABLE:
                self.errors.add(RowError(number, "status", row.status, _UNREACHABLE))
                return
            status = PledgeStatus(row.status)
        if changes or status is not None:
            state.changes.append(_Change(number, row, current, changes, status))
        else:
            self.result.unchanged += 1


def _contains(ids: array[int], wanted: int) -> bool:
    at = bisect.bisect_left(ids, wanted)
    return at < len(ids) and ids[at] == wanted


_NEW_STATUSES = frozenset({"announced", "confirmed", "withdrawn", "cancelled"})
_UNREACHABLE = ("is reached through allocations and deliveries, not by import; "
                "import the pledge as confirmed and allocate it")
_NO_ID = 2**63


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Rows `_pledge_frames.prepare` made ready, and what the store will send for them."""

    frame: pl.DataFrame
    encoded: Any


# A writer's job: candidates of the row path, or a chunk of ready rows.
_Job = list[Candidate] | _Chunk


@dataclass
class _WriterState:
    # Ids this import created (increasing) and the row each came from: a key met again in a
    # later batch is found in the database, and these say which row had it first.
    first_id: int = _NO_ID
    ids: array[int] = field(default_factory=lambda: array("q"))
    rows: array[int] = field(default_factory=lambda: array("q"))
    # Created ids whose external id the import made up (the row had none), increasing.
    auto: array[int] = field(default_factory=lambda: array("q"))
    parents: list[tuple[int, str, int]] = field(default_factory=list)
    changes: list[_Change] = field(default_factory=list)


class _Writer:
    """Stores batches: on PostgreSQL from a second thread (the connection is used by one
    thread at a time: this one until `close`, the caller's afterwards); on SQLite inline,
    because sqlite3 gives up the GIL around every row it steps and would wait for it again
    behind the parsing thread each time."""

    def __init__(self, load: PledgeLoad, *, threaded: bool) -> None:
        self.load = load
        self.state = _WriterState()
        self.failure: BaseException | None = None
        # Two batches in flight: one being stored, one ready; more would only cost memory.
        self.queue: queue.Queue[_Job | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = None
        if threaded:
            self.thread = threading.Thread(target=self._run, name="pledge-import-writer",
                                           daemon=True)
            self.thread.start()

    @property
    def parents(self) -> list[tuple[int, str, int]]:
        return self.state.parents

    @property
    def changes(self) -> list[_Change]:
        return self.state.changes

    def _store(self, job: _Job) -> None:
        if isinstance(job, _Chunk):
            self.load._store_frame(job, self.state)
        else:
            self.load._store_batch(job, self.state)

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.failure is not None:
                continue
            try:
                self._store(batch)
            except BaseException as exc:  # handed to the caller's thread in close()/put()
                self.failure = exc

    def put(self, batch: _Job) -> None:
        if self.thread is None:
            self._store(batch)
            return
        if self.failure is not None:
            self.close()
        self.queue.put(batch)

    def close(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure
