"""The sign-in throttle: a sliding window of failures per user name and client."""

from __future__ import annotations

import pytest

from coalition.access import throttle
from coalition.access.throttle import LoginThrottle
from coalition.errors import TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_attempt_waits_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    gate = LoginThrottle(limit=5, window=600, clock=clock)
    for _ in range(5):
        gate.check("pol", "10.0.0.1")
        gate.failed("pol", "10.0.0.1")
        clock.now += 10
    with pytest.raises(TooManyAttempts, match="try again in 10 minutes") as raised:
        gate.check("Pol", "10.0.0.1")
    assert raised.value.retry_after == 550
    gate.check("pol", "10.0.0.2")  # another client is not locked out by this one
    clock.now += 551
    gate.check("pol", "10.0.0.1")


def test_a_success_forgets_earlier_failures() -> None:
    gate = LoginThrottle(limit=2, window=600, clock=Clock())
    gate.failed("pol", "c")
    gate.succeeded("pol", "c")
    gate.failed("pol", "c")
    gate.check("pol", "c")


def test_names_tried_once_each_do_not_grow_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "MAX_KEYS", 100)
    clock = Clock()
    gate = LoginThrottle(limit=5, window=60, clock=clock)
    for i in range(100):
        gate.failed(f"user{i}", "c")
    clock.now += 61
    gate.failed("late", "c")
    assert len(gate._failures) == 1
