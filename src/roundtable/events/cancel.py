"""Cancelling an event: one cancellation to each invitee not declined, pending mail dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from roundtable.db import rows_changed, write_session
from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import Event, EventStatus
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_messages

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


def cancel_event(slug: str, *, now: datetime) -> CancelResult:
    """Mark the event cancelled, raise its SEQUENCE, drop pending mail, queue cancellations."""
    with write_session() as session:
        event = session.exec(select(Event).where(Event.slug == slug)).first()
        if event is None:
            raise NotFound(f"no event with slug {slug!r}")
        if event.is_cancelled:
            raise InputError([Problem(f"event {slug!r} is already cancelled", field="slug")])
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
        recipients = session.exec(
            select(Invitation.id).where(
                Invitation.event_id == event.id, col(Invitation.status).in_(CANCEL_RECIPIENTS)
            )
        ).all()
        queued = queue_messages(
            session,
            [
                OutgoingMessage(
                    event_id=event.id,
                    invitation_id=int(invitation_id),
                    kind="cancellation",
                    mailing=f"cancellation:{event.sequence}",
                    due_at=now,
                    context={"sequence": event.sequence},
                )
                for invitation_id in recipients
                if invitation_id is not None
            ],
        )
        return CancelResult(cancellations_queued=len(queued), messages_dropped=dropped)
