"""Staff actions on one invitee: a reply given to staff, a check-in at the door."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from roundtable.db import write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.invitations.attendance import mark_attended
from roundtable.invitations.rsvp import reply_from_form
from roundtable.people.emails import normalise_email
from roundtable.reports.dashboard_queries import invitation_by_email
from roundtable.staff.permissions import StaffMember, event_for, invitation_of
from roundtable.workflows.replies import ReplyResult, record_reply_in


def reply_on_behalf(
    member: StaffMember,
    slug: str,
    invitation_id: int,
    fields: Mapping[str, str],
    *,
    reason: str,
    now: datetime,
    override_deadline: bool = False,
) -> ReplyResult:
    """Record a reply given to staff (by phone, by letter), logged with who and why.

    ``fields`` are the reply form's (``response``, ``guests``, ``notes``): they are
    read once the member may change the event and the invitee is one of its.
    """
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        invitation = invitation_of(session, event, invitation_id)
        assert invitation.id is not None
        return _record(
            session, event, invitation.id, fields, member, reason, now, override_deadline
        )


def reply_on_behalf_by_email(
    member: StaffMember,
    slug: str,
    email: str,
    fields: Mapping[str, str],
    *,
    reason: str,
    now: datetime,
    source: str,
    override_deadline: bool = False,
) -> ReplyResult:
    """:func:`reply_on_behalf` for the invitee of ``slug`` with this address (the API's way)."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        assert event.id is not None
        address = normalise_email(email)
        invitation = invitation_by_email(session, event.id, address) if address else None
        if invitation is None or invitation.id is None:
            raise InputError(
                [Problem(f"{email!r} is not on this event's list", source=source, field="email")]
            )
        return _record(
            session, event, invitation.id, fields, member, reason, now, override_deadline
        )


def _record(
    session: Session,
    event: Event,
    invitation_id: int,
    fields: Mapping[str, str],
    member: StaffMember,
    reason: str,
    now: datetime,
    override_deadline: bool,
) -> ReplyResult:
    reply = reply_from_form(fields, max_guests=event.max_guests)
    reason = " ".join(reason.split())
    if not reason:
        raise InputError([Problem("say why you record this reply for the invitee", field="reason")])
    return record_reply_in(
        session,
        invitation_id,
        reply,
        actor=member.actor,
        now=now,
        reason=reason[:500],
        override_deadline=override_deadline,
    )


def check_in(member: StaffMember, slug: str, invitation_id: int, *, now: datetime) -> bool:
    """Mark one invitee of ``slug`` as attended; ``False`` when they were already."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        invitation = invitation_of(session, event, invitation_id, lock=True)
        return mark_attended(session, invitation, now)
