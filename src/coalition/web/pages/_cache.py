"""Reports computed once per state of the data, per reader.

Aggregating 100,000 pledges takes hundreds of milliseconds; a dashboard asks for the same
figures on every visit. Every write through any service appends to the audit chain in its own
transaction, so the chain's head names the state of the data: a report cached under one head
is exactly what recomputing it would give, until the next write moves the head. Entries are
also keyed by the actor, so nobody is ever shown a figure computed over another user's
releasable records.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.models import AuditEntry, AuditHead

T = TypeVar("T")
MAX_ENTRIES = 256


def data_version(session: Session) -> tuple[Any, ...]:
    """The audit chain's head (one row), or its newest entry where the head row is missing."""
    head = session.execute(select(AuditHead.entries, AuditHead.last_hash).limit(1)).first()
    if head is not None:
        return tuple(head)
    return (session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)),)


class ReportCache:
    """A small LRU of computed reports; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, session: Session, actor: Actor, key: Hashable, compute: Callable[[], T]) -> T:
        full_key = (key, actor, data_version(session))
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                self.hits += 1
                value: T = self._entries[full_key]
                return value
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[full_key] = value
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value
