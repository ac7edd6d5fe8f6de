"""Failed sign-ins are counted per user name and client, so a password cannot be guessed at
the speed of the network.

The counts live in the memory of one server process: enough for the embedded default and a
single API process; several processes behind a balancer each count on their own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from coalition.errors import TooManyAttempts

MAX_KEYS = 10_000


class LoginThrottle:
    """At most `limit` failures per key in a sliding `window` (seconds); a success clears the
    key. Thread-safe: the web server signs users in on a thread pool."""

    def __init__(self, *, limit: int = 5, window: float = 15 * 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, name: str, client: str) -> None:
        """Raises TooManyAttempts while the key has used up its failures."""
        with self._lock:
            failures = self._recent(self._key(name, client))
            if len(failures) < self.limit:
                return
            wait = math.ceil(failures[0] + self.window - self._clock())
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyAttempts(f"too many failed sign-ins for this user; try again in "
                              f"{minutes} minute{'s' if minutes > 1 else ''}",
                              retry_after=max(1, wait))

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                # Many names tried once each must not grow memory without end.
                for stale in list(self._failures):
                    self._recent(stale)
            key = self._key(name, client)
            self._failures[key] = self._recent(key)
            self._failures[key].append(self._clock())

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop(self._key(name, client), None)

    @staticmethod
    def _key(name: str, client: str) -> tuple[str, str]:
        return name.strip().casefold(), client

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures
