"""Invitations in the database: finding one by its link, seats, locks, and the reply log.

The pieces a reply is made of; :mod:`roundtable.workflows.replies` puts them
together with the mail a reply causes, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from roundtable.config import get_settings
from roundtable.events.model import AgendaItem, Event
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.reply_rows import ReplyState, lock_reply_state_by_token_hash
from roundtable.invitations.representatives import NamedRepresentative, named_representative
from roundtable.invitations.tokens import derive_token, hash_token, looks_like_token, new_salt
from roundtable.people.model import Addressee, Contact


@dataclass(frozen=True)
class InvitationView:
    """Everything an invitee's page shows, read in one session."""

    invitation: Invitation
    event: Event
    contact: Contact
    agenda: list[AgendaItem] = field(default_factory=list)
    #: the representative the invitee named, as they typed the name
    represented_by: NamedRepresentative | None = None
    representative_of: Addressee | None = None


def find_invitation_by_token(session: Session, token: str) -> Invitation | None:
    """The live invitation that ``token`` opens; ``None`` for anything else, alike.

    Malformed, unknown, revoked (re-salted) and cancelled all give ``None``, so a
    caller cannot tell them apart and neither can whoever is guessing.
    """
    if not looks_like_token(token):
        return None
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    return invitation if invitation is not None and _is_live(invitation) else None


#: The read behind every RSVP page, built once: the invitation, its event and its
#: contact in one query. Mail scanners open each link too, so it runs often.
_VIEW_BY_TOKEN_HASH = (
    select(Invitation, Event, Contact)
    .join(Event, col(Event.id) == col(Invitation.event_id))
    .join(Contact, col(Contact.id) == col(Invitation.contact_id))
    .where(col(Invitation.token_hash) == bindparam("token_hash"))
)
_AGENDA_OF_EVENT = (
    select(AgendaItem)
    .where(col(AgendaItem.event_id) == bindparam("event_id"))
    .order_by(col(AgendaItem.position))
)
_INVITEE_OF_INVITATION = (
    select(Invitation, Contact.email)
    .join(Contact, col(Invitation.contact_id) == col(Contact.id))
    .where(col(Invitation.id) == bindparam("invitation_id"))
)


def load_invitation_view(session: Session, token: str) -> InvitationView | None:
    """The invitation that ``token`` opens, with its event, contact and agenda.

    The statements are built once with parameters: building one costs more than
    running it on an indexed column.
    """
    if not looks_like_token(token):
        return None
    row = session.exec(_VIEW_BY_TOKEN_HASH, params={"token_hash": hash_token(token)}).first()
    if row is None or not _is_live(row[0]):
        return None
    invitation, event, contact = row
    agenda = list(session.exec(_AGENDA_OF_EVENT, params={"event_id": event.id}).all())
    return InvitationView(
        invitation=invitation,
        event=event,
        contact=contact,
        agenda=agenda,
        represented_by=named_representative(session, invitation),
        representative_of=invitee_of(session, invitation.representative_of_id),
    )


@dataclass(frozen=True)
class ReplyTarget:
    """What taking a reply from the page needs to know of the invitation before recording it."""

    invitation_id: int
    token_salt: str
    language: str
    max_guests: int
    #: the event counts its seats: an acceptance must take the event's lock
    seats_limited: bool


#: A reply needs far less than its page shows: a few columns, no ORM objects.
_REPLY_TARGET_BY_TOKEN_HASH = (
    sa_select(
        col(Invitation.id),
        col(Invitation.token_salt),
        col(Invitation.language),
        col(Invitation.status),
        col(Event.max_guests),
        col(Event.capacity).is_not(None),
    )
    .join(Event, col(Event.id) == col(Invitation.event_id))
    .where(col(Invitation.token_hash) == bindparam("token_hash"))
)


def find_reply_target(session: Session, token: str) -> ReplyTarget | None:
    """The live invitation ``token`` opens, as a reply needs it; ``None`` as for the page."""
    if not looks_like_token(token):
        return None
    params = {"token_hash": hash_token(token)}
    row = session.connection().execute(_REPLY_TARGET_BY_TOKEN_HASH, params).first()
    if row is None:
        return None
    invitation_id, token_salt, language, status, max_guests, seats_limited = row
    if status in _NOT_LIVE or invitation_id is None or token_salt is None:
        return None
    return ReplyTarget(invitation_id, token_salt, language, max_guests, bool(seats_limited))


