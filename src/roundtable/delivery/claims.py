"""The row-level protocol of the outbox: claim, finish, requeue. Each is one short transaction.

``claim`` is an ``UPDATE … WHERE status = 'queued'`` whose row count decides who
sends: it works the same on SQLite and PostgreSQL, where ``FOR UPDATE SKIP
LOCKED`` would not. ``finish`` and ``requeue`` only touch rows still ``sending``,
so a row the sweep reclaimed in the meantime is not overwritten.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from roundtable.config import get_settings
from roundtable.db import write_session
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow


def claim(message_id: int, now: datetime) -> int | None:
    """Take the row for this worker; the number of this attempt, or ``None`` if not ours."""
    with write_session() as session:
        result = session.execute(
            update(Message)
            .where(
                col(Message.id) == message_id,
                col(Message.status) == MessageStatus.QUEUED,
                col(Message.due_at) <= now,
            )
            .values(
                status=MessageStatus.SENDING,
                attempts=col(Message.attempts) + 1,
                lease_until=now + timedelta(seconds=get_settings().claim_lease),
                updated_at=now,
            )
            .returning(col(Message.attempts))
        ).first()
    return None if result is None else int(result[0])


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
    with write_session() as session:
        session.execute(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.status) == MessageStatus.SENDING)
            .values(**values)
        )


def requeue(message_id: int, now: datetime, delay: float, code: int | None, text: str) -> None:
    with write_session() as session:
        session.execute(
            update(Message)
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
