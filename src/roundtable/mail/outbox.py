"""Writing messages into the outbox: inside the caller's transaction, once per mailing.

The state change that causes a message and the message's row commit together
(docs/architecture.md, "Outbox and delivery"). The unique key (invitation, mailing)
makes queueing idempotent: asking twice for the same mailing to the same invitee
yields one row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CTE, ColumnElement, Select, Table, bindparam, literal, select, true
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from roundtable.db import id_list, is_postgresql
from roundtable.invitations.model import Invitation
from roundtable.mail import doorbell
from roundtable.mail.kinds import check_context
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow

_MESSAGES = cast(Table, Message.__table__)  # type: ignore[attr-defined]
_INVITATIONS = cast(Table, Invitation.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OutgoingMessage:
    """What to queue: one mailing to one invitation."""

    event_id: int
    invitation_id: int
    kind: str
    mailing: str
    due_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)


def queue_messages(session: Session, messages: Sequence[OutgoingMessage]) -> list[int]:
    """Insert the rows that do not exist yet; return the ids of those inserted.

    Rows due now are announced to the workers once the transaction commits; later
    ones wait for the dispatcher (no broker ETA for anything far ahead:
    docs/architecture.md, "Scheduling").
    """
    if not messages:
        return []
    now, listening = utcnow(), doorbell.is_listening()
    values = [
        {
            "event_id": m.event_id,
            "invitation_id": m.invitation_id,
            **_new_row(m.kind, m.mailing, m.due_at, m.context, now=now, listening=listening),
        }
        for m in messages
    ]
    inserted: list[int] = []
    due_now: list[int] = []
    # One statement built once, its parameters sent in batches ("insertmanyvalues"):
    # compiling a fresh 500-row VALUES clause per chunk cost more than the inserts.
    statement = _INSERT_MESSAGES[is_postgresql(session)]
    connection = session.connection()
    for start in range(0, len(values), 5000):
        rows = connection.execute(statement, values[start : start + 5000]).all()
        inserted.extend(row[0] for row in rows)
        due_now.extend(row[0] for row in rows if row[1] <= now)
    ring_after_commit(session, due_now)
    return inserted


def queue_for_invitations(
    session: Session,
    invitation_ids: Sequence[int],
    *,
    event_id: int,
    kind: str,
    mailing: str,
    due_at: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> list[int]:
    """One mailing to many invitations: like :func:`queue_messages`, made by the database.

    The rows are written by ``INSERT … SELECT`` from the invitation table, a
    thousand invitations per statement, so what travels is the list of ids (on
    PostgreSQL one array, joined by primary key: :func:`roundtable.db.id_list`): for
    a mailing to thousands this is several times faster than sending every row's
    values. Ids of another event's invitations are skipped. Returns the ids of the
    rows inserted (not those that existed).
    """
    now = utcnow()
    row = _new_row(kind, mailing, due_at, context or {}, now=now, listening=doorbell.is_listening())
    insert = _insert_for(session)
    columns = {
        "event_id": _INVITATIONS.c.event_id,
        "invitation_id": _INVITATIONS.c.id,
        **{name: literal(value, _MESSAGES.c[name].type) for name, value in row.items()},
    }
    inserted: list[int] = []
    connection = session.connection()
    ids = list(invitation_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = select(*columns.values()).where(_INVITATIONS.c.event_id == event_id)
        if is_postgresql(session):
            wanted = id_list(chunk)
            rows = rows.select_from(wanted.join(_INVITATIONS, _INVITATIONS.c.id == wanted.c.id))
        else:
            rows = rows.where(_INVITATIONS.c.id.in_(chunk))
        statement = (
            insert(_MESSAGES)
            .from_select(list(columns), rows)
            .on_conflict_do_nothing(index_elements=["invitation_id", "mailing"])
            .returning(_MESSAGES.c.id)
        )
        inserted.extend(int(row[0]) for row in connection.execute(statement))
    if row["due_at"] <= now:
        ring_after_commit(session, inserted)
    return inserted


def _new_row(
    kind: str,
    mailing: str,
    due_at: datetime | None,
    context: dict[str, Any],
    *,
    now: datetime,
    listening: bool,
) -> dict[str, Any]:
    """A queued row's own values (all but its event and invitation)."""
    return {"mailing": mailing, **_own_values(kind, due_at, context, now=now, listening=listening)}


