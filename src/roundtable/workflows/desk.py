"""The organizer's desk: writing to a group, the nudge now, cancelling: checked, then done.

Each action checks the member's right to manage the event inside the transaction
that acts (docs/architecture.md, "Layers"), so the dashboard, the API and the
command line share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlmodel import Session

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery.compose import MessageBundle, compose
from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import Event
from roundtable.events.service import agenda_of, get_live_event
from roundtable.installation.service import message_id_part
from roundtable.mail.group_messages import Audience, Draft, queue_group_message
from roundtable.mail.model import Message, MessageKind
from roundtable.mail.transports import DeliveryFailure, open_transport
from roundtable.people.model import Contact, Organization
from roundtable.schedule.nudges import NudgeResult, nudge_now
from roundtable.staff.permissions import StaffMember, event_for, invitation_of
from roundtable.workflows.cancel import CancelResult, cancel_event_in

#: who sent a message from the command line, in the history
OPERATOR = "command line"


@dataclass(frozen=True)
class MessageSent:
    id: int
    queued: int


def send_group_message(
    member: StaffMember, slug: str, draft: Draft, audience: Audience, *, now: datetime
) -> MessageSent:
    """Record the message and queue a copy to each recipient the audience names."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        if event.is_cancelled:
            raise InputError([Problem(f"event {slug!r} was cancelled", field="slug")])
        return _queued(session, event, draft, audience, sent_by=member.email, now=now)


def nudge_silent(member: StaffMember, slug: str, *, now: datetime) -> NudgeResult:
    """The nudge, now, to each delivered invitee who has not replied; once a day."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        return nudge_now(session, event, now)


def cancel(
    member: StaffMember, slug: str, *, note: str, now: datetime, confirm: str | None = None
) -> CancelResult:
    """Cancel the event, the organizers' note in every cancellation.

    ``confirm``, from the dashboard, must repeat the slug: cancelling cannot be undone.
    """
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        if confirm is not None and confirm != slug:
            problem = Problem(
                f"type the event's slug {slug!r} to confirm the cancellation", field="confirm"
            )
            raise InputError([problem])
        return cancel_event_in(session, event, now=now, note=note)


def send_group_message_as_operator(
    slug: str, draft: Draft, audience: Audience, *, now: datetime
) -> MessageSent:
    """The command line's version: the operator of the installation may write to any event."""
    with write_session() as session:
        event = get_live_event(session, slug)
        return _queued(session, event, draft, audience, sent_by=OPERATOR, now=now)


def _queued(
    session: Session, event: Event, draft: Draft, audience: Audience, *, sent_by: str, now: datetime
) -> MessageSent:
    record = queue_group_message(session, event, draft, audience, sent_by=sent_by, now=now)
    assert record.id is not None
    return MessageSent(id=record.id, queued=record.queued)


@dataclass(frozen=True)
class Preview:
    """One recipient's copy, as it would be written now."""

    recipient: str
    subject: str
    text: str


def preview_group_message(
    member: StaffMember, slug: str, draft: Draft, invitation_id: int, *, now: datetime
) -> Preview:
    """The copy ``invitation_id`` would get, composed as the worker composes it; nothing stored."""
    mail = _copy_for(member, slug, draft, invitation_id, now=now)
    body = mail.get_body(preferencelist=("plain",))
    return Preview(
        recipient=str(mail["To"]),
        subject=str(mail["Subject"]),
        text=str(body.get_content()) if body is not None else "",
    )


def send_test_to_me(
    member: StaffMember, slug: str, draft: Draft, invitation_id: int, *, now: datetime
) -> str:
    """Send the copy ``invitation_id`` would get to the member's own address; return it.

    A test goes to staff, not to an invitee, so it has no outbox row (the outbox
    holds one row per invitee and mailing): it is sent at once, marked as a test,
    and nothing is stored. Group messages carry no personal reply link.
    """
    mail = _copy_for(member, slug, draft, invitation_id, now=now)
    subject = str(mail["Subject"])
    del mail["To"], mail["Subject"]
    mail["To"] = member.email
    mail["Subject"] = f"[Test] {subject}"
    settings = get_settings()
    try:
        with open_transport(settings.mail_url) as transport:
            transport.send(mail)
    except DeliveryFailure as failure:
        problem = Problem(f"the test could not be sent: {failure}", field="test")
        raise InputError([problem]) from None
    return member.email


def _copy_for(
    member: StaffMember, slug: str, draft: Draft, invitation_id: int, *, now: datetime
) -> EmailMessage:
    """The message one recipient would get, composed as the worker composes it."""
    installation = message_id_part()
    with read_session() as session:
        event = event_for(session, member, slug, manage=True)
        invitation = invitation_of(session, event, invitation_id)
        contact = session.get(Contact, invitation.contact_id)
        if contact is None:
            raise NotFound("no such invitee on this event's list")
        organization = (
            session.get(Organization, invitation.organization_id)
            if invitation.organization_id
            else None
        )
        bundle = MessageBundle(
            message=Message(
                id=0,
                event_id=int(event.id or 0),
                invitation_id=invitation_id,
                kind=MessageKind.MESSAGE,
                mailing="preview",
                context=draft.as_context(),
            ),
            event=event,
            agenda=agenda_of(session, event),
            invitation=invitation,
            contact=contact,
            organization=organization.name if organization else None,
            checkin_used=False,
            installation=installation,
        )
        return compose(bundle, now)
