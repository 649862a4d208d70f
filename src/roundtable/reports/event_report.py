"""The staff report (CONTRACT §7): SQL aggregates only, never a loop over invitations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import Message, MessageStatus
from roundtable.people.model import Contact, Organization

NO_ORGANIZATION = "(no organization)"


def event_report(session: Session, slug: str) -> dict[str, Any]:
    """Counts by reply status, organization and role, delivery states and attendance."""
    event = session.exec(select(Event).where(Event.slug == slug)).first()
    if event is None:
        raise NotFound(f"no event with slug {slug!r}")
    event_id = event.id

    status_counts = dict.fromkeys(Status.ALL, 0)
    for status, count in session.exec(
        select(Invitation.status, func.count())
        .where(Invitation.event_id == event_id)
        .group_by(Invitation.status)
    ).all():
        status_counts[status] = int(count)

    invited_count, attended_count = session.exec(
        select(
            func.count(col(Invitation.invited_at)),
            func.count(col(Invitation.attended_at)),
        ).where(Invitation.event_id == event_id)
    ).one()
    replies = sum(status_counts[s] for s in Status.REPLIED)

    by_organization: dict[str, dict[str, int]] = {}
    for name, status, count in session.exec(
        select(Organization.name, Invitation.status, func.count())
        .select_from(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .outerjoin(Organization, col(Organization.id) == Contact.organization_id)
        .where(Invitation.event_id == event_id)
        .group_by(Organization.name, Invitation.status)
    ).all():
        by_organization.setdefault(name or NO_ORGANIZATION, {})[status] = int(count)

    by_role: dict[str, dict[str, int]] = {}
    for role, status, count in session.exec(
        select(Invitation.role, Invitation.status, func.count())
        .where(Invitation.event_id == event_id)
        .group_by(Invitation.role, Invitation.status)
    ).all():
        by_role.setdefault(role, {})[status] = int(count)

    delivery = dict.fromkeys(MessageStatus.ALL, 0)
    for status, count in session.exec(
        select(Message.status, func.count())
        .where(Message.event_id == event_id)
        .group_by(Message.status)
    ).all():
        delivery[status] = int(count)

    return {
        "event": event.slug,
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "event_status": event.status,
        "invitees": sum(status_counts.values()),
        "status": status_counts,
        "response_rate": round(replies / invited_count, 4) if invited_count else 0.0,
        "by_organization": dict(sorted(by_organization.items())),
        "by_role": dict(sorted(by_role.items())),
        "delivery": delivery,
        "attended": int(attended_count),
    }
