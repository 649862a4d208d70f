"""Cancelling an event: one cancellation to each invitee not declined, pending mail dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from roundtable.db import rows_changed, write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event, EventStatus
from roundtable.events.service import get_event
from roundtable.invitations.model import Status
from roundtable.mail.kinds import CancellationContext
from roundtable.mail.mailings import queue_mailing
from roundtable.mail.model import Message, MessageKind, MessageStatus

#: invitees who hold the event in their calendar, or may: they need the CANCEL
CANCEL_RECIPIENTS = (Status.INVITED, Status.ACCEPTED, Status.TENTATIVE, Status.WAITLISTED)


@dataclass(frozen=True)
class CancelResult:
    cancellations_queued: int
    messages_dropped: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "cancelled": True,
            "cancellations_queued": self.cancellations_queued,
            "messages_dropped": self.messages_dropped,
        }


def cancel_event(slug: str, *, now: datetime, note: str = "") -> CancelResult:
    """Mark the event cancelled, raise its SEQUENCE, drop pending mail, queue cancellations.

    ``note`` is the organizers' paragraph for the cancellation mail.
    """
    with write_session() as session:
        return cancel_event_in(session, get_event(session, slug), now=now, note=note)


def cancel_event_in(
    session: Session, event: Event, *, now: datetime, note: str = ""
) -> CancelResult:
    """:func:`cancel_event` inside the caller's transaction; ``note`` goes into every mail."""
    if event.is_cancelled:
        raise InputError([Problem(f"event {event.slug!r} is already cancelled", field="slug")])
    assert event.id is not None
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.sequence += 1
    event.updated_at = now
    session.add(event)
    dropped = rows_changed(
        session,
        update(Message)
        .where(
            col(Message.event_id) == event.id,
            col(Message.status) == MessageStatus.QUEUED,
        )
        .values(status=MessageStatus.DROPPED, last_response="event cancelled", updated_at=now),
    )
    queued = queue_mailing(
        session,
        event,
        statuses=CANCEL_RECIPIENTS,
        kind=MessageKind.CANCELLATION,
        mailing=f"cancellation:{event.sequence}",
        due_at=now,
        context=CancellationContext(event.sequence, note.strip()).to_json(),
    )
    return CancelResult(cancellations_queued=len(queued), messages_dropped=dropped)
