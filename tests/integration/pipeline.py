"""Helpers for the whole-stack tests: invitees in bulk, waiting, reading the outbox."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select

from roundtable.db import read_session, write_session
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.people.model import Contact
from roundtable.types import utcnow

SLUG = "inter-ethnic-city"


def create_invitees(
    count: int,
    *,
    slug: str = SLUG,
    starts_in: timedelta = timedelta(days=30),
    **event_fields: Any,
) -> None:
    """An event and ``count`` invitees not yet invited, written directly.

    ``event_fields`` set more of the event (``reminder_offsets``, ``rsvp_deadline``, …).
    """
    start = (utcnow() + starts_in).replace(microsecond=0)
    with write_session() as session:
        event = Event(
            slug=slug,
            uid=f"{slug}@roundtable.test",
            title="The Inter-Ethnic City",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="America/New_York",
            venue="United Nations Headquarters",
            room="Conference Room 6",
            address="405 East 42nd Street, New York",
            organizer_name="IOM New York",
            organizer_email="events@iom.example.org",
            contact_name="Maria Rossi",
            contact_email="mrossi@iom.example.org",
            **event_fields,
        )
        session.add(event)
        contacts = [Contact(email=f"invitee{n:04d}@example.org") for n in range(count)]
        session.add_all(contacts)
        session.flush()
        session.add_all(
            Invitation(
                event_id=event.id,
                contact_id=c.id,
                first_name="Invitee",
                last_name=f"N{n:04d}",
                full_name=f"Invitee N{n:04d}",
                honorific="Ms.",
            )
            for n, c in enumerate(contacts)
        )


def outbox_states() -> Counter[str]:
    with read_session() as session:
        rows = session.exec(select(Message.status, func.count()).group_by(Message.status)).all()
    return Counter({status: int(n) for status, n in rows})


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    tick: Callable[[], object] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if tick:
            tick()
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


ROOT = Path(__file__).resolve().parents[2]


def start_celery(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``celery -A workers …`` as an operator starts it, in a process group of its own."""
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [str(celery), "-A", "workers", *args],
        cwd=ROOT,
        # This checkout's library and workers, whichever checkout the environment installed.
        env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return start_celery(
        env,
        log,
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    )


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=20)


#: where the whole-stack tests' events take place
VENUE_ZONE = ZoneInfo("America/New_York")


def venue_clock(instant: datetime) -> str:
    """The instant as an event file writes it: wall-clock time at the venue."""
    return instant.astimezone(VENUE_ZONE).strftime("%Y-%m-%dT%H:%M:%S")
