"""SQL behind the staff pages and the API: events, invitees and one invitee's history.

The outbox's lists are in :mod:`roundtable.reports.outbox_queries`; ``Page`` is shared.

Counts are GROUP BY queries; lists are paginated in the database. Nothing here
loops over every invitation of an event in Python (docs/architecture.md, "Reports").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.events.service import agenda_of
from roundtable.events.spec_translations import EVENT_LANGUAGE, TRANSLATED_KEYS
from roundtable.invitations import tally as invitation_tallies
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.people.model import Contact, Organization
from roundtable.reports.outbox_queries import MessageLine, MessageQuery, message_page
from roundtable.reports.pages import MAX_PAGE_SIZE, PAGE_SIZE, Page, page_bounds

# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSummary:
    """An event on the dashboard's front page: its replies at a glance."""

    event: Event
    status_counts: dict[str, int]
    #: invitations sent (an invitation went out, whatever has happened since)
    invited: int

    @property
    def invitees(self) -> int:
        return sum(self.status_counts.values())

    @property
    def replies(self) -> int:
        return sum(self.status_counts[status] for status in Status.REPLIED)

    @property
    def response_rate(self) -> float:
        """Replies over invitations sent, as ``event_report`` computes it."""
        return round(self.replies / self.invited, 4) if self.invited else 0.0


def event_summaries(session: Session, event_ids: Collection[int] | None) -> list[EventSummary]:
    """The events (all of them when ``event_ids`` is ``None``), soonest first, with counts."""
    statement = select(Event).order_by(col(Event.starts_at), col(Event.id))
    if event_ids is not None:
        statement = statement.where(col(Event.id).in_(list(event_ids) or [-1]))
    events = list(session.exec(statement).all())
    ids = [event.id for event in events]
    counts: dict[int, dict[str, int]] = {
        event_id: dict.fromkeys(Status.ALL, 0) for event_id in ids if event_id is not None
    }
    invited: dict[int, int] = {}
    if ids:
        for event_id, status, count, invited_count in session.execute(
            sa_select(
                col(Invitation.event_id),
                col(Invitation.status),
                func.count(),
                func.count(col(Invitation.invited_at)),
            )
            .where(col(Invitation.event_id).in_(ids))
            .group_by(col(Invitation.event_id), col(Invitation.status))
        ).all():
            counts[event_id][status] = int(count)
            invited[event_id] = invited.get(event_id, 0) + int(invited_count)
    return [
        EventSummary(event=event, status_counts=counts[event.id], invited=invited.get(event.id, 0))
        for event in events
        if event.id is not None
    ]


_days = invitation_tallies.BY_FIRST_REPLY_DAY.counted
_REPLIES_PER_DAY = (
    sa_select(_days.c.day, _days.c.replied).where(_days.c.day.is_not(None)).order_by(_days.c.day)
)


def replies_per_day(session: Session, event_id: int) -> list[tuple[date, int]]:
    """How many invitees replied for the first time on each day (UTC), in day order.

    Read from the database's tally (roundtable.tally); grouping the first replies of
    60,000 invitees by day took 15 ms.
    """
    rows = session.execute(_REPLIES_PER_DAY, {"event_id": event_id}).all()
    return [(_as_date(day_value), int(count)) for day_value, count in rows]


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- invitees ------------------------------------------------------------------------------

#: what the invitee table can be sorted by, and the columns that sort means
INVITEE_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (col(Invitation.last_name), col(Invitation.full_name)),
    "email": (col(Contact.email),),
    "organization": (col(Organization.name),),
    "role": (col(Invitation.role),),
    "status": (col(Invitation.status),),
    "replied": (col(Invitation.responded_at),),
    "attended": (col(Invitation.attended_at),),
}

#: the sorts whose columns always hold a value (the organization is outer-joined)
SORTS_NEVER_BLANK = frozenset({"name", "email", "role", "status"})


@dataclass(frozen=True)
class InviteeQuery:
    """What the invitee table shows: a search, filters, an order and a page."""

    search: str = ""
    status: str = ""
    role: str = ""
    organization: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    per_page: int = PAGE_SIZE


