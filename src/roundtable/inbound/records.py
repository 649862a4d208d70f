"""What a read message means for our records: whom it is about, and what a bounce changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.inbound.dsn import Bounce
from roundtable.inbound.model import InboundMessage
from roundtable.invitations.model import Invitation, RepresentativeNaming
from roundtable.mail.model import Message, MessageStatus
from roundtable.people.model import Contact


def already_processed(session: Session, key: str, mailbox: str, uidvalidity: int, uid: int) -> bool:
    """Whether this message (by Message-ID, or by its IMAP position) was acted on before."""
    found = session.exec(
        select(InboundMessage.id).where(
            or_(
                col(InboundMessage.key) == key,
                (col(InboundMessage.mailbox) == mailbox)
                & (col(InboundMessage.uidvalidity) == uidvalidity)
                & (col(InboundMessage.uid) == uid),
            )
        )
    ).first()
    return found is not None


def event_by_uid(session: Session, uid: str) -> Event | None:
    return session.exec(select(Event).where(Event.uid == uid)).first()


def invitation_for_attendee(session: Session, event_id: int, address: str) -> Invitation | None:
    """The invitee at ``address`` on the event, or the one who named it as representative."""
    invitation = session.exec(
        select(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(Invitation.event_id == event_id, Contact.email == address)
    ).first()
    if invitation is not None:
        return invitation
    naming = session.exec(
        select(RepresentativeNaming)
        .join(Invitation, col(Invitation.id) == RepresentativeNaming.invitation_id)
        .where(Invitation.event_id == event_id, RepresentativeNaming.email == address)
    ).first()
    if naming is None:
        return None
    return session.get(Invitation, naming.representative_id or naming.invitation_id)


def messages_by_header(session: Session, message_ids: Sequence[str]) -> list[Message]:
    """Our outbox rows whose Message-ID is one of ``message_ids`` (with or without brackets)."""
    wanted = {value for mid in message_ids for value in (mid, mid.strip("<>"))}
    if not wanted:
        return []
    return list(session.exec(select(Message).where(col(Message.message_id).in_(wanted))).all())


def invitation_of_sender(
    session: Session, sender: str, answers: Sequence[str]
) -> Invitation | None:
    """The invitation a person's mail is about: the one it answers, else their latest."""
    for message in messages_by_header(session, answers):
        invitation = session.get(Invitation, message.invitation_id)
        if invitation is not None:
            return invitation
    if not sender:
        return None
    return session.exec(
        select(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(Contact.email == sender)
        .order_by(col(Invitation.id).desc())
    ).first()


def record_bounce(session: Session, message: Message, bounce: Bounce, now: datetime) -> None:
    """The message failed and its address bounced, with the server's words (a 5.x.x only)."""
    words = " ".join(part for part in (bounce.status, bounce.diagnostic) if part)[:1000]
    message.status = MessageStatus.FAILED
    message.last_response = f"bounced: {words}" if words else "bounced"
    message.updated_at = now
    session.add(message)
    invitation = session.get(Invitation, message.invitation_id)
    if invitation is None:
        return
    session.execute(
        update(Contact)
        .where(col(Contact.id) == invitation.contact_id)
        .values(bounced_at=now, bounce_reason=(words or "bounced")[:500], updated_at=now)
    )
