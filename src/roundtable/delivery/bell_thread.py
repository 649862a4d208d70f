"""Ringing from a thread of its own: a web reply returns after its commit, not after the broker.

Each reply queues a confirmation, and ringing for it means a round trip to the
broker (a Celery publish costs milliseconds of CPU). In the web process the rings
are handed to one thread instead, which gathers those that arrive within a few
milliseconds of each other and announces them together. Nothing is at stake if
the process dies with rings still in hand: the rows are committed, and the sweep
announces again what nobody took (docs/architecture.md, "Outbox and delivery").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from roundtable.mail.doorbell import Bell

log = logging.getLogger(__name__)


class BellThread:
    """A bell that returns at once; a daemon thread rings ``bell`` with what it gathered.

    ``linger`` is how long the thread waits after the first ring for others to join
    it: long enough to share a publish under load, short enough not to be noticed.
    """

    def __init__(self, bell: Bell, *, linger: float = 0.01) -> None:
        self._bell = bell
        self._linger = linger
        self._pending: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="roundtable-bell", daemon=True)
        self._thread.start()

    def __call__(self, message_ids: Sequence[int]) -> None:
        with self._lock:
            self._pending.extend(message_ids)
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Ring what is still in hand, then stop the thread."""
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.wait()
            # A short pause for other rings to join this one, cut short by closing.
            self._closing.wait(self._linger)
            self._wake.clear()
            self._ring_pending()
        self._ring_pending()

    def _ring_pending(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._ring(batch)

    def _ring(self, batch: list[int]) -> None:
        try:
            self._bell(batch)
        except Exception:  # the sweep is the safety net; the thread must live on
            log.warning(
                "could not announce %d message(s); the sweep will pick them up",
                len(batch),
                exc_info=True,
            )
