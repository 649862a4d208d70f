"""The outbox: one row per mailing, announced after commit, claimed once, swept when lost."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session, write_session
from roundtable.delivery import doorbell
from roundtable.delivery.claims import claim
from roundtable.delivery.sweep import sweep
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_messages
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
    event_id: int, ids: list[int], mailing: str = "invitation", **kw: object
) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            event_id=event_id, invitation_id=i, kind="invitation", mailing=mailing, **kw
        )  # type: ignore[arg-type]
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
