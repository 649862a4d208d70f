"""What staff do from the dashboard and the API, each in one transaction, permissions checked.

The dashboard's forms and the API's endpoints call the same functions here, so a
change made either way is checked and recorded the same way. The work itself is
the domain's (events, people, invitations, mail); this module adds who may do it
and the few rules that belong to staff only: creating an event grants it to the
organizer who made it; only a failed message can be sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from roundtable.db import write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.events.service import load_event
from roundtable.events.spec import EventSpec
from roundtable.invitations.attendance import mark_attended
from roundtable.invitations.model import Invitation
from roundtable.invitations.rsvp import Reply
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.staff.model import EventGrant
from roundtable.web.auth import AccessDenied, StaffMember, event_for
from roundtable.workflows.event_changes import EventFileOutcome, react_to_change
from roundtable.workflows.replies import ReplyResult, record_reply

#: how a resend's mailing key is told from the original's (``invitation#resend2``)
RESEND_MARK = "#resend"


class Conflict(Exception):
    """The request clashes with what is stored (an existing slug, a message not failed)."""


# --- events --------------------------------------------------------------------------------


def create_event(spec: EventSpec, member: StaffMember, *, now: datetime) -> EventFileOutcome:
    """Store a new event; an organizer who creates one is granted it. Never overwrites."""
    if not member.can_create_events:
        raise AccessDenied(403, f"your role ({member.role}) may not create events")
    try:
        with write_session() as session:
            if session.exec(select(Event.id).where(Event.slug == spec.slug)).first() is not None:
                raise Conflict(f"an event with slug {spec.slug!r} exists already")
            result = load_event(session, spec, now)
            event = result.event
            assert event.id is not None
            if member.role == "organizer":
                session.add(EventGrant(staff_id=member.id, event_id=event.id))
            return EventFileOutcome(
                slug=event.slug,
                created=True,
                changed_fields=(),
                sequence=event.sequence,
                updates_queued=0,
            )
    except IntegrityError:  # another request created the same slug at the same moment
        raise Conflict(f"an event with slug {spec.slug!r} exists already") from None


def update_event(
    slug: str, spec: EventSpec, member: StaffMember, *, now: datetime
) -> EventFileOutcome:
    """Apply a changed event description to the event ``slug``, as ``events load`` does."""
    if spec.slug != slug:
        raise InputError(
            [
                Problem(
                    f"the slug cannot change from {slug!r} to {spec.slug!r}: it is in every "
                    "link already sent",
                    source=spec.source,
                    field="slug",
                )
            ]
        )
    with write_session() as session:
        event_for(session, member, slug, manage=True)
        result = load_event(session, spec, now)
        updates = react_to_change(session, result, now)
        return EventFileOutcome(
            slug=result.event.slug,
            created=False,
            changed_fields=tuple(result.changed_fields),
            sequence=result.event.sequence,
            updates_queued=updates,
        )


# --- invitees ------------------------------------------------------------------------------


def reply_on_behalf(
    invitation_id: int,
    reply: Reply,
    member: StaffMember,
    *,
    reason: str,
    now: datetime,
    override_deadline: bool = False,
) -> ReplyResult:
    """Record a reply given to staff (by phone, by letter), logged with who and why."""
    reason = " ".join(reason.split())
    if not reason:
        raise InputError([Problem("say why you record this reply for the invitee", field="reason")])
    return record_reply(
        invitation_id,
        reply,
        actor=member.actor,
        now=now,
        reason=reason[:500],
        override_deadline=override_deadline,
    )


def check_in(event: Event, invitation_id: int, *, now: datetime) -> bool:
    """Mark one invitee of ``event`` as attended; ``False`` when they were already."""
    with write_session() as session:
        invitation = session.exec(
            select(Invitation)
            .where(Invitation.id == invitation_id, Invitation.event_id == event.id)
            .with_for_update()
        ).first()
        if invitation is None:
            raise AccessDenied(404, "no such invitee on this event's list")
        return mark_attended(session, invitation, now)


# --- mail ----------------------------------------------------------------------------------


def resend_failed_message(message_id: int, member: StaffMember, *, now: datetime) -> int:
    """Queue a new copy of a failed message; return the new row's id.

    The copy is a mailing of its own (``<mailing>#resend<n>``), so the failed row
    stays as the record of what happened, and the workers pick the new one up as
    any other. A copy already waiting to be sent is not doubled.
    """
    with write_session() as session:
        old = session.exec(
            select(Message).where(Message.id == message_id).with_for_update()
        ).first()
        if old is None or not member.can_read(old.event_id):
            raise AccessDenied(404, f"no message {message_id}")
        if not member.can_manage(old.event_id):
            raise AccessDenied(403, f"your role ({member.role}) may not send mail")
        if old.status != MessageStatus.FAILED:
            raise Conflict(f"only a failed message can be sent again; this one is {old.status}")
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