def _own_values(
    kind: str, due_at: datetime | None, context: dict[str, Any], *, now: datetime, listening: bool
) -> dict[str, Any]:
    """A queued row's values but its event, invitation and mailing.

    A row due now is marked announced when the workers will hear of it at commit;
    rows nobody will hear of now (a CLI run without broker) wait for the next dispatch.
    """
    check_context(kind, context)
    due = due_at or now
    return {
        "kind": kind,
        "status": MessageStatus.QUEUED,
        "due_at": due,
        "enqueued_at": now if listening and due <= now else None,
        "context": dict(context),
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


#: The columns :func:`queue_after` takes from parameters, each named ``message_`` and the column.
_OWN_COLUMNS = (
    "kind",
    "status",
    "due_at",
    "enqueued_at",
    "context",
    "attempts",
    "created_at",
    "updated_at",
)


def queue_after(cause: CTE, *, mailing: ColumnElement[str]) -> Select[Any]:
    """One statement: ``cause``, a writing statement, and the message it causes, queued in
    the same round trip (PostgreSQL only: SQLite has no writing statement inside ``WITH``).

    ``cause`` returns its row's ``id`` and the message's ``invitation_id``; ``mailing`` is
    an expression over it. The message's other values are parameters named ``message_``
    and the column (none named as a column: in an ``UPDATE`` of ``cause``, a parameter
    named as a column of its table would be written into it), which
    :func:`queue_after_parameters` gives. The statement returns the cause's
    ``id``, then the message's ``message_id`` and ``due_at`` (both ``None`` when the
    mailing's row existed); :func:`ring_if_due` takes those. Built once, by the caller,
    at import: a reply's confirmation goes through it (``workflows/replies.py``).
    """
    row = select(
        bindparam("message_event_id", type_=_MESSAGES.c.event_id.type),
        cause.c.invitation_id,
        mailing,
        *(bindparam(f"message_{name}", type_=_MESSAGES.c[name].type) for name in _OWN_COLUMNS),
    )
    queued = (
        postgresql.insert(_MESSAGES)
        .from_select(["event_id", "invitation_id", "mailing", *_OWN_COLUMNS], row)
        .on_conflict_do_nothing(index_elements=["invitation_id", "mailing"])
        .returning(_MESSAGES.c.id, _MESSAGES.c.due_at)
        .cte("queued")
    )
    return select(cause.c.id, queued.c.id.label("message_id"), queued.c.due_at).select_from(
        cause.outerjoin(queued, true())
    )


def queue_after_parameters(
    event_id: int, kind: str, *, due_at: datetime | None, context: dict[str, Any]
) -> dict[str, Any]:
    """The parameters of a :func:`queue_after` statement's message."""
    values = _own_values(kind, due_at, context, now=utcnow(), listening=doorbell.is_listening())
    own = {f"message_{name}": values[name] for name in _OWN_COLUMNS}
    return {"message_event_id": event_id, **own}


def ring_if_due(session: Session, message_id: int | None, due_at: datetime | None) -> None:
    """Announce a message :func:`queue_after` queued, once the transaction commits, if due."""
    if message_id is not None and due_at is not None and due_at <= utcnow():
        ring_after_commit(session, [message_id])


#: The insert of new rows, skipping a mailing's existing row, for SQLite and PostgreSQL:
#: built once, as every reply queues its confirmation through it.
_INSERT_MESSAGES = {
    is_postgresql: insert(_MESSAGES)
    .on_conflict_do_nothing(index_elements=["invitation_id", "mailing"])
    .returning(_MESSAGES.c.id, _MESSAGES.c.due_at)
    for is_postgresql, insert in ((False, sqlite.insert), (True, postgresql.insert))
}


def _insert_for(session: Session) -> Callable[[Table], Any]:
    """The database's own ``insert``, which knows ``ON CONFLICT DO NOTHING``."""
    return postgresql.insert if is_postgresql(session) else sqlite.insert


def queue_message(session: Session, message: OutgoingMessage) -> int | None:
    """Queue one message; ``None`` when that mailing already has a row for the invitee."""
    ids = queue_messages(session, [message])
    return ids[0] if ids else None


#: where a session keeps the ids it will ring for once it commits
_RING = "roundtable_ring"


def ring_after_commit(session: Session, message_ids: Iterable[int]) -> None:
    """Tell the workers about these rows, but only if and when the transaction commits."""
    session.info.setdefault(_RING, []).extend(message_ids)


# Listened for once, on every session: a listener added to each session that queues mail
# (every reply) cost more than the rest of the bookkeeping of its ring.
@sa_event.listens_for(OrmSession, "after_commit")
def _ring_pending(session: Session) -> None:
    ids = session.info.pop(_RING, None)
    if ids:
        doorbell.ring(ids)


@sa_event.listens_for(OrmSession, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_RING, None)
