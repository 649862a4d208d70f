"""The safety net: put lost claims back in the queue and announce what is due.

Also folds the changes of the counts the database keeps (:mod:`roundtable.tally`).

Runs every ``ROUNDTABLE_DISPATCH_INTERVAL`` seconds (beat, or the in-process
scheduler). Idempotent: two sweeps at once announce some rows twice, and the
claim in :mod:`roundtable.delivery.deliver` lets only one worker send each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from roundtable.config import get_settings
from roundtable.db import bookkeeping, is_postgresql, rows_changed, write_session
from roundtable.delivery.policy import MAX_ATTEMPTS
from roundtable.invitations import tally as invitation_tallies
from roundtable.mail import tally as message_tallies
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import ring_after_commit
from roundtable.schedule.rules import MISSED_AFTER, SCHEDULED_KINDS

#: most rows announced per sweep; the rest wait for the next one
BATCH = 5000


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    abandoned: int
    missed: int
    announced: list[int]


def sweep(now: datetime) -> SweepResult:
    """Reclaim lost claims (failing those tried enough), mark missed reminders, announce due."""
    with write_session() as session:
        # A row whose every claim ended without an outcome (the worker died while
        # composing or sending it, each time) would otherwise come back forever.
        abandoned = rows_changed(
            session,
            update(Message)
            .where(
                col(Message.status) == MessageStatus.SENDING,
                col(Message.lease_until) < now,
                col(Message.attempts) >= MAX_ATTEMPTS,
            )
            .values(
                status=MessageStatus.FAILED,
                lease_until=None,
                last_code=None,
                last_response=f"no outcome recorded in {MAX_ATTEMPTS} attempts: "
                "the worker stopped while sending it each time",
                updated_at=now,
            ),
        )
        reclaimed = rows_changed(
            session,
            update(Message)
            .where(
                col(Message.status) == MessageStatus.SENDING,
                col(Message.lease_until) < now,
            )
            .values(
                status=MessageStatus.QUEUED, lease_until=None, enqueued_at=None, updated_at=now
            ),
        )
        # Reminders far past due (the service was down) would mislead: mark them missed.
        missed = rows_changed(
            session,
            update(Message)
            .where(
                col(Message.status) == MessageStatus.QUEUED,
                col(Message.kind).in_(SCHEDULED_KINDS),
                col(Message.due_at) < now - MISSED_AFTER,
            )
            .values(status=MessageStatus.MISSED, updated_at=now),
        )
        stale = now - timedelta(seconds=get_settings().reannounce_after)
        due = (
            select(Message.id)
            .where(
                col(Message.status) == MessageStatus.QUEUED,
                col(Message.due_at) <= now,
                or_(col(Message.enqueued_at).is_(None), col(Message.enqueued_at) < stale),
            )
            .order_by(col(Message.due_at))
            .limit(BATCH)
        )
        if is_postgresql(session):
            # Two sweeps at once (two beats by mistake) take disjoint rows.
            due = due.with_for_update(skip_locked=True)
        # Find and mark in one statement: one round trip however many rows are due.
        announced = session.execute(
            update(Message)
            .where(col(Message.id).in_(due.scalar_subquery()))
            .values(enqueued_at=now)
            .returning(col(Message.id))
            .execution_options(synchronize_session=False)
        ).all()
        ids = [int(row[0]) for row in announced]
        ring_after_commit(session, ids)
    return SweepResult(reclaimed=reclaimed, abandoned=abandoned, missed=missed, announced=ids)


def fold_tallies() -> None:
    """Fold the tallies' changes into their counts, so that the report reads few rows.

    Each fold is one statement on PostgreSQL (its own transaction) and one short
    write transaction on SQLite; two sweeps at once fold each change once.
    """
    for tally in (*invitation_tallies.TALLIES, *message_tallies.TALLIES):
        with bookkeeping() as connection:
            tally.fold(connection)
