"""The staff report: the counts the database keeps, never a loop over invitations.

Its JSON is described in docs/interfaces.md, "Report".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from itertools import compress
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations import tally as invitation_tallies
from roundtable.invitations.model import Status
from roundtable.mail import tally as message_tallies
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


# The report's statements, built once (a statement built for each read cost more than
# the database took to answer it); each is executed with the event's id.
_roles = invitation_tallies.BY_ROLE.counted
_BY_ROLE = sa_select(
    _roles.c.role, _roles.c.status, _roles.c.invitees, _roles.c.invited, _roles.c.attended
)
_organizations = invitation_tallies.BY_ORGANIZATION.counted
_BY_ORGANIZATION = (
    sa_select(col(Organization.name), *(_organizations.c[status] for status in Status.ALL))
    .select_from(_organizations)
    .outerjoin(Organization, col(Organization.id) == _organizations.c.organization_id)
)
_states = message_tallies.BY_STATUS.counted
_MESSAGES_BY_STATUS = sa_select(*(_states.c[status] for status in MessageStatus.ALL))
_SCHEDULED = sa_select(func.count()).where(
    col(Message.event_id) == bindparam("event_id"),
    col(Message.status) == MessageStatus.QUEUED,
    col(Message.due_at) > bindparam("now"),
)


def event_report(session: Session, slug: str, now: datetime | None = None) -> EventReport:
    """Counts by reply status, organization and role, delivery states and attendance."""
    event = session.exec(select(Event).where(Event.slug == slug)).first()
    if event is None:
        raise NotFound(f"no event with slug {slug!r}")
    event_id = event.id
    assert event_id is not None

    # The counts come from the tallies the database keeps (roundtable.tally), not
    # from the invitations and messages themselves: a few thousand rows to read
    # at 100,000 invitations, instead of every row of the event.
    status_counts = dict.fromkeys(Status.ALL, 0)
    by_role: dict[str, dict[str, int]] = {}
    invited_count = attended_count = 0
    for role, status, count, invited, attended in session.execute(
        _BY_ROLE, {"event_id": event_id}
    ).all():
        status_counts[status] += int(count)
        by_role.setdefault(role, {})[status] = int(count)
        invited_count += int(invited)
        attended_count += int(attended)
    replies = sum(status_counts[s] for s in Status.REPLIED)

    # One row per organization with a column per status, then named; read through
    # Core, as plain tuples: the organizations may be thousands. Fetched in one go:
    # row by row, the driver's per-row calls cost as much as the rest.
    rows = session.connection().execute(_BY_ORGANIZATION, {"event_id": event_id}).all()
    # Each organization's statuses with a count, the others left out; picked by
    # ``compress`` rather than tested one by one in Python (5,000 organizations).
    by_organization: dict[str, dict[str, int]] = {
        name or NO_ORGANIZATION: dict(compress(zip(Status.ALL, counts, strict=True), counts))
        for name, *counts in rows
    }

    # The outbox by state; ``queued`` rows split by their time: due now (waiting for
    # a worker) or later, counted from an index over the queued rows alone.
    delivery = dict.fromkeys((SCHEDULED, *MessageStatus.ALL), 0)
    for row in session.execute(_MESSAGES_BY_STATUS, {"event_id": event_id}).all():
        for status, count in zip(MessageStatus.ALL, row, strict=True):
            delivery[status] += int(count)
    scheduled = session.execute(
        _SCHEDULED, {"event_id": event_id, "now": now or utcnow()}
    ).scalar_one()
    delivery[SCHEDULED] = int(scheduled)
    delivery[MessageStatus.QUEUED] -= int(scheduled)

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
