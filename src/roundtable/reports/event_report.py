"""The staff report (CONTRACT §7): SQL aggregates only, never a loop over invitations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
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

    # One pass over the event's invitations gives the counts by status, by role,
    # and how many were invited and attended.
    status_counts = dict.fromkeys(Status.ALL, 0)
    by_role: dict[str, dict[str, int]] = {}
    invited_count = attended_count = 0
    for role, status, count, invited, attended in session.execute(
        sa_select(
            col(Invitation.role),
            col(Invitation.status),
            func.count(),
            func.count(col(Invitation.invited_at)),
            func.count(col(Invitation.attended_at)),
        )
        .where(col(Invitation.event_id) == event_id)
        .group_by(col(Invitation.role), col(Invitation.status))
    ).all():
        status_counts[status] += int(count)
        by_role.setdefault(role, {})[status] = int(count)
        invited_count += int(invited)
        attended_count += int(attended)
    replies = sum(status_counts[s] for s in Status.REPLIED)

    # Group by the organization's id, then name the few thousand groups: cheaper
    # than carrying every name through the grouping.
    counts_by_organization: dict[int | None, dict[str, int]] = {}
    for organization_id, status, count in session.exec(
        select(Contact.organization_id, Invitation.status, func.count())
        .select_from(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(Invitation.event_id == event_id)
        .group_by(col(Contact.organization_id), Invitation.status)
    ).all():
        counts_by_organization.setdefault(organization_id, {})[status] = int(count)
    names = organization_names(session, [i for i in counts_by_organization if i is not None])
    by_organization = {
        names.get(organization_id, NO_ORGANIZATION) if organization_id else NO_ORGANIZATION: counts
        for organization_id, counts in counts_by_organization.items()
    }

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
        "attended": attended_count,
    }


def organization_names(session: Session, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        for organization_id, name in session.exec(
            select(Organization.id, Organization.name).where(
                col(Organization.id).in_(ids[start : start + 5000])
            )
        ).all():
            if organization_id is not None:
                names[organization_id] = name
    return names
