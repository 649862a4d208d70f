"""What the dashboard shows of the mailbox: per event, and what matched no event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from roundtable.inbound.model import InboundKind, InboundMessage, InboundState
from roundtable.invitations.model import Invitation

#: rows shown per list; the mailbox keeps every one
LIMIT = 100


@dataclass(frozen=True)
class MailLine:
    """One message read from the mailbox, with the invitee it is about."""

    id: int
    kind: str
    state: str
    sender: str
    subject: str
    summary: str
    received_at: datetime
    invitation_id: int | None
    invitee: str
    decided_by: str | None


@dataclass(frozen=True)
class EventMail:
    """An event's mail from the mailbox, by what staff do with it."""

    held: list[MailLine]
    replies: list[MailLine]
    bounces: list[MailLine]
    auto_replies: list[MailLine]
    people: list[MailLine]


def _lines(session: Session, *where: object) -> list[MailLine]:
    rows = session.exec(
        select(InboundMessage, Invitation)
        .join(Invitation, col(Invitation.id) == InboundMessage.invitation_id, isouter=True)
        .where(*where)  # type: ignore[arg-type]
        .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
        .limit(LIMIT)
    ).all()
    return [
        MailLine(
            id=row.id or 0,
            kind=row.kind,
            state=row.state,
            sender=row.sender,
            subject=row.subject,
            summary=row.summary,
            received_at=row.received_at,
            invitation_id=row.invitation_id,
            invitee=invitation.display_name if invitation is not None else "",
            decided_by=row.decided_by,
        )
        for row, invitation in rows
    ]


def held_replies(session: Session, event_id: int) -> list[MailLine]:
    """Calendar replies waiting for staff to apply or ignore them."""
    return _lines(
        session,
        col(InboundMessage.event_id) == event_id,
        col(InboundMessage.state) == InboundState.HELD,
    )


def event_mail(session: Session, event_id: int) -> EventMail:
    """Everything the mailbox said about one event."""
    lines = _lines(session, col(InboundMessage.event_id) == event_id)
    calendar = (InboundKind.CALENDAR_REPLY, InboundKind.COUNTER)
    return EventMail(
        held=[line for line in lines if line.state == InboundState.HELD],
        replies=[
            line for line in lines if line.kind in calendar and line.state != InboundState.HELD
        ],
        bounces=[line for line in lines if line.kind in (InboundKind.BOUNCE, InboundKind.DELAY)],
        auto_replies=[line for line in lines if line.kind == InboundKind.AUTO_REPLY],
        people=[line for line in lines if line.kind == InboundKind.HUMAN],
    )


def unplaced_mail(session: Session) -> list[MailLine]:
    """Messages that could not be read, or matched no event: for administrators to look at."""
    return _lines(
        session,
        col(InboundMessage.state).in_((InboundState.UNREADABLE, InboundState.UNMATCHED)),
    )


def invitee_mail(session: Session, invitation_id: int) -> list[MailLine]:
    """What came back from one invitee: answers, bounces, "out of office", their own words."""
    return _lines(session, col(InboundMessage.invitation_id) == invitation_id)
