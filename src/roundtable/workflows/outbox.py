"""Staff actions on the outbox: sending a failed message again."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from roundtable.db import write_session
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.people.model import Contact
from roundtable.staff.permissions import StaffMember, message_for
from roundtable.workflows import Conflict

#: how a resend's mailing key is told from the original's (``invitation#resend2``)
RESEND_MARK = "#resend"


def resend_failed_message(member: StaffMember, message_id: int, *, now: datetime) -> int:
    """Queue a new copy of a failed message; return the new row's id.

    The copy is a mailing of its own (``<mailing>#resend<n>``), so the failed row
    stays as the record of what happened, and the workers pick the new one up as
    any other. A copy already waiting to be sent is not doubled.
    """
    with write_session() as session:
        old, _event = message_for(session, member, message_id, manage=True, lock=True)
        if old.status != MessageStatus.FAILED:
            raise Conflict(f"only a failed message can be sent again; this one is {old.status}")
        _refuse_bounced(session, old)
        base = old.mailing.split(RESEND_MARK, 1)[0]
        copies = session.exec(
            select(Message.status).where(
                Message.invitation_id == old.invitation_id,
                col(Message.mailing).startswith(base + RESEND_MARK, autoescape=True),
            )
        ).all()
        if any(status in (MessageStatus.QUEUED, MessageStatus.SENDING) for status in copies):
            raise Conflict("a copy of this message is already waiting to be sent")
        new_id = queue_message(
            session,
            OutgoingMessage(
                event_id=old.event_id,
                invitation_id=old.invitation_id,
                kind=old.kind,
                mailing=f"{base}{RESEND_MARK}{len(copies) + 1}",
                due_at=now,
                context=dict(old.context),
            ),
        )
        if new_id is None:
            raise Conflict("a copy of this message is already waiting to be sent")
        return new_id


def _refuse_bounced(session: Session, message: Message) -> None:
    """A copy to an address that bounced would be dropped at send time: say so now."""
    contact = session.exec(
        select(Contact)
        .join(Invitation, col(Invitation.contact_id) == col(Contact.id))
        .where(Invitation.id == message.invitation_id)
    ).first()
    if contact is not None and contact.bounced_at is not None:
        raise Conflict(
            f"the address {contact.email} bounced ({contact.bounce_reason or 'no reason given'}); "
            "correct the invitee's address, which sends the invitation again"
        )
