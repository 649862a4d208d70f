"""Keeping the outbox's scheduled rows in line with the event's rules and times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.kinds import SequenceContext
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import queue_for_invitations
from roundtable.schedule.nudges import NUDGE_NOW
from roundtable.schedule.rules import SCHEDULED_KINDS, future_mailings

#: invitations that scheduled mail may concern (who actually gets it is decided at send time)
SCHEDULABLE = (Status.INVITED, Status.ACCEPTED, Status.TENTATIVE, Status.WAITLISTED)


def schedule_for(
    session: Session, event: Event, invitation_ids: Sequence[int], now: datetime
) -> int:
    """Create the future reminder and nudge rows for these invitations; return how many."""
    assert event.id is not None
    return sum(
        len(
            queue_for_invitations(
                session,
                invitation_ids,
                event_id=event.id,
                kind=mailing.kind,
                mailing=mailing.key,
                due_at=mailing.due_at,
                context=SequenceContext(event.sequence).to_json(),
            )
        )
        for mailing in future_mailings(event, now)
    )


def resync_schedule(session: Session, event: Event, now: datetime) -> int:
    """After the event moved or its rules changed: drop what no longer applies, add the rest.

    Pending rows of mailings that no longer exist (an earlier time, a removed
    reminder) are dropped; the nudge follows the deadline; new mailings get rows
    for everyone they may concern. Idempotent.
    """
    assert event.id is not None
    mailings = future_mailings(event, now)
    keys = [mailing.key for mailing in mailings]
    session.execute(
        update(Message)
        .where(
            col(Message.event_id) == event.id,
            col(Message.kind).in_(SCHEDULED_KINDS),
            col(Message.status) == MessageStatus.QUEUED,
            col(Message.mailing).not_in(keys),
            # a nudge the organizers asked for by hand follows no rule
            col(Message.mailing).not_like(f"{NUDGE_NOW}%"),
        )
        .values(status=MessageStatus.DROPPED, last_response="rescheduled", updated_at=now)
    )
    for mailing in mailings:
        session.execute(
            update(Message)
            .where(
                col(Message.event_id) == event.id,
                col(Message.mailing) == mailing.key,
                col(Message.status) == MessageStatus.QUEUED,
            )
            .values(due_at=mailing.due_at, enqueued_at=None, updated_at=now)
        )
    invitation_ids = [
        int(i)
        for i in session.exec(
            select(Invitation.id).where(
                Invitation.event_id == event.id, col(Invitation.status).in_(SCHEDULABLE)
            )
        ).all()
        if i is not None
    ]
    return schedule_for(session, event, invitation_ids, now)
