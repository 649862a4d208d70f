"""SQL behind the outbox pages and the API: messages and bounced addresses, a page at a time.

Like :mod:`roundtable.reports.dashboard_queries`, paginated in the database
(docs/architecture.md, "Reports").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.people.model import Contact
from roundtable.reports.pages import PAGE_SIZE, Page, page_bounds

# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageLine:
    """One outbox row with its recipient, for the outbox pages and the API."""

    id: int
    event_slug: str
    invitation_id: int
    kind: str
    mailing: str
    status: str
    attempts: int
    last_code: int | None
    last_response: str | None
    due_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    message_id: str | None
    email: str
    name: str


@dataclass(frozen=True)
class MessageQuery:
    """Which outbox rows to list: by event(s), state and kind, one page at a time."""

    event_id: int | None = None
    #: the events the asker may see; ``None`` for all
    visible_event_ids: Collection[int] | None = None
    invitation_id: int | None = None
    status: str = ""
    kind: str = ""
    page: int = 1
    per_page: int = PAGE_SIZE


def message_page(session: Session, query: MessageQuery) -> Page[MessageLine]:
    """Outbox rows, newest first."""
    page, per_page = page_bounds(query.page, query.per_page)
    conditions: list[ColumnElement[bool]] = []
    if query.event_id is not None:
        conditions.append(col(Message.event_id) == query.event_id)
    if query.visible_event_ids is not None:
        conditions.append(col(Message.event_id).in_(list(query.visible_event_ids) or [-1]))
    if query.invitation_id is not None:
        conditions.append(col(Message.invitation_id) == query.invitation_id)
    if query.status:
        conditions.append(col(Message.status) == query.status)
    if query.kind:
        conditions.append(col(Message.kind) == query.kind)
    total = int(
        session.execute(select(func.count()).select_from(Message).where(*conditions)).scalar_one()
    )
    newest_first = (col(Message.created_at).desc(), col(Message.id).desc())
    # The page's rows chosen from the outbox alone, then joined to their names: joined
    # first, every failed message of a 100,000-invitee event was (11 ms for 20 shown).
    shown = (
        sa_select(col(Message.id))
        .where(*conditions)
        .order_by(*newest_first)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = session.execute(
        _message_rows().where(col(Message.id).in_(shown)).order_by(*newest_first)
    ).all()
    return Page(
        items=[_message_line(*row) for row in rows], total=total, page=page, per_page=per_page
    )


def message_line(session: Session, message_id: int) -> MessageLine | None:
    row = session.execute(_message_rows().where(col(Message.id) == message_id)).first()
    return _message_line(*row) if row is not None else None


def failed_messages(session: Session, event_id: int, limit: int = 20) -> Page[MessageLine]:
    """The event's messages that could not be delivered: the most recent, and how many."""
    return message_page(session, MessageQuery(event_id=event_id, status="failed", per_page=limit))


def _message_rows() -> Any:
    # SQLAlchemy's own select: SQLModel's is typed for at most four columns.
    return (
        sa_select(
            Message,
            col(Event.slug),
            col(Contact.email),
            col(Invitation.full_name),
            col(Invitation.honorific),
        )
        .join(Event, col(Event.id) == Message.event_id)
        .join(Invitation, col(Invitation.id) == Message.invitation_id)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
    )


def _message_line(
    message: Message, slug: str, email: str, full_name: str, honorific: str
) -> MessageLine:
    assert message.id is not None
    return MessageLine(
        id=message.id,
        event_slug=slug,
        invitation_id=message.invitation_id,
        kind=message.kind,
        mailing=message.mailing,
        status=message.status,
        attempts=message.attempts,
        last_code=message.last_code,
        last_response=message.last_response,
        due_at=message.due_at,
        sent_at=message.sent_at,
        updated_at=message.updated_at,
        message_id=message.message_id,
        email=email,
        name=f"{honorific} {full_name}".strip(),
    )


@dataclass(frozen=True)
class BouncedContact:
    """An invitee whose address was refused for good (a 5.1.x answer)."""

    invitation_id: int
    email: str
    name: str
    bounced_at: datetime
    reason: str


def bounced_contacts(session: Session, event_id: int, limit: int = 20) -> Page[BouncedContact]:
    """The event's invitees whose address bounced: the first by address, and how many."""
    bounced = (col(Invitation.event_id) == event_id, col(Contact.bounced_at).is_not(None))
    total = int(
        session.execute(
            sa_select(func.count())
            .select_from(Invitation)
            .join(Contact, col(Contact.id) == Invitation.contact_id)
            .where(*bounced)
        ).scalar_one()
    )
    rows = session.exec(
        select(Invitation, Contact)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .where(*bounced)
        .order_by(col(Contact.email))
        .limit(limit)
    ).all()
    items = [
        BouncedContact(
            invitation_id=int(invitation.id or 0),
            email=contact.email,
            name=invitation.display_name,
            bounced_at=contact.bounced_at,
            reason=contact.bounce_reason or "",
        )
        for invitation, contact in rows
        if contact.bounced_at is not None
    ]
    return Page(items=items, total=total, page=1, per_page=limit)
