"""The row-level protocol of the outbox: claim, finish, requeue. Each is one short transaction.

Claims are taken in small batches (one round trip for several rows); each row is
then finished on its own as soon as it is sent, so a worker that dies loses at
most the rows of its current batch to a resend, and usually only one.

``claim`` is an ``UPDATE … WHERE status = 'queued'`` whose row count decides who
sends: it works the same on SQLite and PostgreSQL, where ``FOR UPDATE SKIP
LOCKED`` would not. Each claim increments ``attempts``, so the attempt number is
the claim's identity: ``renew``, ``finish`` and ``requeue`` given it only touch a
row still ``sending`` under that same claim, so a row the sweep reclaimed in the
meantime (and perhaps another worker claimed again) is not overwritten.

A write that records a send is retried for a while when the database is
unreachable (see ``_patiently``): losing it would make the sweep send the message
again once the lease runs out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import BindParameter, ColumnElement, Table, and_, bindparam, func, or_, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.expression import Executable

from roundtable.config import get_settings
from roundtable.db import DriverStatement, bookkeeping
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow

log = logging.getLogger(__name__)

#: longest a worker keeps trying to record an outcome while the database is unreachable
RECORD_PATIENCE = 30.0

_MESSAGES = cast(Table, Message.__table__)  # type: ignore[attr-defined]

T = TypeVar("T")


def claim(message_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Take the rows still queued and due for this worker: id → number of this attempt.

    Rows another worker took, or that are not due, are simply absent from the answer.
    """
    if not message_ids:
        return {}
    statement = (
        update(_MESSAGES)
        .where(
            _MESSAGES.c.id.in_(list(message_ids)),
            _MESSAGES.c.status == MessageStatus.QUEUED,
            _MESSAGES.c.due_at <= now,
        )
        .values(
            status=MessageStatus.SENDING,
            attempts=_MESSAGES.c.attempts + 1,
            lease_until=now + timedelta(seconds=get_settings().claim_lease),
            updated_at=now,
        )
        .returning(_MESSAGES.c.id, _MESSAGES.c.attempts)
    )
    rows = _patiently(statement)
    return {int(row[0]): int(row[1]) for row in rows}


def renew(claims: Mapping[int, int], now: datetime) -> set[int]:
    """Extend the lease of the rows still held under these claims (id → attempt); return them.

    A worker busy with a long batch is alive: renewing keeps the sweep from handing
    its waiting rows to another worker. A row missing from the answer was taken
    back meanwhile and must not be sent by this worker.
    """
    if not claims:
        return set()
    statement = (
        update(_MESSAGES)
        .where(_still_held(claims))
        .values(lease_until=now + timedelta(seconds=get_settings().claim_lease))
        .returning(_MESSAGES.c.id)
    )
    return {int(row[0]) for row in _patiently(statement)}


def release(claims: Mapping[int, int], now: datetime) -> list[int]:
    """Hand rows still held under these claims (id → attempt) back to the queue, unsent.

    They are due at once, for the caller to announce again (should that fail, the
    sweep does); the claim's attempt is taken back, as nothing was tried. Returns
    the rows released.
    """
    if not claims:
        return []
    statement = (
        update(_MESSAGES)
        .where(_still_held(claims))
        .values(
            status=MessageStatus.QUEUED,
            attempts=_MESSAGES.c.attempts - 1,
            lease_until=None,
            due_at=now,
            enqueued_at=now,
            updated_at=now,
        )
        .returning(_MESSAGES.c.id)
    )
    return [int(row[0]) for row in _patiently(statement)]


def _still_held(claims: Mapping[int, int]) -> ColumnElement[bool]:
    """The rows still ``sending`` under these claims (id → attempt number)."""
    return and_(
        _MESSAGES.c.status == MessageStatus.SENDING,
        or_(
            *(
                and_(_MESSAGES.c.id == message_id, _MESSAGES.c.attempts == attempt)
                for message_id, attempt in claims.items()
            )
        ),
    )


def _bound(name: str, column: str) -> BindParameter[Any]:
    """A parameter typed like the column it is written to (dates need the column's type)."""
    return bindparam(name, type_=_MESSAGES.c[column].type)


