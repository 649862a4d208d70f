"""The in-process worker and scheduler, used when no broker is configured.

``roundtable serve`` and ``roundtable demo`` run this instead of Celery: a few
threads that take message ids from an in-memory queue and a scheduler thread
that runs the same dispatch as beat. This is safe for the same reason the
Celery set-up is: the database holds every message, the queue only rings.
If the process dies, the next start's first dispatch announces what was left.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence

from roundtable.delivery.deliver import Outcome, deliver_batch
from roundtable.delivery.dispatch import dispatch
from roundtable.delivery.transport_pool import close_transport, process_transport
from roundtable.mail import doorbell
from roundtable.types import utcnow

log = logging.getLogger(__name__)

#: ids one worker thread takes at once when several are waiting
BATCH = 10


class LocalRunner:
    """Worker threads and a scheduler thread inside this process."""

    def __init__(self, *, workers: int = 2, dispatch_interval: float = 30.0) -> None:
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._workers = workers
        self._interval = dispatch_interval
        self._timers: set[threading.Timer] = set()
        self._timers_lock = threading.Lock()

    def start(self) -> None:
        doorbell.install(self.ring)
        for number in range(self._workers):
            thread = threading.Thread(
                target=self._work, name=f"roundtable-worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        scheduler = threading.Thread(
            target=self._schedule, name="roundtable-scheduler", daemon=True
        )
        scheduler.start()
        self._threads.append(scheduler)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        doorbell.install(None)
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
        for _ in range(self._workers):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def ring(self, message_ids: Sequence[int]) -> None:
        for message_id in message_ids:
            self._queue.put(message_id)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until the queue is drained (for the demo and tests)."""
        done = threading.Event()

        def _join() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=_join, daemon=True).start()
        return done.wait(timeout)

    def _work(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                try:
                    ids = [message_id for message_id in batch if message_id is not None]
                    if ids:
                        self._deliver(ids)
                    if len(ids) < len(batch):
                        return
                finally:
                    for _ in batch:
                        self._queue.task_done()
        finally:
            close_transport()

    def _next_batch(self) -> list[int | None]:
        """The next id, and up to ``BATCH - 1`` more if they are waiting already."""
        batch = [self._queue.get()]
        while len(batch) < BATCH and batch[-1] is not None:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, message_ids: list[int]) -> None:
        try:
            results = deliver_batch(message_ids, process_transport())
        except Exception:
            log.exception(
                "delivery of %d message(s) failed; the sweep will retry them", len(message_ids)
            )
            close_transport()
            return
        for message_id, result in results.items():
            if result.outcome == Outcome.RETRY and result.retry_in is not None:
                self._ring_later(message_id, result.retry_in)

    def _ring_later(self, message_id: int, delay: float) -> None:
        timer = threading.Timer(delay, self._timer_fired, args=(message_id,))
        timer.daemon = True
        with self._timers_lock:
            self._timers.add(timer)
        timer.start()

    def _timer_fired(self, message_id: int) -> None:
        with self._timers_lock:
            self._timers = {t for t in self._timers if t.is_alive()}
        if not self._stop.is_set():
            self._queue.put(message_id)

    def _schedule(self) -> None:
        while not self._stop.is_set():
            try:
                dispatch(utcnow())
            except Exception:
                log.exception("dispatch failed; trying again in %s s", self._interval)
            self._stop.wait(self._interval)
