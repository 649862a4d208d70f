"""Recording replies in the database: capacity, the waiting list and representatives.

:func:`record_reply` is the one way a reply is stored, whether the invitee
answers on their page or staff answer on their behalf. Everything a reply causes
(the new status, the log entry, the confirmation, promotions from the waiting
list, a representative's invitation and their mail) commits in one transaction.

Concurrent acceptances must never overbook: the transaction locks the event row
first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write transaction is
already exclusive), so replies to one event are counted one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from roundtable.config import get_settings
from roundtable.db import write_session
from roundtable.errors import NotFound
from roundtable.events.model import AgendaItem, Event
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.rsvp import (
    ACCEPT,
    CLOSED,
    N_,
    Reply,
    ReplyError,
    ReplyProblem,
    representative_email,
    respond,
)
from roundtable.invitations.tokens import derive_token, hash_token, looks_like_token, new_salt
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.people.model import Contact

#: The actor of changes nobody asked for directly (promotions from the waiting list).
SYSTEM = "system"


@dataclass(frozen=True)
class ReplyResult:
    """What :func:`record_reply` did, for the page or the API to report."""

    invitation_id: int
    from_status: str
    status: str
    guests: int
    #: something changed, so it was logged and a confirmation was queued
    changed: bool
    #: why nothing was recorded (``rsvp.DEADLINE_PASSED``, ``rsvp.CLOSED``), else ``None``
    refusal: str | None = None
    log_id: int | None = None
    #: invitations moved from the waiting list to accepted by this reply
    promoted: tuple[int, ...] = ()
    #: the representative's invitation, when one was named
    representative_invitation_id: int | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


@dataclass(frozen=True)
class InvitationView:
    """Everything an invitee's page shows, read in one session."""

    invitation: Invitation
    event: Event
    contact: Contact
    agenda: list[AgendaItem] = field(default_factory=list)
    represented_by: Contact | None = None
    representative_of: Contact | None = None


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
_CONTACT_OF_INVITATION = (
    select(Contact)
    .join(Invitation, col(Invitation.contact_id) == col(Contact.id))
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
        represented_by=_contact_of(session, invitation.represented_by_id),
        representative_of=_contact_of(session, invitation.representative_of_id),
    )


def _is_live(invitation: Invitation) -> bool:
    """Whether its link opens anything: not before it is sent, nor after it is withdrawn."""
    return invitation.status not in (Status.CANCELLED, Status.NOT_INVITED)


def record_reply(
    invitation_id: int,
    reply: Reply,
    *,
    actor: str,
    now: datetime,
    reason: str = "",
    override_deadline: bool = False,
) -> ReplyResult:
    """Store ``reply`` and everything it causes, in one transaction.

    ``actor`` is ``"invitee"`` for the invitee's own page, ``"staff:<email>"``
    when staff answer on someone's behalf (with a ``reason``). Staff may pass
    ``override_deadline`` to record a late answer given by phone or letter.
    Raises :class:`ReplyError` for an invalid reply and :class:`NotFound` for an
    unknown invitation; a reply after the deadline is refused, not raised.
    """
    lock_the_event = False
    while True:
        try:
            return _record_reply(
                invitation_id,
                reply,
                actor=actor,
                now=now,
                reason=reason,
                override_deadline=override_deadline,
                lock_the_event=lock_the_event,
            )
        except _NeedsEventLock:
            lock_the_event = True


def record_reply_in(
    session: Session,
    invitation_id: int,
    reply: Reply,
    *,
    actor: str,
    now: datetime,
    reason: str = "",
    override_deadline: bool = False,
) -> ReplyResult:
    """:func:`record_reply` inside the caller's transaction (a staff workflow's).

    The caller has checked that the invitation is one of an event it may change.
    The event's lock is taken from the start: the transaction cannot be begun
    again if the reply turned out to move seats.
    """
    return _record_reply_in(
        session,
        invitation_id,
        reply,
        actor=actor,
        now=now,
        reason=reason,
        override_deadline=override_deadline,
        lock_the_event=True,
    )


class _NeedsEventLock(Exception):
    """The reply turned out to move seats; start again holding the event's lock."""


def _moves_seats(event: Event, from_status: str, reply: Reply) -> bool:
    """Whether this reply may take or free a seat (only then must replies queue up)."""
    if event.capacity is None:
        return False
    return reply.response == ACCEPT or from_status in (Status.ACCEPTED, Status.WAITLISTED)


