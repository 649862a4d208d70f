"""One invitee at a time: add, edit, correct the address, withdraw, read the reply history.

The API and the dashboard call these same functions, so both check the same
rights (``manage`` on the event, inside the transaction that acts) and the same
rules as the invitee file (docs/interfaces.md, "Invitee file").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import Event
from roundtable.invitations.invitee_file import COLUMNS as INVITEE_FILE_COLUMNS
from roundtable.invitations.invitee_file import InviteeRow, parse_invitee_bytes
from roundtable.invitations.invitee_import import (
    ImportResult,
    apply_row,
    import_invitees,
    organizations_named,
)
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.service import contact_for, log_change
from roundtable.invitations.tokens import derive_token
from roundtable.mail.kinds import CancellationContext
from roundtable.mail.model import MessageKind
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.people.emails import normalise_email
from roundtable.people.model import Contact, Organization
from roundtable.reports.dashboard_queries import invitation_by_email
from roundtable.staff.permissions import StaffMember, event_for, invitation_of
from roundtable.workflows.replies import promote_waiting
from roundtable.workflows.representatives import withdraw_representative

#: the detail fields an edit may give, as the invitee file names them
DETAIL_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "honorific",
    "position",
    "organization",
    "role",
    "language",
    "timezone",
)
#: statuses whose holder has the event in their calendar, or may: a withdrawal tells them
_LIVE = (Status.INVITED, Status.ACCEPTED, Status.TENTATIVE, Status.WAITLISTED)


@dataclass(frozen=True)
class EditResult:
    """What an edit did: details changed, the address moved, an invitation sent again."""

    email: str
    changed: bool
    address_changed: bool
    invitation_resent: bool


@dataclass(frozen=True)
class ReplyEntry:
    """One line of an invitee's reply history."""

    at: datetime
    actor: str
    from_status: str
    to_status: str
    guests: int
    notes: str
    reason: str


def add_invitee(
    member: StaffMember, slug: str, fields: Mapping[str, str | None], *, source: str, now: datetime
) -> ImportResult:
    """Put one invitee on the list, checked as a row of the invitee file."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        row = _checked_row(fields, source)
        return import_invitees(session, event, [row], now=now)


def edit_invitee(
    member: StaffMember,
    slug: str,
    email: str | int,
    fields: Mapping[str, str | None],
    *,
    source: str,
    now: datetime,
) -> EditResult:
    """Change one invitee's details and, with a new ``email``, their address.

    The bounce mark belongs to the old address (its contact) and stays there.
    An invitee still waiting for their invitation's answer is sent it again at
    the new address, with the same working link.
    """
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        invitation, contact = _invitee(session, event, email)
        merged = _current_fields(session, invitation)
        given = {name: value for name, value in fields.items() if value is not None}
        if {"name", "first_name", "last_name"} & given.keys():
            merged.update(name="", first_name="", last_name="")
        merged.update(given)
        merged["email"] = given.get("email") or contact.email
        row = _checked_row(merged, source)
        organizations = organizations_named(session, {row.organization})
        changed = apply_row(invitation, row, organizations, now)
        moved = row.email != contact.email
        resent = False
        if moved:
            resent = _move_address(session, event, invitation, row.email, now=now)
        return EditResult(row.email, changed or moved, moved, resent)


def withdraw_invitee(member: StaffMember, slug: str, email: str | int, *, now: datetime) -> bool:
    """Withdraw one invitation: status ``cancelled``, its link dead, a cancellation sent.

    ``False`` when it was already withdrawn. Someone never invited is withdrawn
    without mail; their link never existed. A representative they named stood in
    for them on this invitation, so that invitation is withdrawn with it. Each
    change is in the reply log, with the staff account.
    """
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        invitation, _contact = _invitee(session, event, email)
        if invitation.status == Status.CANCELLED:
            return False
        from_status = invitation.status
        invitation.status = Status.CANCELLED
        invitation.waitlisted_at = None
        invitation.updated_at = now
        session.add(invitation)
        session.flush()
        changed = [(invitation, from_status)]
        if invitation.represented_by_id is not None:
            changed += [
                (gone.invitation, gone.from_status)
                for gone in withdraw_representative(
                    session, invitation, invitation.represented_by_id, now=now
                )
            ]
        for withdrawn, was in changed:
            _tell_withdrawn(session, event, withdrawn, was, member=member, now=now)
        if any(was == Status.ACCEPTED for _, was in changed):
            promote_waiting(session, event, now=now)
        return True


def _tell_withdrawn(
    session: Session,
    event: Event,
    invitation: Invitation,
    from_status: str,
    *,
    member: StaffMember,
    now: datetime,
) -> None:
    """Log the withdrawal and, to someone who holds the event or may, send the CANCEL."""
    assert event.id is not None and invitation.id is not None
    log_change(
        session,
        invitation,
        from_status=from_status,
        actor=member.actor,
        reason="invitation withdrawn by the organizers",
        now=now,
        by_invitee=False,
    )
    if from_status not in _LIVE:
        return
    queue_message(
        session,
        OutgoingMessage(
            event_id=event.id,
            invitation_id=invitation.id,
            kind=MessageKind.CANCELLATION,
            mailing=f"withdrawn:{now.isoformat()}",
            due_at=now,
            context=CancellationContext(event.sequence, withdrawn=True).to_json(),
        ),
    )


def rsvp_link(member: StaffMember, slug: str, invitation_id: int) -> str | None:
    """The invitee's RSVP link, for organizers and admins of the event; ``None`` before it exists.

    The link is the invitee's credential: only those who may change the event see it.
    """
    with read_session() as session:
        event = event_for(session, member, slug, manage=True)
        invitation, _contact = _invitee(session, event, invitation_id)
        if invitation.id is None or not invitation.token_salt:
            return None
        if invitation.status in (Status.NOT_INVITED, Status.CANCELLED):
            return None
        settings = get_settings()
        token = derive_token(settings.resolved_secret_key(), invitation.id, invitation.token_salt)
        return f"{settings.public_base_url}/rsvp/{token}"


def reply_history(member: StaffMember, slug: str, email: str) -> list[ReplyEntry]:
    """Every change of the invitee's reply, oldest first, with who made it and why."""
    with read_session() as session:
        event = event_for(session, member, slug)
        invitation, _contact = _invitee(session, event, email)
        logs = session.exec(
            select(ReplyLog)
            .where(ReplyLog.invitation_id == invitation.id)
            .order_by(col(ReplyLog.at), col(ReplyLog.id))
        ).all()
        return [
            ReplyEntry(
                log.at, log.actor, log.from_status, log.to_status, log.guests, log.notes, log.reason
            )
            for log in logs
        ]


