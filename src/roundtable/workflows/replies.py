"""Recording replies: capacity, the waiting list, representatives, and the mail they cause.

:func:`record_reply` is the one way a reply is stored, whether the invitee
answers on their page or staff answer on their behalf. Everything a reply causes
(the new status, the log entry, the confirmation, promotions from the waiting
list, a representative's invitation and their mail) commits in one transaction;
it lives here, above ``invitations`` and ``mail``, because it writes to both.

Concurrent acceptances must never overbook: a reply that may move seats locks the
event's row first (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL; on SQLite the write
transaction is already exclusive), so such replies to one event are counted one after
the other (docs/architecture.md, "Replies").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import String, cast, literal, update
from sqlmodel import Session, col, select

from roundtable.db import is_postgresql, write_session
from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.reply_rows import (
    SAVE_AND_LOG_REPLY,
    ReplyState,
    execute_save,
    lock_limited_event_of,
    lock_reply_state,
    reply_parameters,
    save_reply,
)
from roundtable.invitations.rsvp import (
    ACCEPT,
    CLOSED,
    Refusal,
    Reply,
    respond,
)
from roundtable.invitations.service import (
    ReplyTarget,
    find_reply_target,
    invitee_of,
    lock_reply_target,
    log_change,
    reply_period_over,
    seats_taken,
)
from roundtable.mail.kinds import ConfirmationContext, PromotionContext
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.mail.outbox import (
    OutgoingMessage,
    queue_after,
    queue_after_parameters,
    queue_message,
    ring_if_due,
)
from roundtable.workflows.representatives import invite_representative, withdraw_representative

#: The actor of changes nobody asked for directly (promotions from the waiting list).
SYSTEM = "system"
#: The actor of a reply the invitee gave on their own page.
INVITEE = "invitee"


@dataclass(frozen=True)
class ReplyResult:
    """What :func:`record_reply` did, for the page or the API to report."""

    invitation_id: int
    from_status: str
    status: str
    guests: int
    #: something changed, so it was logged and a confirmation was queued
    changed: bool
    #: why nothing was recorded, else ``None``
    refusal: Refusal | None = None
    log_id: int | None = None
    #: invitations moved from the waiting list to accepted by this reply
    promoted: tuple[int, ...] = ()
    #: the representative's invitation, when one was named
    representative_invitation_id: int | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


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


def record_reply_by_token(
    token: str,
    admit: Callable[[ReplyTarget], Reply],
    *,
    now: datetime,
    accepting: bool = True,
) -> ReplyResult | None:
    """The invitee's own reply: the invitation ``token`` opens, and what ``admit`` makes of it.

    ``None`` when the token opens no live invitation. The lookup and the reply share
    one transaction and one connection: the form post is the service's busiest write
    (docs/architecture.md, "Replies"). ``admit`` checks the form against the invitation
    and builds the reply; it runs before anything is written, and whatever it raises
    (a limit, a stale form, an invalid reply) rolls the transaction back and reaches
    the caller.

    ``accepting`` says what the form asks for, before ``admit`` reads it: a reply that
    is no acceptance finds its invitation and locks it in one statement, where an
    acceptance on PostgreSQL must lock the event first. On SQLite the transaction
    holds the whole database, so every reply takes the one statement. A hint only: a
    reply that turns out to move seats starts again with the event locked first.
    """
    admitted: tuple[int, Reply] | None = None
    try:
        with write_session() as session:
            holds_the_database = not is_postgresql(session)
            state: ReplyState | None = None
            if accepting and not holds_the_database:
                target = find_reply_target(session, token)
            else:
                target, state = lock_reply_target(session, token) or (None, None)
            if target is None:
                return None
            admitted = (target.invitation_id, admit(target))
            return _record_reply_in(
                session,
                *admitted,
                actor=INVITEE,
                now=now,
                reason="",
                override_deadline=False,
                lock_the_event=holds_the_database,
                seats_limited=target.seats_limited,
                locked_state=state,
            )
    except _NeedsEventLock:
        pass  # rare: a change of mind that frees a seat; again, with the event locked first
    assert admitted is not None  # only an admitted reply finds out that it moves seats
    return _record_reply(
        *admitted,
        actor=INVITEE,
        now=now,
        reason="",
        override_deadline=False,
        lock_the_event=True,
    )


class _NeedsEventLock(Exception):
    """The reply turned out to move seats; start again holding the event's lock."""


