"""The web process's bell: rings return at once, none is lost, and a failing broker is survived.

No test here measures time: a broker that is held on a gate shows whether a ring
waited for it, and events show when the thread has done something.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from roundtable.delivery.bell_thread import BellThread

#: how long a test waits for something that should happen at once, before calling it lost
PATIENCE = 10.0


class Recorder:
    """A broker that remembers each ring, can be held on a gate, and can be told to fail."""

    def __init__(self, *, fail_first: int = 0, held: bool = False) -> None:
        self.rings: list[list[int]] = []
        self.fail_first = fail_first
        self.gate = threading.Event()
        if not held:
            self.gate.set()
        self.entered = threading.Event()
        self.failed = threading.Event()
        self.rung = threading.Event()

    def __call__(self, message_ids: Sequence[int]) -> None:
        self.entered.set()
        assert self.gate.wait(PATIENCE), "the test never opened the gate"
        if self.fail_first:
            self.fail_first -= 1
            self.failed.set()
            raise ConnectionError("broker unreachable")
        self.rings.append(list(message_ids))
        self.rung.set()

    @property
    def ids(self) -> list[int]:
        return [i for ring in self.rings for i in ring]


def test_rings_return_while_the_broker_is_busy_and_arrive_together() -> None:
    broker = Recorder(held=True)
    bell = BellThread(broker, linger=0.0)
    bell([1])
    assert broker.entered.wait(PATIENCE), "the first ring never reached the broker"
    # The broker is stuck on the first ring; nine more must still return to their callers.
    ringing = threading.Thread(target=lambda: [bell([i]) for i in range(2, 11)])
    ringing.start()
    ringing.join(PATIENCE)
    assert not ringing.is_alive(), "a ring waited for the broker"
    broker.gate.set()
    bell.close()
    assert sorted(broker.ids) == list(range(1, 11))
    assert len(broker.rings) == 2, "the rings made while the broker was busy went one by one"


def test_closing_rings_what_is_still_in_hand_without_waiting_out_the_linger() -> None:
    broker = Recorder()
    bell = BellThread(broker, linger=3600.0)  # it would wait an hour, but closing does not
    bell([7, 8])
    bell.close(timeout=PATIENCE)
    assert broker.ids == [7, 8]
    assert not bell._thread.is_alive(), "closing waited for the linger"


def test_a_failing_broker_is_logged_and_later_rings_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Recorder(fail_first=1)
    bell = BellThread(broker, linger=0.0)
    bell([1])
    assert broker.failed.wait(PATIENCE)
    bell([2])
    assert broker.rung.wait(PATIENCE)
    bell.close()
    assert broker.ids == [2]
    assert "the sweep will pick them up" in caplog.text