def _invitee(session: Session, event: Event, who: str | int) -> tuple[Invitation, Contact]:
    """The invitee by address (the API) or by invitation id (the dashboard), of this event only."""
    assert event.id is not None
    if isinstance(who, int):
        invitation: Invitation | None = invitation_of(session, event, who)
    else:
        address = normalise_email(who)
        invitation = invitation_by_email(session, event.id, address) if address else None
    if invitation is None:
        raise NotFound(f"{who!r} is not on this event's list")
    contact = session.get(Contact, invitation.contact_id)
    assert contact is not None
    return invitation, contact


def _current_fields(session: Session, invitation: Invitation) -> dict[str, str | None]:
    """The invitee's details as a row of the invitee file would give them."""
    organization = (
        session.get(Organization, invitation.organization_id)
        if invitation.organization_id is not None
        else None
    )
    named = bool(invitation.first_name or invitation.last_name)
    return {
        "name": "" if named else invitation.full_name,
        "first_name": invitation.first_name,
        "last_name": invitation.last_name,
        "honorific": invitation.honorific,
        "position": invitation.position,
        "organization": organization.name if organization else "",
        "role": invitation.role,
        "language": invitation.language,
        "timezone": invitation.timezone or "",
    }


def _checked_row(fields: Mapping[str, str | None], source: str) -> InviteeRow:
    """The fields as one row of an invitee file, checked by the file's own rules."""
    columns = [name for name in INVITEE_FILE_COLUMNS if fields.get(name)] or ["email", "name"]
    if "email" not in columns:
        columns.insert(0, "email")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow([fields.get(name) or "" for name in columns])
    parsed = parse_invitee_bytes(out.getvalue().encode("utf-8", errors="surrogatepass"), source)
    if parsed.problems or len(parsed.rows) != 1:
        problems = parsed.problems or [Problem("give one invitee", source=source)]
        raise InputError([Problem(p.message, source=source, field=p.field) for p in problems])
    return parsed.rows[0]


def _move_address(
    session: Session, event: Event, invitation: Invitation, email: str, *, now: datetime
) -> bool:
    """Point the invitation at ``email``; send the invitation again if it awaits a reply."""
    assert event.id is not None and invitation.id is not None
    contact = contact_for(session, email, now=now)
    if invitation_by_email(session, event.id, email) is not None:
        raise InputError([Problem(f"{email} is already on this event's list", field="email")])
    invitation.contact_id = contact.id  # type: ignore[assignment]
    invitation.updated_at = now
    session.add(invitation)
    session.flush()
    if invitation.status != Status.INVITED:
        return False
    return (
        queue_message(
            session,
            OutgoingMessage(
                event_id=event.id,
                invitation_id=invitation.id,
                kind=MessageKind.INVITATION,
                mailing=f"invitation:{event.sequence}:to:{contact.id}",
                due_at=now,
            ),
        )
        is not None
    )