def _moves_seats(state: ReplyState, reply: Reply) -> bool:
    """Whether this reply may take or free a seat (only then must replies queue up).

    Replacing a representative may free the seat they had accepted.
    """
    if state.capacity is None:
        return False
    return (
        reply.response == ACCEPT
        or state.status in (Status.ACCEPTED, Status.WAITLISTED)
        or state.represented_by_id is not None
    )


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
    seats_limited: bool | None = None,
    locked_state: ReplyState | None = None,
) -> ReplyResult:
    # The event's lock serialises replies that move seats, so that concurrent
    # acceptances never overbook; other replies lock only their own row. The event
    # is locked first, before the invitation: an acceptance locks it at once (where
    # seats are limited); any other reply finds out from the locked invitation
    # whether it moves seats, and in the rare case it does, starts again.
    # ``seats_limited``: whether the event counts seats, when the caller has read it
    # (the page's token lookup); an acceptance then takes both locks in one statement.
    # ``locked_state``: the invitation as the caller read it, its row already locked.
    if locked_state is not None:
        state: ReplyState | None = locked_state
    elif reply.response == ACCEPT and not lock_the_event and seats_limited is None:
        lock_the_event = lock_limited_event_of(session, invitation_id)
        state = lock_reply_state(session, invitation_id)
    else:
        lock_the_event = lock_the_event or (reply.response == ACCEPT and bool(seats_limited))
        state = lock_reply_state(session, invitation_id, with_event=lock_the_event)
    if state is None:
        raise NotFound(f"no invitation with id {invitation_id}")
    event_id = state.event_id
    if not lock_the_event and _moves_seats(state, reply):
        raise _NeedsEventLock
    from_status = state.status
    unchanged = ReplyResult(
        invitation_id=invitation_id,
        from_status=from_status,
        status=from_status,
        guests=state.guests,
        changed=False,
    )
    if state.event_cancelled:
        return replace(unchanged, refusal=CLOSED)

    current_representative = invitee_of(session, state.represented_by_id)
    outcome = respond(
        from_status,
        reply,
        # Counted only where it matters: an acceptance where seats are limited.
        seats_taken=(
            seats_taken(session, event_id)
            if reply.response == ACCEPT and state.capacity is not None
            else 0
        ),
        capacity=state.capacity,
        max_guests=state.max_guests,
        deadline_passed=not override_deadline and reply_period_over(state, now),
        current_guests=state.guests,
        current_notes=state.notes,
        current_representative=current_representative.email if current_representative else "",
    )
    if outcome.refused:
        return replace(unchanged, refusal=outcome.refusal)
    if not outcome.changed:
        return unchanged

    representative: Invitation | None = None
    if reply.names_representative:
        representative = invite_representative(
            session, _event(session, event_id), _invitation(session, invitation_id), reply, now=now
        )
    if state.has_replied:
        _drop_superseded_confirmations(session, invitation_id, now)
    log_id = _save_and_confirm(
        session,
        state,
        outcome.status,
        reply,
        # What the mail tells: the outcome, not the words of the form
        # (an acceptance may have led to the waiting list).
        confirmation=ConfirmationContext(outcome.status, outcome.guests),
        represented_by_id=representative.id if representative else None,
        actor=actor,
        reason=reason,
        now=now,
    )
    seats_freed = outcome.seats_freed
    previous = state.represented_by_id
    if previous is not None and previous != (representative.id if representative else None):
        for gone in withdraw_representative(
            session, _invitation(session, invitation_id), previous, now=now
        ):
            log_change(
                session,
                gone.invitation,
                from_status=gone.from_status,
                actor=actor,
                reason="replaced as representative",
                now=now,
                by_invitee=False,
            )
            seats_freed += gone.seats_freed
    promoted = promote_waiting(session, _event(session, event_id), now=now) if seats_freed else []
    return ReplyResult(
        invitation_id=invitation_id,
        from_status=from_status,
        status=outcome.status,
        guests=outcome.guests,
        changed=True,
        log_id=log_id,
        promoted=tuple(promoted),
        representative_invitation_id=representative.id if representative else None,
    )


