"""The row-level protocol of the outbox: claim, finish, requeue. Each is one short transaction.

Claims are taken in small batches (one round trip for several rows); each row is
then finished on its own as soon as it is sent, so a worker that dies loses at
most the rows of its current batch to a resend, and usually only one.

``claim`` is an ``UPDATE … WHERE status = 'queued'`` whose row count decides who
sends: it works the same on SQLite and PostgreSQL, where ``FOR UPDATE SKIP
LOCKED`` would not. ``finish`` and ``requeue`` only touch rows still ``sending``,
so a row the sweep reclaimed in the meantime is not overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from roundtable.config import get_settings
from roundtable.db import write_session
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow


def claim(message_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Take the rows still queued and due for this worker: id → number of this attempt.

    Rows another worker took, or that are not due, are simply absent from the answer.
    """
    if not message_ids:
        return {}
    with write_session(flush_to_disk=False) as session:
        rows = session.execute(
            update(Message)
            .execution_options(synchronize_session=False)
            .where(
                col(Message.id).in_(list(message_ids)),
                col(Message.status) == MessageStatus.QUEUED,
                col(Message.due_at) <= now,
            )
            .values(
                status=MessageStatus.SENDING,
                attempts=col(Message.attempts) + 1,
                lease_until=now + timedelta(seconds=get_settings().claim_lease),
                updated_at=now,
            )
            .returning(col(Message.id), col(Message.attempts))
        ).all()
    return {int(message_id): int(attempts) for message_id, attempts in rows}


def finish(
    message_id: int,
    status: str,
    *,
    code: int | None = None,
    response: str | None = None,
    message_id_header: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    values: dict[str, object] = {
        "status": status,
        "lease_until": None,
        "last_code": code,
        "last_response": response,
        "updated_at": utcnow(),
    }
    if message_id_header:
        values["message_id"] = message_id_header
    if sent_at:
        values["sent_at"] = sent_at
    with write_session(flush_to_disk=False) as session:
        session.execute(
            update(Message)
            .execution_options(synchronize_session=False)
            .where(col(Message.id) == message_id, col(Message.status) == MessageStatus.SENDING)
            .values(**values)
        )


def requeue(message_id: int, now: datetime, delay: float, code: int | None, text: str) -> None:
    with write_session(flush_to_disk=False) as session:
        session.execute(
            update(Message)
            .execution_options(synchronize_session=False)
            .where(col(Message.id) == message_id, col(Message.status) == MessageStatus.SENDING)
            .values(
                status=MessageStatus.QUEUED,
                lease_until=None,
                due_at=now + timedelta(seconds=delay),
                enqueued_at=now + timedelta(seconds=delay),
                last_code=code,
                last_response=text,
                updated_at=now,
            )
        )
