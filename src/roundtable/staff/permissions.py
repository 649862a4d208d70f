"""Who may do what: the one permission model behind the dashboard, the API and the workflows.

A staff member's role decides every permission:

- ``admin``: everything, staff accounts included;
- ``organizer``: the events granted to them (and the events they create);
- ``viewer``: reads every event, changes nothing.

An event a member may not see is :class:`~roundtable.errors.NotFound`, as if it
did not exist; an action a member may not take on an event they can see is
:class:`Forbidden`. The web layer answers them with 404 and 403.

Every object a staff action names (an invitation, a message) is looked up
*through its event*: ``WHERE id = ? AND event_id = ?`` with the event the member
was allowed, in the transaction that acts. A row id alone never reaches an action,
so an id of another event's row names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.events.spec import SLUG
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.staff.model import EventGrant, StaffUser


class Role(StrEnum):
    """A staff account's role (stored as its value in ``staff_user.role``)."""

    ADMIN = "admin"
    ORGANIZER = "organizer"
    VIEWER = "viewer"


class Forbidden(Exception):
    """The member may see the object, but their role may not do this to it."""


@dataclass(frozen=True)
class StaffMember:
    """A signed-in staff account and the events it was granted."""

    id: int
    email: str
    role: str
    granted_event_ids: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_every_event(self) -> bool:
        return self.role in (Role.ADMIN, Role.VIEWER)

    @property
    def can_create_events(self) -> bool:
        return self.role in (Role.ADMIN, Role.ORGANIZER)

    @property
    def may_write(self) -> bool:
        """Whether the role may change anything at all (a viewer may not)."""
        return self.role in (Role.ADMIN, Role.ORGANIZER)

    @property
    def actor(self) -> str:
        """How this member is named in reply logs."""
        return f"staff:{self.email}"

    def can_read(self, event_id: int) -> bool:
        return self.sees_every_event or event_id in self.granted_event_ids

    def can_manage(self, event_id: int) -> bool:
        if self.is_admin:
            return True
        return self.role == Role.ORGANIZER and event_id in self.granted_event_ids

    def visible_event_ids(self) -> frozenset[int] | None:
        """The events this member may read; ``None`` means all of them."""
        return None if self.sees_every_event else self.granted_event_ids


def load_member(session: Session, staff_id: int) -> StaffMember | None:
    """The account with its grants, or ``None`` when it no longer exists."""
    user = session.get(StaffUser, staff_id)
    if user is None or user.id is None:
        return None
    return member_of(session, user)


def member_of(session: Session, user: StaffUser) -> StaffMember:
    assert user.id is not None
    granted = session.exec(select(EventGrant.event_id).where(EventGrant.staff_id == user.id)).all()
    return StaffMember(
        id=user.id, email=user.email, role=user.role, granted_event_ids=frozenset(granted)
    )


# --- checks without a lookup ---------------------------------------------------------------


def require_admin(member: StaffMember) -> None:
    if not member.is_admin:
        raise Forbidden("only administrators manage staff accounts")


def require_event_creator(member: StaffMember) -> None:
    if not member.can_create_events:
        raise Forbidden(f"your role ({member.role}) may not create events")


def require_writer(member: StaffMember) -> None:
    """Refuse a read-only role before anything it sent is even looked at."""
    if not member.may_write:
        raise Forbidden(f"your role ({member.role}) may not change anything")


# --- lookups with permission ---------------------------------------------------------------


def event_for(
    session: Session,
    member: StaffMember,
    slug: str,
    *,
    manage: bool = False,
    lock: bool = False,
) -> Event:
    """The event ``slug`` if ``member`` may see it (and manage it, when asked).

    ``lock`` takes the event row's lock (``FOR UPDATE``) for an action that then
    changes the event or counts its seats.
    """
    # A slug no event can have (PostgreSQL refuses a NUL in text outright) names nothing.
    event = None
    if SLUG.fullmatch(slug):
        statement = select(Event).where(Event.slug == slug)
        if lock:  # FOR NO KEY UPDATE, as every lock of an event (invitations.service.lock_event)
            statement = statement.with_for_update(key_share=True).execution_options(
                populate_existing=True
            )
        event = session.exec(statement).first()
    if event is None or event.id is None or not member.can_read(event.id):
        raise NotFound(f"no event with slug {slug!r}")
    if manage and not member.can_manage(event.id):
        raise Forbidden(f"your role ({member.role}) may not change event {slug!r}")
    return event


def invitation_of(
    session: Session, event: Event, invitation_id: int, *, lock: bool = False
) -> Invitation:
    """Invitation ``invitation_id`` of ``event``; another event's invitation is not found."""
    statement = select(Invitation).where(
        Invitation.id == invitation_id, Invitation.event_id == event.id
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    invitation = session.exec(statement).first()
    if invitation is None:
        raise NotFound("no such invitee on this event's list")
    return invitation


def message_for(
    session: Session,
    member: StaffMember,
    message_id: int,
    *,
    manage: bool = False,
    lock: bool = False,
) -> tuple[Message, Event]:
    """Message ``message_id`` and its event, if ``member`` may see (or manage) that event.

    A message's address names no event, so the event is the message's own, read
    in the same transaction, and the member's rights on it decide.
    """
    found = session.exec(select(Message.event_id).where(Message.id == message_id)).first()
    event = session.get(Event, found) if found is not None else None
    if event is None or event.id is None or not member.can_read(event.id):
        raise NotFound(f"no message {message_id}")
    if manage and not member.can_manage(event.id):
        raise Forbidden(f"your role ({member.role}) may not send mail")
    statement = select(Message).where(Message.id == message_id, Message.event_id == event.id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    message = session.exec(statement).first()
    if message is None:  # deleted meanwhile
        raise NotFound(f"no message {message_id}")
    return message, event
