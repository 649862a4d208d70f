"""The web process's bell: rings return at once, none is lost, and a failing broker is survived."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from roundtable.delivery.bell_thread import BellThread


class Recorder:
    """A bell that remembers each ring it was given, and can be told to fail."""

    def __init__(self, *, fail_first: int = 0, delay: float = 0.0) -> None:
        self.rings: list[list[int]] = []
        self.fail_first = fail_first
        self.delay = delay
        self.rung = threading.Event()

    def __call__(self, message_ids: Sequence[int]) -> None:
        time.sleep(self.delay)
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("broker unreachable")
        self.rings.append(list(message_ids))
        self.rung.set()

    @property
    def ids(self) -> list[int]:
        return [i for ring in self.rings for i in ring]


def test_rings_return_at_once_and_arrive_together() -> None:
    slow_broker = Recorder(delay=0.2)
    bell = BellThread(slow_broker, linger=0.05)
    started = time.perf_counter()
    for message_id in range(1, 11):
        bell([message_id])
    returned_after = time.perf_counter() - started
    bell.close()
    assert returned_after < 0.05, "a ring waited for the broker"
    assert sorted(slow_broker.ids) == list(range(1, 11))
    assert len(slow_broker.rings) < 10, "rings within the linger were not gathered"


def test_closing_rings_what_is_still_in_hand() -> None:
    broker = Recorder()
    bell = BellThread(broker, linger=10.0)  # it would wait long, but closing does not
    bell([7, 8])
    started = time.perf_counter()
    bell.close()
    assert time.perf_counter() - started < 2
    assert broker.ids == [7, 8]


def test_a_failing_broker_is_logged_and_later_rings_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Recorder(fail_first=1)
    bell = BellThread(broker, linger=0.0)
    bell([1])
    deadline = time.monotonic() + 5
    while broker.fail_first and time.monotonic() < deadline:
        time.sleep(0.01)
    bell([2])
    assert broker.rung.wait(5)
    bell.close()
    assert broker.ids == [2]
    assert "the sweep will pick them up" in caplog.text
