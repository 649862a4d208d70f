"""The outbox: one row per mailing, announced after commit, claimed once, swept when lost."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.delivery.claims import claim
from roundtable.delivery.policy import MAX_ATTEMPTS
from roundtable.delivery.sweep import sweep
from roundtable.mail import doorbell
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_for_invitations, queue_messages
from roundtable.schedule.rules import MISSED_AFTER
from roundtable.types import utcnow
from tests.delivery.outbox_support import invitations_on_new_event


@pytest.fixture
def rung() -> Iterator[list[int]]:
    calls: list[int] = []

    def bell(ids: Sequence[int]) -> None:
        calls.extend(ids)

    doorbell.install(bell)
    yield calls
    doorbell.install(None)


def _outgoing(
    event_id: int,
    ids: list[int],
    mailing: str = "invitation",
    kind: str = "invitation",
    **kw: object,
) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(event_id=event_id, invitation_id=i, kind=kind, mailing=mailing, **kw)  # type: ignore[arg-type]
        for i in ids
    ]


def test_queueing_twice_yields_one_row_per_mailing(engine: Engine, rung: list[int]) -> None:
    event_id, ids = invitations_on_new_event(3)
    with write_session() as session:
        first = queue_messages(session, _outgoing(event_id, ids))
    with write_session() as session:
        second = queue_messages(session, _outgoing(event_id, ids))
    assert len(first) == 3 and second == []
    assert sorted(rung) == sorted(first)
    with read_session() as session:
        assert len(session.exec(select(Message)).all()) == 3


def test_rows_are_announced_only_after_commit(engine: Engine, rung: list[int]) -> None:
    event_id, ids = invitations_on_new_event(2)
    with pytest.raises(RuntimeError), write_session() as session:
        queue_messages(session, _outgoing(event_id, ids))
        assert rung == []
        raise RuntimeError("roll back")
    assert rung == []
    with read_session() as session:
        assert session.exec(select(Message)).all() == []


def test_future_rows_wait_for_the_dispatcher(engine: Engine, rung: list[int]) -> None:
    event_id, ids = invitations_on_new_event(2)
    later = utcnow() + timedelta(hours=1)
    with write_session() as session:
        queue_messages(session, _outgoing(event_id, ids, mailing="reminder:3600@0", due_at=later))
    assert rung == []
    assert sweep(utcnow()).announced == []
    assert len(sweep(later + timedelta(seconds=1)).announced) == 2


def test_a_mailing_made_by_the_database_matches_rows_sent_one_by_one(
    engine: Engine, rung: list[int]
) -> None:
    """``queue_for_invitations`` writes from the invitation table what ``queue_messages`` writes."""
    event_id, ids = invitations_on_new_event(4)
    later = utcnow() + timedelta(days=2)
    context = {"sequence": 3, "note": "مرحبا 你好", "withdrawn": False}
    with write_session() as session:
        by_rows = queue_messages(
            session,
            _outgoing(
                event_id,
                ids[:2],
                mailing="reminder:3600@0",
                kind="cancellation",
                due_at=later,
                context=context,
            ),
        )
        by_database = queue_for_invitations(
            session,
            ids,
            event_id=event_id,
            kind="cancellation",
            mailing="reminder:3600@0",
            due_at=later,
            context=context,
        )
        now_rows = queue_for_invitations(
            session, ids[:3], event_id=event_id, kind="invitation", mailing="invitation"
        )
    assert len(by_rows) == 2 and len(by_database) == 2, "existing rows are left alone"
    assert sorted(rung) == sorted(now_rows) and len(now_rows) == 3
    with read_session() as session:
        rows = {row.id: row for row in session.exec(select(Message)).all()}

    def shape(row: Message) -> tuple[object, ...]:
        return (
            row.event_id,
            row.kind,
            row.mailing,
            row.status,
            row.due_at,
            row.enqueued_at,
            row.context,
            row.attempts,
            row.lease_until,
        )

    shapes = [shape(rows[i]) for i in by_rows + by_database]
    assert shapes == [shapes[0]] * 4
    assert rows[by_database[0]].context == context
    assert {rows[i].invitation_id for i in by_rows + by_database} == set(ids)
    assert all(rows[i].enqueued_at is not None for i in now_rows), "announced when due now"
    with write_session() as session:
        again = queue_for_invitations(
            session, ids, event_id=event_id, kind="invitation", mailing="invitation"
        )
    with read_session() as session:
        added = session.exec(select(Message).where(col(Message.id).in_(again))).all()
    assert [row.invitation_id for row in added] == [ids[3]], "only the one without a row"
    _other_event, others = invitations_on_new_event(1, slug="another")
    with write_session() as session:
        assert (
            queue_for_invitations(
                session, others, event_id=event_id, kind="invitation", mailing="x"
            )
            == []
        ), "another event's invitation is not written under this event"


def test_a_row_is_claimed_once(engine: Engine, rung: list[int]) -> None:
    event_id, ids = invitations_on_new_event(1)
    with write_session() as session:
        [message_id] = queue_messages(session, _outgoing(event_id, ids))
    now = utcnow()
    assert claim([message_id], now) == {message_id: 1}
    assert claim([message_id], now) == {}


def test_sweep_reclaims_lost_claims_and_reannounces_stale_rows(
    engine: Engine, rung: list[int]
) -> None:
    event_id, ids = invitations_on_new_event(2)
    with write_session() as session:
        lost, stale = queue_messages(session, _outgoing(event_id, ids))
    now = utcnow()
    assert claim([lost], now) == {lost: 1}
    rung.clear()
    # Shortly after: the claim holds and the announcement is recent, so nothing happens.
    assert sweep(now + timedelta(seconds=30)).announced == []
    # Much later: the worker is presumed dead; both rows are announced again.
    later = now + timedelta(minutes=10)
    result = sweep(later)
    assert result.reclaimed == 1
    assert sorted(result.announced) == sorted([lost, stale])
    assert claim([lost], later) == {lost: 2}, "the attempt count goes on"


def test_sweep_marks_long_overdue_reminders_missed(engine: Engine, rung: list[int]) -> None:
    event_id, ids = invitations_on_new_event(1)
    due = utcnow()
    with write_session() as session:
        queue_messages(
            session,
            [
                OutgoingMessage(
                    event_id=event_id,
                    invitation_id=ids[0],
                    kind="reminder",
                    mailing="reminder:86400@0",
                    due_at=due + timedelta(seconds=1),
                )
            ],
        )
    result = sweep(due + MISSED_AFTER + timedelta(minutes=1))
    assert result.missed == 1 and result.announced == []
    with read_session() as session:
        assert session.exec(select(Message.status)).one() == MessageStatus.MISSED


def test_a_row_whose_worker_dies_every_time_fails_after_the_last_attempt(
    engine: Engine, rung: list[int]
) -> None:
    """A message that kills its worker (each claim ends with no outcome) does not loop."""
    event_id, ids = invitations_on_new_event(1)
    with write_session() as session:
        [message_id] = queue_messages(session, _outgoing(event_id, ids))
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert claim([message_id], now) == {message_id: attempt}
        now += timedelta(minutes=10)  # the lease runs out: the worker is gone
        result = sweep(now)
        assert (result.reclaimed, result.abandoned) == (
            (0, 1) if attempt == MAX_ATTEMPTS else (1, 0)
        )
    with read_session() as session:
        row = session.exec(select(Message)).one()
    assert row.status == MessageStatus.FAILED and row.lease_until is None
    assert f"no outcome recorded in {MAX_ATTEMPTS} attempts" in (row.last_response or "")
    assert claim([message_id], now) == {}, "a failed row is not claimed again"