#: the row, if it is still ``sending`` under this claim
_STILL_THIS_CLAIM = and_(
    _MESSAGES.c.id == bindparam("row_id"),
    _MESSAGES.c.status == MessageStatus.SENDING,
    _MESSAGES.c.attempts == bindparam("attempt"),
)

# The two writes that end a claim run once for every message sent, so they are
# built once and run on the driver's cursor (roundtable.db.DriverStatement): building
# a statement and SQLAlchemy's way to it each cost as much as the round trip.
_FINISH = DriverStatement(
    update(_MESSAGES)
    .where(_STILL_THIS_CLAIM)
    .values(
        status=_bound("status", "status"),
        lease_until=None,
        last_code=_bound("code", "last_code"),
        last_response=_bound("response", "last_response"),
        updated_at=_bound("now", "updated_at"),
        message_id=func.coalesce(_bound("header", "message_id"), _MESSAGES.c.message_id),
        sent_at=func.coalesce(_bound("sent_at", "sent_at"), _MESSAGES.c.sent_at),
    )
    .returning(_MESSAGES.c.id)
)
_REQUEUE = DriverStatement(
    update(_MESSAGES)
    .where(_STILL_THIS_CLAIM)
    .values(
        status=MessageStatus.QUEUED,
        lease_until=None,
        due_at=_bound("due_at", "due_at"),
        enqueued_at=_bound("due_at", "enqueued_at"),
        last_code=_bound("code", "last_code"),
        last_response=_bound("response", "last_response"),
        updated_at=_bound("now", "updated_at"),
    )
    .returning(_MESSAGES.c.id)
)


def finish(
    message_id: int,
    status: str,
    *,
    attempt: int,
    code: int | None = None,
    response: str | None = None,
    message_id_header: str | None = None,
    sent_at: datetime | None = None,
) -> bool:
    """Record the outcome of the claim ``attempt``; whether the claim still held."""
    return _record(
        _FINISH,
        row_id=message_id,
        attempt=attempt,
        status=status,
        code=code,
        response=response,
        now=utcnow(),
        header=message_id_header or None,
        sent_at=sent_at,
    )


def requeue(
    message_id: int,
    now: datetime,
    delay: float,
    code: int | None,
    text: str,
    *,
    attempt: int,
) -> bool:
    """Put the row back in the queue, due after ``delay`` seconds; whether the claim still held."""
    return _record(
        _REQUEUE,
        row_id=message_id,
        attempt=attempt,
        due_at=now + timedelta(seconds=delay),
        code=code,
        response=text,
        now=now,
    )


def _record(statement: DriverStatement, **parameters: Any) -> bool:
    """Run one of the claim-ending writes; whether it found the row under its claim."""
    return len(_patiently(statement, parameters)) == 1


def _patiently(
    statement: Executable | DriverStatement, parameters: dict[str, Any] | None = None
) -> list[Any]:
    """Run one bookkeeping statement in its own transaction, riding out a short outage.

    A send that is not recorded is sent again by the sweep after the lease: a
    database restart or failover of a few seconds must not turn into duplicates.
    So the statement is tried again, backing off, for up to half the lease (and at
    most ``RECORD_PATIENCE``); after that the sweep's resend is due anyway. Every
    statement here is conditional, so repeating one whose commit did reach the
    database changes nothing; a claim repeated so finds its rows taken, and they
    come back to the queue when their lease ends.
    """

    def run() -> list[Any]:
        with bookkeeping() as connection:
            if isinstance(statement, DriverStatement):
                return statement.rows(connection, parameters or {})
            return list(connection.execute(statement, parameters).all())

    return _retry_while_unreachable(
        run, patience=min(RECORD_PATIENCE, get_settings().claim_lease / 2)
    )


def _retry_while_unreachable(
    action: Callable[[], T],
    *,
    patience: float,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``, trying again while the database cannot be reached, for ``patience`` s.

    ``monotonic`` and ``sleep`` are the clock it waits by; tests pass a fake one.
    """
    deadline = monotonic() + patience
    pause = 0.1
    while True:
        try:
            return action()
        except DBAPIError as error:
            transient = isinstance(error, OperationalError) or error.connection_invalidated
            if not transient or monotonic() + pause > deadline:
                raise
            log.warning(
                "the database is unreachable (%s); trying again in %.1f s", error.orig, pause
            )
        sleep(pause)
        pause = min(pause * 2, 2.0)
