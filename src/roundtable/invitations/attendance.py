"""Check-in: who actually came, for the report and the follow-up mailing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from roundtable.db import write_session
from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.people.emails import normalise_email
from roundtable.people.model import Contact


def check_in(slug: str, email: str, *, now: datetime) -> bool:
    """Mark the invitee as attended; ``False`` when they were checked in already."""
    address = normalise_email(email) or email.strip().lower()
    with write_session() as session:
        row = session.exec(
            select(Invitation)
            .join(Event, Event.id == Invitation.event_id)  # type: ignore[arg-type]
            .join(Contact, Contact.id == Invitation.contact_id)  # type: ignore[arg-type]
            .where(Event.slug == slug, Contact.email == address)
        ).first()
        if row is None:
            if session.exec(select(Event).where(Event.slug == slug)).first() is None:
                raise NotFound(f"no event with slug {slug!r}")
            raise NotFound(f"{address} is not on the list of {slug!r}")
        return mark_attended(session, row, now)


def mark_attended(session: Session, invitation: Invitation, now: datetime) -> bool:
    """Record the attendance in the caller's transaction; ``False`` when it was already."""
    if invitation.attended_at is not None:
        return False
    invitation.attended_at = now
    invitation.updated_at = now
    session.add(invitation)
    return True


def unmark_attended(session: Session, invitation: Invitation, now: datetime) -> bool:
    """Undo a check-in made by mistake; ``False`` when there was none to undo."""
    if invitation.attended_at is None:
        return False
    invitation.attended_at = None
    invitation.updated_at = now
    session.add(invitation)
    return True


def door_counts(session: Session, event_id: int) -> tuple[int, int]:
    """(checked in, expected): who came, and who holds a place (accepted)."""
    attended = session.exec(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.event_id == event_id, col(Invitation.attended_at).is_not(None))
    ).one()
    expected = session.exec(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.event_id == event_id, Invitation.status == Status.ACCEPTED)
    ).one()
    return int(attended), int(expected)
