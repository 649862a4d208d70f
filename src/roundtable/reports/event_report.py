"""The staff report: SQL aggregates only, never a loop over invitations.

Its JSON is described in docs/interfaces.md, "Report".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import Message, MessageStatus
from roundtable.people.model import Organization
from roundtable.types import utcnow

NO_ORGANIZATION = "(no organization)"
#: the report's word for queued messages not due yet (not a state of the row: the time decides)
SCHEDULED = "scheduled"


@dataclass(frozen=True)
class EventReport:
    """The staff report; :meth:`as_dict` is its JSON (``report --json``, the API, the dashboard)."""

    event: str
    title: str
    starts_at: str
    event_status: str
    invitees: int
    #: invitations by status, every status present (``invited``: invited, not yet replied)
    status: dict[str, int]
    #: replies over invitations sent
    response_rate: float
    by_organization: dict[str, dict[str, int]]
    by_role: dict[str, dict[str, int]]
    #: messages of the event by state, every state present; ``scheduled``: queued and due
    #: later (reminders, the nudge); ``queued``: due now, waiting for a worker
    delivery: dict[str, int]
    attended: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON document, keys in the order of the fields.

        The counts are the report's own dictionaries, not copies: ``dataclasses.asdict``
        copied them deeply, which over 5,000 organizations took a third of the report.
        """
        return {field.name: getattr(self, field.name) for field in fields(self)}


def event_report(session: Session, slug: str, now: datetime | None = None) -> EventReport:
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

    # Grouped from the invitation's own copy of the organization (an index holds
    # it), one row per organization with a column per status, then named: the
    # organizations are a few thousand, the invitations many more.
    grouped = (
        sa_select(
            col(Invitation.organization_id).label("organization_id"),
            *(
                func.sum(case((col(Invitation.status) == status, 1), else_=0)).label(status)
                for status in Status.ALL
            ),
        )
        .where(col(Invitation.event_id) == event_id)
        .group_by(col(Invitation.organization_id))
        .subquery()
    )
    by_organization: dict[str, dict[str, int]] = {}
    for name, *counts in session.execute(
        sa_select(col(Organization.name), *(grouped.c[status] for status in Status.ALL))
        .select_from(grouped)
        .outerjoin(Organization, col(Organization.id) == grouped.c.organization_id)
    ).all():
        by_organization[name or NO_ORGANIZATION] = {
            status: int(count) for status, count in zip(Status.ALL, counts, strict=True) if count
        }

    # ``queued`` rows split by their time: due now (waiting for a worker) or later.
    # Grouped by status alone, in the order of an index that also holds ``due_at``.
    delivery = dict.fromkeys((SCHEDULED, *MessageStatus.ALL), 0)
    later = col(Message.due_at) > (now or utcnow())
    for status, count, later_count in session.execute(
        sa_select(col(Message.status), func.count(), func.count().filter(later))
        .where(col(Message.event_id) == event_id)
        .group_by(col(Message.status))
    ).all():
        if status == MessageStatus.QUEUED:
            delivery[SCHEDULED] += int(later_count)
            delivery[status] += int(count) - int(later_count)
        else:
            delivery[status] += int(count)

    return EventReport(
        event=event.slug,
        title=event.title,
        starts_at=event.starts_at.isoformat(),
        event_status=event.status,
        invitees=sum(status_counts.values()),
        status=status_counts,
        response_rate=round(replies / invited_count, 4) if invited_count else 0.0,
        by_organization=dict(sorted(by_organization.items())),
        by_role=dict(sorted(by_role.items())),
        delivery=delivery,
        attended=attended_count,
    )
