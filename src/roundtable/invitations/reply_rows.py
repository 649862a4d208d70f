"""A reply's own rows, read and written with statements built once.

A reply is the one write an invitee makes, and many may arrive within a minute of
a mailing. Its usual course (read the invitation and its event's terms, lock the
invitation, change it, log the change) goes through the tables directly, with no
ORM object per request: building and flushing those cost several times more than
the statements themselves (docs/architecture.md, "Replies"). Everything that is
rarer (representatives, promotions from the waiting list) keeps using the ORM;
:mod:`roundtable.workflows.replies` puts the pieces together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Integer, Row, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import object_session
from sqlmodel import Session

from roundtable.events.model import Event, EventStatus
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.rsvp import Reply

_INVITATION = cast(Table, Invitation.__table__)  # type: ignore[attr-defined]
_EVENT = cast(Table, Event.__table__)  # type: ignore[attr-defined]
_REPLY_LOG = cast(Table, ReplyLog.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ReplyState:
    """The invitation's answer so far and the terms its event sets for replies."""

    invitation_id: int
    event_id: int
    status: str
    guests: int
    notes: str
    represented_by_id: int | None
    responded_at: datetime | None
    waitlisted_at: datetime | None
    capacity: int | None
    max_guests: int
    rsvp_deadline: datetime | None
    ends_at: datetime
    event_status: str

    @property
    def event_cancelled(self) -> bool:
        return self.event_status == EventStatus.CANCELLED

    @property
    def has_replied(self) -> bool:
        """Whether any reply was ever recorded (only then can a confirmation be waiting)."""
        return self.responded_at is not None


#: The invitation's answer so far and its event's terms, of any invitation (the forms follow).
_STATE_OF_ANY = select(
    _INVITATION.c.id.label("invitation_id"),
    _INVITATION.c.event_id,
    _INVITATION.c.status,
    _INVITATION.c.guests,
    _INVITATION.c.notes,
    _INVITATION.c.represented_by_id,
    _INVITATION.c.responded_at,
    _INVITATION.c.waitlisted_at,
    _EVENT.c.capacity,
    _EVENT.c.max_guests,
    _EVENT.c.rsvp_deadline,
    _EVENT.c.ends_at,
    _EVENT.c.status.label("event_status"),
).join(_EVENT, _EVENT.c.id == _INVITATION.c.event_id)
#: The invitation's answer so far and its event's terms, unlocked (the locking forms follow).
_READ_STATE = _STATE_OF_ANY.where(_INVITATION.c.id == bindparam("invitation_id"))
#: The invitation's row, locked until the transaction ends (not the event's).
_STATE = _READ_STATE.with_for_update(of=_INVITATION)
#: The same, found by the token's hash, with what the page's form is checked against: the
#: lookup of a reply from the page and the lock of its invitation in one round trip, for a
#: reply that takes no event's lock before its invitation's (docs/architecture.md, "Replies").
_STATE_BY_TOKEN_HASH = (
    _STATE_OF_ANY.add_columns(_INVITATION.c.token_salt, _INVITATION.c.language)
    .where(_INVITATION.c.token_hash == bindparam("token_hash"))
    .with_for_update(of=_INVITATION)
)
#: Replies that move seats are counted one after the other: each locks the row of the
#: invitation's event first. The lock is ``FOR NO KEY UPDATE``: it excludes every other
#: locker of the event, but not the foreign-key checks of rows that merely name the event
#: (a decline's confirmation in the outbox). With ``FOR UPDATE`` an acceptance holding the
#: event waited for a decline's invitation row while the decline's outbox row waited for the
#: event: a deadlock (docs/architecture.md, "Replies").
#:
#: Here the event's row and then the invitation's, in one round trip: an acceptance holds
#: the event from this statement to its commit, so every statement spared shortens the turn
#: of each acceptance queued behind it. PostgreSQL takes the rows in the order ``OF`` names
#: them, so the event comes first, as everywhere; the invitation's lock is ``FOR NO KEY
#: UPDATE`` too, which excludes every other replier to it as ``FOR UPDATE`` does.
_STATE_AND_EVENT = _READ_STATE.with_for_update(of=[_EVENT, _INVITATION], key_share=True)
#: The event's row alone, where seats are limited, for a caller that does not know yet.
_LOCK_LIMITED_EVENT = (
    select(_EVENT.c.id)
    .where(
        _EVENT.c.id
        == select(_INVITATION.c.event_id)
        .where(_INVITATION.c.id == bindparam("invitation_id"))
        .scalar_subquery(),
        _EVENT.c.capacity.is_not(None),
    )
    .with_for_update(key_share=True)
)


def lock_reply_state(
    session: Session, invitation_id: int, *, with_event: bool = False
) -> ReplyState | None:
    """The invitation, its row locked, and its event's terms; ``None`` for no such invitation.

    ``with_event`` locks the event's row first, in the same statement.
    """
    statement = _STATE_AND_EVENT if with_event else _STATE
    row = session.connection().execute(statement, {"invitation_id": invitation_id}).first()
    return ReplyState(**row._asdict()) if row is not None else None


def lock_reply_state_by_token_hash(
    session: Session, token_hash: str
) -> tuple[ReplyState, str | None, str] | None:
    """The invitation whose token has this hash, its row locked, with its event's terms, its
    token's salt and its language; ``None`` for no such invitation.

    For a reply that locks no event first: every other reply takes the event before any
    invitation (:func:`lock_reply_state`).
    """
    row = session.connection().execute(_STATE_BY_TOKEN_HASH, {"token_hash": token_hash}).first()
    if row is None:
        return None
    values = row._asdict()
    token_salt, language = values.pop("token_salt"), values.pop("language")
    return ReplyState(**values), token_salt, language