#: A confirmation's mailing is named after the reply it confirms: ``confirmation:<log id>``.
CONFIRMATION_MAILING = "confirmation:"
_LOGGED = SAVE_AND_LOG_REPLY.cte("logged")
#: On PostgreSQL, the reply saved, logged and its confirmation queued in one statement: an
#: acceptance holds its event's lock from its first statement to its commit, and this is a
#: round trip fewer in that stretch for every acceptance queued behind it (three, not four;
#: docs/architecture.md, "Replies").
_SAVE_LOG_AND_CONFIRM = queue_after(
    _LOGGED, mailing=literal(CONFIRMATION_MAILING) + cast(_LOGGED.c.id, String)
)


def _save_and_confirm(
    session: Session,
    state: ReplyState,
    status: str,
    reply: Reply,
    *,
    confirmation: ConfirmationContext,
    represented_by_id: int | None,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    """Save the reply, log it and queue its confirmation; the log entry's id."""
    parameters = reply_parameters(
        state,
        status,
        reply,
        represented_by_id=represented_by_id,
        actor=actor,
        reason=reason,
        now=now,
    )
    context = confirmation.to_json()
    if not is_postgresql(session):
        log_id = save_reply(session, parameters)
        queue_message(
            session,
            OutgoingMessage(
                event_id=state.event_id,
                invitation_id=state.invitation_id,
                kind=MessageKind.CONFIRMATION,
                mailing=f"{CONFIRMATION_MAILING}{log_id}",
                due_at=now,
                context=context,
            ),
        )
        return log_id
    parameters |= queue_after_parameters(
        state.event_id, MessageKind.CONFIRMATION, due_at=now, context=context
    )
    saved = execute_save(session, _SAVE_LOG_AND_CONFIRM, parameters)
    assert saved is not None  # the statement returns the log entry it wrote
    ring_if_due(session, saved.message_id, saved.due_at)
    return int(saved.id)


def _event(session: Session, event_id: int) -> Event:
    """The event as an ORM object, for the rarer steps (representatives, promotions)."""
    event = session.get(Event, event_id)
    assert event is not None
    return event


def _invitation(session: Session, invitation_id: int) -> Invitation:
    """The replying invitation as an ORM object (already locked by this transaction)."""
    invitation = session.get(Invitation, invitation_id, populate_existing=True)
    assert invitation is not None
    return invitation


def _drop_superseded_confirmations(session: Session, invitation_id: int, now: datetime) -> None:
    """A confirmation not yet taken by a worker is dropped when a newer reply is recorded.

    Only the latest reply's confirmation then goes out, so a quick accept-then-decline
    sends one CANCEL, never an acceptance's REQUEST after it (docs/architecture.md,
    "Mail").
    """
    session.execute(
        update(Message)
        .where(
            col(Message.invitation_id) == invitation_id,
            col(Message.kind) == MessageKind.CONFIRMATION,
            col(Message.status) == MessageStatus.QUEUED,
        )
        .values(
            status=MessageStatus.DROPPED,
            last_response="superseded by a later reply",
            updated_at=now,
        )
    )


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
        log = log_change(
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
                kind=MessageKind.PROMOTION,
                mailing=f"promotion:{log.id}",
                due_at=now,
                context=PromotionContext(invitation.guests).to_json(),
            ),
        )
        promoted.append(invitation.id)
        taken += party
    return promoted