def lock_reply_target(session: Session, token: str) -> tuple[ReplyTarget, ReplyState] | None:
    """:func:`find_reply_target` and the invitation's row locked with what a reply needs to
    know of it, in one statement; ``None`` as for the page.

    Only for a reply that takes no event's lock before its invitation's (see
    :func:`~roundtable.invitations.reply_rows.lock_reply_state_by_token_hash`).
    """
    if not looks_like_token(token):
        return None
    found = lock_reply_state_by_token_hash(session, hash_token(token))
    if found is None:
        return None
    state, token_salt, language = found
    if state.status in _NOT_LIVE or token_salt is None:
        return None
    target = ReplyTarget(
        state.invitation_id, token_salt, language, state.max_guests, state.capacity is not None
    )
    return target, state


_NOT_LIVE = (Status.CANCELLED, Status.NOT_INVITED)


def _is_live(invitation: Invitation) -> bool:
    """Whether its link opens anything: not before it is sent, nor after it is withdrawn."""
    return invitation.status not in _NOT_LIVE


def lock_event(session: Session, event_id: int) -> Event:
    """The event row, locked until the transaction ends, so replies to it queue up.

    ``FOR NO KEY UPDATE``, as in ``reply_rows``: rows that only name the event (outbox rows,
    reply logs) are still inserted meanwhile, so that no reply waits for it in a circle.
    """
    return session.exec(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


#: Built once: every acceptance on an event with limited seats counts them.
_SEATS_TAKEN = sa_select(func.coalesce(func.sum(col(Invitation.guests) + 1), 0)).where(
    col(Invitation.event_id) == bindparam("event_id"),
    col(Invitation.status) == Status.ACCEPTED,
)


def seats_taken(session: Session, event_id: int) -> int:
    """Seats held by the event's accepted invitations: one each, plus their guests."""
    session.flush()  # a Core statement does not flush the ORM's pending changes itself
    total = session.connection().execute(_SEATS_TAKEN, {"event_id": event_id}).scalar_one()
    return int(total)


class ReplyPeriod(Protocol):
    """What closes replies: an event, or a reply's view of its event's terms."""

    @property
    def rsvp_deadline(self) -> datetime | None: ...

    @property
    def ends_at(self) -> datetime: ...


def reply_period_over(event: ReplyPeriod, now: datetime) -> bool:
    """After the RSVP deadline, or once the meeting has ended, replies are closed."""
    if event.rsvp_deadline is not None and now > event.rsvp_deadline:
        return True
    return now >= event.ends_at


def log_change(
    session: Session,
    invitation: Invitation,
    *,
    from_status: str,
    actor: str,
    reason: str,
    now: datetime,
    by_invitee: bool = True,
) -> ReplyLog:
    """Write the invitation's change to its reply log (the first reply dates the first reply).

    ``by_invitee`` is false for a change made to them (a representative withdrawn because
    another was named): it is logged, but it is not their reply.
    """
    assert invitation.id is not None
    if by_invitee and invitation.first_replied_at is None:
        invitation.first_replied_at = now
    log = ReplyLog(
        invitation_id=invitation.id,
        at=now,
        actor=actor,
        from_status=from_status,
        to_status=invitation.status,
        guests=invitation.guests,
        notes=invitation.notes,
        reason=reason[:500],
    )
    session.add(log)
    session.flush()
    return log


def contact_for(session: Session, email: str, *, now: datetime) -> Contact:
    """The contact with this address; a new one if none.

    A contact is only an address: the name an invitee types for their representative
    goes on the representative's own invitation, and no other event's list changes.
    """
    existing = session.exec(select(Contact).where(Contact.email == email)).first()
    if existing is not None:
        return existing
    contact = Contact(email=email, created_at=now, updated_at=now)
    try:
        # A reply to another event may be creating the same person right now.
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        return session.exec(select(Contact).where(Contact.email == email)).one()
    return contact


def issue_token(invitation: Invitation, *, now: datetime) -> None:
    assert invitation.id is not None
    invitation.token_salt = new_salt()
    token = derive_token(get_settings().resolved_secret_key(), invitation.id, invitation.token_salt)
    invitation.token_hash = hash_token(token)
    invitation.status = Status.INVITED
    invitation.invited_at = now
    invitation.updated_at = now


def invitee_of(session: Session, invitation_id: int | None) -> Addressee | None:
    """The invitee of that invitation as its event's list names them."""
    if invitation_id is None:
        return None
    row = session.exec(_INVITEE_OF_INVITATION, params={"invitation_id": invitation_id}).first()
    return row[0].addressee(row[1]) if row is not None else None
