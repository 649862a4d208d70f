"""The nudge, now: to every invitee whose invitation was delivered and who has not replied.

The scheduled nudge goes out before the RSVP deadline by the event's rule
(``schedule/rules.py``); this one is asked for by the organizers. Its mailing key
carries the day (UTC), so asking twice on one day queues nothing the second time;
an invitee the scheduled nudge reached today (or is about to) is left out too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.kinds import SequenceContext
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.mail.outbox import queue_for_invitations

#: what a nudge asked for by hand is called in the outbox: ``nudge-now:2027-09-20``
NUDGE_NOW = "nudge-now:"


@dataclass(frozen=True)
class NudgeResult:
    queued: int
    #: why nothing was queued (empty when something was)
    reason: str = ""


def nudge_now(session: Session, event: Event, now: datetime) -> NudgeResult:
    """Queue today's nudge to the silent ones; say why when there is nobody to nudge."""
    assert event.id is not None
    if event.is_cancelled:
        return NudgeResult(0, "the event was cancelled")
    silent = [
        int(i)
        for i in session.exec(
            select(Invitation.id)
            .where(Invitation.event_id == event.id, Invitation.status == Status.INVITED)
            .where(
                col(Invitation.id).in_(
                    select(Message.invitation_id).where(
                        Message.event_id == event.id,
                        Message.kind == MessageKind.INVITATION,
                        Message.status == MessageStatus.SENT,
                    )
                )
            )
            .order_by(col(Invitation.id))
        ).all()
        if i is not None
    ]
    if not silent:
        return NudgeResult(0, "no invitee with a delivered invitation is waiting to reply")
    reminded = _reminded_today(session, event, now)
    due = [invitation_id for invitation_id in silent if invitation_id not in reminded]
    queued = queue_for_invitations(
        session,
        due,
        event_id=event.id,
        kind=MessageKind.NUDGE,
        mailing=f"{NUDGE_NOW}{now.date().isoformat()}",
        due_at=now,
        context=SequenceContext(event.sequence).to_json(),
    )
    if not queued:
        return NudgeResult(0, "everyone who has not replied was already reminded today (UTC)")
    return NudgeResult(len(queued))


def _reminded_today(session: Session, event: Event, now: datetime) -> set[int]:
    """Invitations a nudge reached today (UTC), or is on its way to now: the scheduled one too."""
    day = datetime.combine(now.date(), time(), tzinfo=UTC)
    rows = session.exec(
        select(Message.invitation_id).where(
            Message.event_id == event.id,
            Message.kind == MessageKind.NUDGE,
            or_(
                and_(col(Message.status) == MessageStatus.SENT, col(Message.sent_at) >= day),
                and_(
                    col(Message.status).in_((MessageStatus.QUEUED, MessageStatus.SENDING)),
                    col(Message.due_at) <= now,
                ),
            ),
        )
    ).all()
    return {int(i) for i in rows}