def _record_reply(
    invitation_id: int,
    reply: Reply,
    *,
    actor: str,
    now: datetime,
    reason: str,
    override_deadline: bool,
    lock_the_event: bool,
) -> ReplyResult:
    with write_session() as session:
        return _record_reply_in(
            session,
            invitation_id,
            reply,
            actor=actor,
            now=now,
            reason=reason,
            override_deadline=override_deadline,
            lock_the_event=lock_the_event,
        )


def _record_reply_in(
    session: Session,
    invitation_id: int,
    reply: Reply,
    *,
    actor: str,
    now: datetime,
    reason: str,
    override_deadline: bool,
    lock_the_event: bool,
) -> ReplyResult:
    found = session.exec(
        select(Invitation.event_id, Invitation.status).where(Invitation.id == invitation_id)
    ).first()
    if found is None:
        raise NotFound(f"no invitation with id {invitation_id}")
    event_id, status_seen = found
    # The event's lock serialises replies that move seats, so that concurrent
    # acceptances never overbook; other replies only lock their own row. The
    # event is always locked before any invitation, never after: whether this
    # reply moves seats is judged from the status read above, before locking.
    event = session.exec(select(Event).where(Event.id == event_id)).one()
    if lock_the_event or _moves_seats(event, status_seen, reply):
        event = lock_event(session, event_id)
        lock_the_event = True
    invitation = session.exec(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not lock_the_event and _moves_seats(event, invitation.status, reply):
        raise _NeedsEventLock  # its status changed since: rare, start again
    from_status = invitation.status
    unchanged = ReplyResult(
        invitation_id=invitation_id,
        from_status=from_status,
        status=from_status,
        guests=invitation.guests,
        changed=False,
    )
    if event.is_cancelled:
        return replace(unchanged, refusal=CLOSED)

    current_representative = _contact_of(session, invitation.represented_by_id)
    outcome = respond(
        from_status,
        reply,
        # Counted only where it matters: an acceptance where seats are limited.
        seats_taken=(
            seats_taken(session, event_id)
            if reply.response == ACCEPT and event.capacity is not None
            else 0
        ),
        capacity=event.capacity,
        max_guests=event.max_guests,
        deadline_passed=not override_deadline and reply_period_over(event, now),
        current_guests=invitation.guests,
        current_notes=invitation.notes,
        current_representative=current_representative.email if current_representative else "",
    )
    if outcome.refused:
        return replace(unchanged, refusal=outcome.refusal)
    if not outcome.changed:
        return unchanged

    representative: Invitation | None = None
    if reply.names_representative:
        representative = _invite_representative(session, event, invitation, reply, now=now)
    _apply(invitation, outcome.status, reply, now=now)
    invitation.represented_by_id = representative.id if representative else None
    log = _log(
        session,
        invitation,
        from_status=from_status,
        actor=actor,
        reason=reason,
        now=now,
    )
    queue_message(
        session,
        OutgoingMessage(
            event_id=event_id,
            invitation_id=invitation_id,
            kind="confirmation",
            mailing=f"confirmation:{log.id}",
            due_at=now,
            # What the mail tells: the outcome, not the words of the form
            # (an acceptance may have led to the waiting list).
            context={"response": outcome.status, "guests": outcome.guests},
        ),
    )
    promoted = promote_waiting(session, event, now=now) if outcome.seats_freed else []
    return ReplyResult(
        invitation_id=invitation_id,
        from_status=from_status,
        status=outcome.status,
        guests=outcome.guests,
        changed=True,
        log_id=log.id,
        promoted=tuple(promoted),
        representative_invitation_id=representative.id if representative else None,
    )


def lock_event(session: Session, event_id: int) -> Event:
    """The event row, locked until the transaction ends, so replies to it queue up."""
    return session.exec(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def seats_taken(session: Session, event_id: int) -> int:
    """Seats held by the event's accepted invitations: one each, plus their guests."""
    total = session.exec(
        select(func.coalesce(func.sum(Invitation.guests + 1), 0)).where(
            Invitation.event_id == event_id, Invitation.status == Status.ACCEPTED
        )
    ).one()
    return int(total)


def reply_period_over(event: Event, now: datetime) -> bool:
    """After the RSVP deadline, or once the meeting has ended, replies are closed."""
    if event.rsvp_deadline is not None and now > event.rsvp_deadline:
        return True
    return now >= event.ends_at


def promote_waiting(session: Session, event: Event, *, now: datetime) -> list[int]:
    """Accept waiting invitees, first come first served, while their party fits.

    The caller must hold the event's lock (:func:`lock_event`). Stops at the first
    invitee whose party does not fit, so nobody is overtaken by a smaller party.
    Each promotion is logged and announced with a ``promotion`` message.
    """
    if event.is_cancelled or event.id is None:
        return []
    taken = seats_taken(session, event.id)
    waiting = session.exec(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.status == Status.WAITLISTED)
        .order_by(col(Invitation.waitlisted_at).asc().nulls_last(), col(Invitation.id))
        .with_for_update()
    ).all()
    promoted: list[int] = []
    for invitation in waiting:
        party = 1 + invitation.guests
        if event.capacity is not None and taken + party > event.capacity:
            break
        invitation.status = Status.ACCEPTED
        invitation.waitlisted_at = None
        invitation.updated_at = now
        log = _log(
            session,
            invitation,
            from_status=Status.WAITLISTED,
            actor=SYSTEM,
            reason="a seat became free",
            now=now,
        )
        assert invitation.id is not None
        queue_message(
            session,
            OutgoingMessage(
                event_id=event.id,
                invitation_id=invitation.id,
                kind="promotion",
                mailing=f"promotion:{log.id}",
                due_at=now,
                context={"guests": invitation.guests},
            ),
        )
        promoted.append(invitation.id)
        taken += party
    return promoted


def _apply(invitation: Invitation, status: str, reply: Reply, *, now: datetime) -> None:
    if status == Status.WAITLISTED and invitation.status != Status.WAITLISTED:
        invitation.waitlisted_at = now
    elif status != Status.WAITLISTED:
        invitation.waitlisted_at = None
    invitation.status = status
    invitation.guests = reply.guests
    invitation.notes = reply.notes
    invitation.responded_at = now
    invitation.updated_at = now


def _log(
    session: Session,
    invitation: Invitation,
    *,
    from_status: str,
    actor: str,
    reason: str,
    now: datetime,
) -> ReplyLog:
    """Write the invitation's change to its reply log (the first entry dates the first reply)."""
    assert invitation.id is not None
    if invitation.first_replied_at is None:
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


def _invite_representative(
    session: Session, event: Event, original: Invitation, reply: Reply, *, now: datetime
) -> Invitation:
    """The representative's invitation to the same event: found, or created and sent."""
    email = representative_email(reply)
    invitee = session.get(Contact, original.contact_id)
    assert invitee is not None and event.id is not None and original.id is not None
    if email == invitee.email:
        raise ReplyError(
            [
                ReplyProblem.of(
                    "substitute_email",
                    N_("That is your own address: give your representative's."),
                )
            ]
        )
    contact = _contact_for(session, email, reply.substitute_name, like=invitee, now=now)
    assert contact.id is not None
    invitation = session.exec(
        select(Invitation).where(
            Invitation.event_id == event.id, Invitation.contact_id == contact.id
        )
    ).first()
    if invitation is None:
        invitation = Invitation(
            event_id=event.id,
            contact_id=contact.id,
            organization_id=contact.organization_id,
            role=original.role,
            status=Status.NOT_INVITED,
            representative_of_id=original.id,
            created_at=now,
            updated_at=now,
        )
        session.add(invitation)
        session.flush()
    elif invitation.representative_of_id is None and invitation.status == Status.NOT_INVITED:
        invitation.representative_of_id = original.id
    if invitation.status == Status.NOT_INVITED:
        _issue_token(invitation, now=now)
        session.flush()
        assert invitation.id is not None
        queue_message(
            session,
            OutgoingMessage(
                event_id=event.id,
                invitation_id=invitation.id,
                kind="invitation",
                mailing=f"invitation:{event.sequence}",
                due_at=now,
                context={"representative_of": original.id},
            ),
        )
    return invitation


def _contact_for(
    session: Session, email: str, name: str, *, like: Contact, now: datetime
) -> Contact:
    """The contact with this address; a new one (in the invitee's language) if none."""
    existing = session.exec(select(Contact).where(Contact.email == email)).first()
    if existing is not None:
        return existing
    contact = Contact(
        email=email,
        full_name=name,
        language=like.language,
        timezone=like.timezone,
        organization_id=like.organization_id,
        created_at=now,
        updated_at=now,
    )
    try:
        # A reply to another event may be creating the same person right now.
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        return session.exec(select(Contact).where(Contact.email == email)).one()
    return contact


def _issue_token(invitation: Invitation, *, now: datetime) -> None:
    assert invitation.id is not None
    invitation.token_salt = new_salt()
    token = derive_token(get_settings().resolved_secret_key(), invitation.id, invitation.token_salt)
    invitation.token_hash = hash_token(token)
    invitation.status = Status.INVITED
    invitation.invited_at = now
    invitation.updated_at = now


def _contact_of(session: Session, invitation_id: int | None) -> Contact | None:
    if invitation_id is None:
        return None
    return session.exec(_CONTACT_OF_INVITATION, params={"invitation_id": invitation_id}).first()
