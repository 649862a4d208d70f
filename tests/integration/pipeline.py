"""Helpers for the whole-stack tests: invitees in bulk, waiting, reading the outbox."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

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
    count: int, *, slug: str = SLUG, starts_in: timedelta = timedelta(days=30)
) -> None:
    """An event and ``count`` invitees not yet invited, written directly."""
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
        )
        session.add(event)
        contacts = [
            Contact(
                email=f"invitee{n:04d}@example.org",
                first_name="Invitee",
                last_name=f"N{n:04d}",
                full_name=f"Invitee N{n:04d}",
                honorific="Ms.",
            )
            for n in range(count)
        ]
        session.add_all(contacts)
        session.flush()
        session.add_all(Invitation(event_id=event.id, contact_id=c.id) for c in contacts)


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
