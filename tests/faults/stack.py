"""The processes of a fault test, started as an operator starts them, and its batch of mail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from roundtable.config import get_settings
from roundtable.types import utcnow
from roundtable.workflows.sending import send_invitations
from tests.faults import measure
from tests.integration.pipeline import (
    ROOT,
    SLUG,
    create_invitees,
    kill_group,
    start_celery,
    start_worker,
    wait_for,
)
from tests.mail.smtp_server import SmtpSink

#: settings of every process of a fault test: a sweep every second, short leases
FAST = {"dispatch_interval": "1", "reannounce_after": "2", "claim_lease": "6"}


class Stack:
    """Worker and beat processes of one test, logging to one file, all stopped at the end."""

    def __init__(self, folder: Path, env: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.log = folder / "celery.log"
        self._env = env
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def configure(self, **settings: str) -> None:
        """Set ``ROUNDTABLE_*`` settings for this process and the ones started after."""
        for name, value in settings.items():
            self._env.setenv(f"ROUNDTABLE_{name.upper()}", value)
        get_settings.cache_clear()

    def worker(self, **overrides: str) -> subprocess.Popen[bytes]:
        """A worker (prefork, two processes); ``overrides`` are settings for it alone."""
        process = start_worker(self._environment(overrides), self.log)
        self._processes.append(("worker", process))
        return process

    def beat(self, name: str = "beat", **overrides: str) -> subprocess.Popen[bytes]:
        """``celery beat`` with a schedule file and a log of its own (``<name>.log``).

        It logs at INFO, one line per task it sends, so a test can tell that it ran.
        """
        process = start_celery(
            self._environment(overrides),
            self.folder / f"{name}.log",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(self.folder / f"{name}-schedule"),
        )
        self._processes.append((name, process))
        return process

    def dispatches_sent(self, name: str = "beat") -> int:
        """How many times the beat called ``name`` has sent the periodic dispatch."""
        log = self.folder / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return text.count("Sending due task dispatch-due")

    def check(self) -> None:
        """Fail at once, with the log, if a process died that should be running."""
        for name, process in self._processes:
            if process.poll() is not None:
                log = self.folder / f"{name}.log"
                text = (log if log.exists() else self.log).read_text(errors="replace")
                pytest.fail(f"{name} exited with {process.returncode}:\n{text}")

    def wait(self, condition: object, timeout: float, what: str) -> None:
        assert callable(condition)
        wait_for(condition, timeout, what, tick=self.check)

    def stop(self) -> None:
        for _, process in reversed(self._processes):
            kill_group(process)
        self._processes.clear()

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        extra = {f"ROUNDTABLE_{name.upper()}": value for name, value in overrides.items()}
        return {**os.environ, **extra, "PYTHONPATH": str(ROOT)}


def invite(count: int, **event_fields: Any) -> list[int]:
    """Invite ``count`` people (the doorbell rings the workers); the ids of their rows."""
    create_invitees(count, **event_fields)
    send_invitations(SLUG, now=utcnow())
    return [row.id for row in measure.rows(kinds=["invitation"]) if row.id is not None]


def wait_mid_batch(stack: Stack, sink: SmtpSink, received: int) -> int:
    """Until ``received`` messages have arrived and some are being sent: the moment to strike.

    Returns how many rows are in flight (claimed, not yet recorded) at that moment.
    """
    busy = 0

    def ready() -> bool:
        nonlocal busy
        busy = measure.in_flight() if len(sink.messages) >= received else 0
        return busy > 0

    stack.wait(ready, 60, f"the first {received} deliveries, with more in flight")
    return busy


def recipient_number(address: str) -> int:
    """``invitee0042@example.org`` → 42 (the invitees of ``create_invitees``)."""
    return int(address.removeprefix("invitee").split("@")[0])
