"""At the door: checking an invitee in from their QR code, by address, or by hand, and undoing it.

Checking in changes the event's record of who came, so it takes a member who may
change the event (an organizer of it, an administrator); a viewer may open a
check-in page but not act (docs/architecture.md, "At the door"). The QR code names
an invitation by a code derived from the secret key (see
:mod:`roundtable.invitations.checkin_codes`); the member's rights are checked on
the invitation's own event, in the transaction that acts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.errors import InputError, NotFound
from roundtable.events.model import Event
from roundtable.invitations.attendance import mark_attended, unmark_attended
from roundtable.invitations.checkin_codes import checkin_code, invitation_id_of
from roundtable.invitations.invitee_file import parse_invitee_bytes
from roundtable.invitations.invitee_import import import_invitees
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import derive_token, hash_token, new_salt
from roundtable.people.emails import normalise_email
from roundtable.reports import dashboard_queries as queries
from roundtable.staff.permissions import StaffMember, event_for, invitation_of


@dataclass(frozen=True)
class Arrival:
    """An invitee as the door sees them, and what the last action did."""

    event: Event
    invitee: queries.InviteeLine
    can_check_in: bool
    #: whether the action changed anything (``False``: already checked in, or not)
    changed: bool = False


def code_of(invitation_id: int) -> str:
    """The check-in code the invitee's QR code carries."""
    return checkin_code(get_settings().resolved_secret_key(), invitation_id)


def arrival(member: StaffMember, code: str) -> Arrival:
    """Who a scanned code names, if the member may see their event."""
    with read_session() as session:
        event, invitation = _by_code(session, member, code, manage=False)
        return _arrival(session, member, event, invitation, changed=False)


def check_in_by_code(
    member: StaffMember, code: str, *, now: datetime, undo: bool = False
) -> Arrival:
    """Check in (or undo the check-in of) the invitee a scanned code names."""
    with write_session() as session:
        event, invitation = _by_code(session, member, code, manage=True, lock=True)
        changed = (unmark_attended if undo else mark_attended)(session, invitation, now)
        session.flush()
        return _arrival(session, member, event, invitation, changed=changed)


def check_in_by_email(
    member: StaffMember, slug: str, email: str, *, now: datetime, undo: bool = False
) -> Arrival:
    """The API's way: the invitee of ``slug`` with this address."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        assert event.id is not None
        address = normalise_email(email)
        found = queries.invitation_by_email(session, event.id, address) if address else None
        if found is None or found.id is None:
            raise NotFound(f"{email!r} is not on this event's list")
        invitation = invitation_of(session, event, found.id, lock=True)
        changed = (unmark_attended if undo else mark_attended)(session, invitation, now)
        session.flush()
        return _arrival(session, member, event, invitation, changed=changed)


def undo_check_in(member: StaffMember, slug: str, invitation_id: int, *, now: datetime) -> bool:
    """Undo one invitee's check-in from the event's check-in page."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        invitation = invitation_of(session, event, invitation_id, lock=True)
        return unmark_attended(session, invitation, now)


#: the walk-in form's fields, as columns of the invitee file (same checks, same messages)
WALK_IN_FIELDS = ("email", "honorific", "name", "position", "organization")


def add_walk_in(
    member: StaffMember, slug: str, fields: Mapping[str, str], *, now: datetime
) -> Arrival:
    """Someone not on the list, let in at the door: put on it as accepted, and checked in.

    The form is checked as one row of the invitee file. A walk-in gets no mail (the
    event is under way) but a live link like anyone invited, so a later "Send
    invitations" never writes to them; an address already on the list is checked in.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(WALK_IN_FIELDS)
    writer.writerow([" ".join(fields.get(name, "").split()) for name in WALK_IN_FIELDS])
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        assert event.id is not None
        parsed = parse_invitee_bytes(out.getvalue().encode("utf-8"), "walk-in form")
        if parsed.problems:
            raise InputError(parsed.problems)
        import_invitees(session, event, parsed.rows, now=now)
        found = queries.invitation_by_email(session, event.id, parsed.rows[0].email)
        assert found is not None and found.id is not None
        invitation = invitation_of(session, event, found.id, lock=True)
        if invitation.status == Status.NOT_INVITED:
            salt = new_salt()
            secret = get_settings().resolved_secret_key()
            invitation.token_salt = salt
            invitation.token_hash = hash_token(derive_token(secret, invitation.id or 0, salt))
            invitation.status = Status.ACCEPTED
            invitation.responded_at = now
        changed = mark_attended(session, invitation, now)
        session.flush()
        return _arrival(session, member, event, invitation, changed=changed)


def _by_code(
    session: Session, member: StaffMember, code: str, *, manage: bool, lock: bool = False
) -> tuple[Event, Invitation]:
    invitation_id = invitation_id_of(get_settings().resolved_secret_key(), code)
    row = session.get(Invitation, invitation_id) if invitation_id is not None else None
    event = session.get(Event, row.event_id) if row is not None else None
    if row is None or event is None:
        raise NotFound("this check-in code names no invitee")
    # The member's rights on the invitation's own event decide; one it may not see is not found.
    event = event_for(session, member, event.slug, manage=manage)
    return event, invitation_of(session, event, row.id or 0, lock=lock)


def _arrival(
    session: Session, member: StaffMember, event: Event, invitation: Invitation, *, changed: bool
) -> Arrival:
    assert event.id is not None and invitation.id is not None
    history = queries.invitation_history(session, event.id, invitation.id)
    assert history is not None
    return Arrival(
        event=event,
        invitee=history.invitee,
        can_check_in=member.can_manage(event.id),
        changed=changed,
    )