def lock_limited_event_of(session: Session, invitation_id: int) -> bool:
    """Lock the row of the invitation's event, if it limits seats; whether it was locked.

    Taken before the invitation's own lock, never after: one order for every
    transaction, so none waits for another in a circle. An event without a capacity
    stays unlocked: no seats to count there.
    """
    row = session.connection().execute(_LOCK_LIMITED_EVENT, {"invitation_id": invitation_id})
    return row.first() is not None


_SAVE_REPLY = (
    update(_INVITATION)
    .where(_INVITATION.c.id == bindparam("invitation_id"))
    .values(
        status=bindparam("status"),
        guests=bindparam("guests"),
        notes=bindparam("notes"),
        waitlisted_at=bindparam("waitlisted_at", type_=_INVITATION.c.waitlisted_at.type),
        represented_by_id=bindparam("represented_by_id", type_=Integer()),
        responded_at=bindparam("now", type_=_INVITATION.c.responded_at.type),
        updated_at=bindparam("now", type_=_INVITATION.c.updated_at.type),
        # The first reply dates the first reply (the reply chart counts by this day).
        first_replied_at=func.coalesce(
            _INVITATION.c.first_replied_at,
            bindparam("now", type_=_INVITATION.c.first_replied_at.type),
        ),
    )
)
#: The log entry's values, named as the update's parameters: one set of parameters serves
#: both statements, and the one that joins them.
_LOGGED = {
    "at": bindparam("now", type_=_REPLY_LOG.c.at.type),
    "actor": bindparam("actor", type_=_REPLY_LOG.c.actor.type),
    "from_status": bindparam("from_status", type_=_REPLY_LOG.c.from_status.type),
    "to_status": bindparam("status", type_=_REPLY_LOG.c.to_status.type),
    "guests": bindparam("guests", type_=_REPLY_LOG.c.guests.type),
    "notes": bindparam("notes", type_=_REPLY_LOG.c.notes.type),
    "reason": bindparam("reason", type_=_REPLY_LOG.c.reason.type),
}
_LOG_REPLY = (
    insert(_REPLY_LOG)
    .values(invitation_id=bindparam("invitation_id", type_=Integer()), **_LOGGED)
    .returning(_REPLY_LOG.c.id)
)
#: Both in one statement, on PostgreSQL (SQLite has no ``UPDATE`` inside a ``WITH``): the
#: invitation's update, then its log entry from the updated row, one round trip for two. An
#: acceptance holds its event's lock across them, so this is one round trip fewer for every
#: acceptance queued behind it. It returns the log entry's id and invitation, so that a
#: caller may take it as the first part of a longer statement: the reply's workflow queues
#: the confirmation in the same round trip (``workflows/replies.py``).
_SAVED = _SAVE_REPLY.returning(_INVITATION.c.id).cte("saved")
SAVE_AND_LOG_REPLY = (
    insert(_REPLY_LOG)
    .from_select(["invitation_id", *_LOGGED], select(_SAVED.c.id, *_LOGGED.values()))
    .returning(_REPLY_LOG.c.id, _REPLY_LOG.c.invitation_id)
)


def save_reply(session: Session, parameters: dict[str, Any]) -> int:
    """Write the reply onto the invitation and into its reply log, in two statements, as
    SQLite must; return the log entry's id.

    What :func:`~roundtable.invitations.service.log_change` does for an ORM object,
    for an invitation held as :class:`ReplyState`; ``parameters`` come from
    :func:`reply_parameters`. On PostgreSQL the workflow runs :data:`SAVE_AND_LOG_REPLY`
    instead, as the first part of the statement that also queues the confirmation.
    """
    execute_save(session, _SAVE_REPLY, parameters)
    return int(session.connection().execute(_LOG_REPLY, parameters).scalar_one())


def reply_parameters(
    state: ReplyState,
    status: str,
    reply: Reply,
    *,
    represented_by_id: int | None,
    actor: str,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """The parameters of the statements that save and log a reply (one set serves all)."""
    return {
        "invitation_id": state.invitation_id,
        "status": status,
        "guests": reply.guests,
        "notes": reply.notes,
        "waitlisted_at": waitlisted_since(state.status, state.waitlisted_at, status, now),
        "represented_by_id": represented_by_id,
        "now": now,
        "actor": actor,
        "from_status": state.status,
        "reason": reason[:500],
    }


def execute_save(
    session: Session, statement: Executable, parameters: dict[str, Any]
) -> Row[Any] | None:
    """Run a statement that saves a reply (:data:`SAVE_AND_LOG_REPLY`, or one that begins
    with it); its first row, if it returns any.

    Whatever the session still holds unwritten is written first, as the ORM would
    before any statement of its own; the invitation's ORM object, if the session
    holds one, is expired after, so that it reads the new row.
    """
    session.flush()
    result = session.connection().execute(statement, parameters)
    row = result.first() if result.returns_rows else None
    _forget_loaded(session, int(parameters["invitation_id"]))
    return row


def waitlisted_since(
    from_status: str, waitlisted_at: datetime | None, status: str, now: datetime
) -> datetime | None:
    """When the invitee joined the waiting list: kept while they wait, cleared once they leave."""
    if status != Status.WAITLISTED:
        return None
    return waitlisted_at if from_status == Status.WAITLISTED else now


def _forget_loaded(session: Session, invitation_id: int) -> None:
    """Expire the invitation's ORM object, if this session holds one, so it reads the new row.

    A staff workflow may have loaded the invitation before recording a reply for it.
    """
    loaded: Any = session.identity_map.get(session.identity_key(Invitation, invitation_id))
    if loaded is not None and object_session(loaded) is session:
        session.expire(loaded)