@dataclass(frozen=True)
class InviteeLine:
    """One row of the invitee table."""

    invitation_id: int
    email: str
    #: as written on an envelope, honorific first
    name: str
    honorific: str
    first_name: str
    last_name: str
    full_name: str
    position: str
    organization: str
    role: str
    status: str
    guests: int
    notes: str
    language: str
    invited_at: datetime | None
    responded_at: datetime | None
    attended_at: datetime | None
    bounced: bool
    represented_by: str = ""
    representative_of: str = ""


def invitee_page(session: Session, event_id: int, query: InviteeQuery) -> Page[InviteeLine]:
    """One page of the event's invitees, searched, filtered and sorted in the database."""
    page, per_page = page_bounds(query.page, query.per_page)
    conditions: list[ColumnElement[bool]] = [col(Invitation.event_id) == event_id]
    term = query.search.strip().lower()
    if term:
        conditions.append(
            or_(
                func.lower(Invitation.full_name).contains(term, autoescape=True),
                func.lower(Contact.email).contains(term, autoescape=True),
                func.lower(func.coalesce(Organization.name, "")).contains(term, autoescape=True),
            )
        )
    if query.status:
        conditions.append(col(Invitation.status) == query.status)
    if query.role:
        conditions.append(col(Invitation.role) == query.role)
    if query.organization:
        conditions.append(col(Organization.name) == query.organization)

    def joined(statement: Any, *, contact: bool, organization: bool) -> Any:
        statement = statement.select_from(Invitation)
        if contact:
            statement = statement.join(Contact, col(Contact.id) == Invitation.contact_id)
        if organization:
            statement = statement.outerjoin(
                Organization, col(Organization.id) == Invitation.organization_id
            )
        return statement.where(*conditions)

    if term or query.organization:
        # Count with only the joins that the search and filters need.
        total = int(
            session.execute(
                joined(select(func.count()), contact=bool(term), organization=True)
            ).scalar_one()
        )
    else:
        total = counted_invitees(session, event_id, status=query.status, role=query.role)
    columns = INVITEE_SORTS.get(query.sort, INVITEE_SORTS["name"])
    # Blanks sort last; for columns that are never blank the plain order is the same,
    # and an index can serve it (the first page by name is read off one).
    blanks_last = query.sort not in SORTS_NEVER_BLANK
    order: list[UnaryExpression[Any]] = [
        _ordered(column, query.descending, blanks_last) for column in columns
    ]
    order.append(col(Invitation.id).asc())
    rows = session.execute(
        joined(select(Invitation, Contact, Organization.name), contact=True, organization=True)
        .order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    emails = _emails_of(
        session,
        [i for inv, _, _ in rows for i in (inv.represented_by_id, inv.representative_of_id) if i],
    )
    items = [_invitee_line(inv, contact, org, emails) for inv, contact, org in rows]
    return Page(items=items, total=total, page=page, per_page=per_page)


def counted_invitees(session: Session, event_id: int, *, status: str = "", role: str = "") -> int:
    """How many invitees the event has, of a status and a role if given, from the tally.

    The whole event's count read every invitation (100,000: as long as the rest of
    the table's page); the tally by role and status has a few dozen rows.
    """
    roles = invitation_tallies.BY_ROLE.counted
    conditions = [
        *([roles.c.status == status] if status else []),
        *([roles.c.role == role] if role else []),
    ]
    statement = sa_select(func.coalesce(func.sum(roles.c.invitees), 0)).where(*conditions)
    return int(session.execute(statement, {"event_id": event_id}).scalar_one())


def _ordered(column: Any, descending: bool, blanks_last: bool) -> UnaryExpression[Any]:
    ordered = column.desc() if descending else column.asc()
    return ordered.nulls_last() if blanks_last else ordered


def _invitee_line(
    invitation: Invitation, contact: Contact, organization: str | None, emails: dict[int, str]
) -> InviteeLine:
    assert invitation.id is not None
    return InviteeLine(
        invitation_id=invitation.id,
        email=contact.email,
        name=invitation.display_name,
        honorific=invitation.honorific,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        full_name=invitation.full_name,
        position=invitation.position,
        organization=organization or "",
        role=invitation.role,
        status=invitation.status,
        guests=invitation.guests,
        notes=invitation.notes,
        language=invitation.language,
        invited_at=invitation.invited_at,
        responded_at=invitation.responded_at,
        attended_at=invitation.attended_at,
        bounced=contact.bounced_at is not None,
        represented_by=emails.get(invitation.represented_by_id or 0, ""),
        representative_of=emails.get(invitation.representative_of_id or 0, ""),
    )


def _emails_of(session: Session, invitation_ids: Sequence[int]) -> dict[int, str]:
    if not invitation_ids:
        return {}
    rows = session.exec(
        select(Invitation.id, Contact.email)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(col(Invitation.id).in_(list(invitation_ids)))
    ).all()
    return {int(invitation_id): email for invitation_id, email in rows if invitation_id}


def invitation_by_email(session: Session, event_id: int, email: str) -> Invitation | None:
    return session.exec(
        select(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(Invitation.event_id == event_id, Contact.email == email)
    ).first()


# --- one invitee's history -----------------------------------------------------------------


@dataclass(frozen=True)
class InvitationHistory:
    """Everything that happened to one invitation: its messages and its replies."""

    invitee: InviteeLine
    messages: list[MessageLine] = field(default_factory=list)
    replies: list[ReplyLog] = field(default_factory=list)


def invitation_history(
    session: Session, event_id: int, invitation_id: int
) -> InvitationHistory | None:
    """The invitation's history, or ``None`` when it is not on this event's list."""
    row = session.execute(
        select(Invitation, Contact, Organization.name)
        .select_from(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .outerjoin(Organization, col(Organization.id) == Invitation.organization_id)
        .where(col(Invitation.id) == invitation_id, col(Invitation.event_id) == event_id)
    ).first()
    if row is None:
        return None
    invitation, contact, organization = row
    emails = _emails_of(
        session, [i for i in (invitation.represented_by_id, invitation.representative_of_id) if i]
    )
    messages = message_page(
        session, MessageQuery(invitation_id=invitation_id, per_page=MAX_PAGE_SIZE)
    ).items
    replies = list(
        session.exec(
            select(ReplyLog)
            .where(ReplyLog.invitation_id == invitation_id)
            .order_by(col(ReplyLog.at).desc(), col(ReplyLog.id).desc())
        ).all()
    )
    return InvitationHistory(
        invitee=_invitee_line(invitation, contact, organization, emails),
        messages=messages,
        replies=replies,
    )


@dataclass(frozen=True)
class MissingTranslation:
    """One language an invitee reads that the event's words are not all given in."""

    language: str
    invitees: int
    #: "title", "description", "agenda[2]", …: what that reader will see as written
    missing: tuple[str, ...]


_languages = invitation_tallies.BY_LANGUAGE.counted
#: the event's invitees by the language they read, but the event's own
_READERS = (
    sa_select(_languages.c.language, _languages.c.invitees)
    .where(_languages.c.language != EVENT_LANGUAGE)
    .order_by(_languages.c.language)
)


def missing_translations(session: Session, event: Event) -> list[MissingTranslation]:
    """For each language of the event's invitees but the event's own, what is not translated.

    A key the event leaves empty (no access, say) needs no translation. The invitees
    per language are the database's tally (roundtable.tally): counting them from the
    invitations read every row of the event, 65 ms at 100,000 invitations.
    """
    assert event.id is not None
    readers = session.execute(_READERS, {"event_id": event.id}).all()
    if not readers:
        return []
    agenda = agenda_of(session, event)
    found = []
    for language, count in readers:
        given = event.translations.get(language, {})
        missing = [key for key in TRANSLATED_KEYS if getattr(event, key) and not given.get(key)]
        missing += [
            f"agenda[{item.position}]" for item in agenda if not item.translations.get(language)
        ]
        if missing:
            found.append(MissingTranslation(language, int(count), tuple(missing)))
    return found
