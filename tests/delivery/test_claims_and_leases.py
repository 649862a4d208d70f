"""Claims outlive slow batches, lost claims are not sent, and a send survives a database blip.

Time here is a clock the tests move: a slow server is one that moves the clock on
as it sends, so no test sleeps and none depends on how busy the machine is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Self

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import Pool
from sqlmodel import col, select

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery import claims
from roundtable.delivery.claims import claim, finish, renew
from roundtable.delivery.deliver import Outcome, deliver_batch
from roundtable.delivery.sweep import sweep
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_messages
from roundtable.types import utcnow
from tests.delivery.outbox_support import invitations_on_new_event

LEASE = 1.0


class Clock:
    """The time as the batch sees it: it starts now and moves only when told."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class SlowTransport:
    """Takes ``seconds`` of ``clock`` per message and runs ``during`` inside each send."""

    def __init__(
        self, seconds: float, clock: Clock, during: Callable[[], object] = lambda: None
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.during = during
        self.sent: list[str] = []

    def send(self, message: EmailMessage) -> None:
        self.clock.advance(self.seconds)
        self.during()
        self.sent.append(str(message["Message-ID"]))

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def short_lease(engine: Engine, env: pytest.MonkeyPatch) -> Engine:
    env.setenv("ROUNDTABLE_CLAIM_LEASE", str(LEASE))
    get_settings.cache_clear()
    return engine


def _queued(count: int, slug: str = "roundtable") -> list[int]:
    event_id, invitation_ids = invitations_on_new_event(count, slug)
    with write_session() as session:
        return queue_messages(
            session,
            [
                OutgoingMessage(
                    event_id=event_id, invitation_id=i, kind="invitation", mailing="invitation"
                )
                for i in invitation_ids
            ],
        )


def _states(ids: Sequence[int]) -> list[tuple[str, int]]:
    with read_session() as session:
        rows = session.exec(select(Message).where(col(Message.id).in_(ids))).all()
    return sorted((row.status, row.attempts) for row in rows)


def test_a_batch_slower_than_its_lease_keeps_its_claims(short_lease: Engine) -> None:
    ids = _queued(5)
    # Each message takes 40 % of the lease (five of them twice the lease); the sweep runs
    # after every one, as beat would.
    clock = Clock()
    transport = SlowTransport(LEASE * 0.4, clock, during=lambda: sweep(clock()))
    results = deliver_batch(ids, transport, clock=clock)
    assert {result.outcome for result in results.values()} == {Outcome.SENT}
    assert len(transport.sent) == len(set(transport.sent)) == 5
    assert _states(ids) == [(MessageStatus.SENT, 1)] * 5


def test_a_claim_taken_back_is_neither_sent_nor_overwritten(short_lease: Engine) -> None:
    ids = _queued(3)
    clock = Clock()

    def stall_past_the_lease() -> None:
        # The worker hangs longer than its lease: the sweep takes every row back and
        # another worker claims them, before this send returns.
        if len(transport.sent) == 0:
            clock.advance(LEASE * 1.5)
            assert sweep(clock()).reclaimed == 3
            assert claim(ids, clock()) == dict.fromkeys(ids, 2)

    transport = SlowTransport(0.0, clock, during=stall_past_the_lease)
    results = deliver_batch(ids, transport, clock=clock)
    assert len(transport.sent) == 1, "the rows claimed by another worker were not sent"
    assert [results[i].outcome for i in ids[1:]] == [Outcome.NOT_CLAIMED] * 2
    # The first one was sent, but the row belongs to the second claim now: left to it.
    assert _states(ids) == [(MessageStatus.SENDING, 2)] * 3


def test_a_batch_out_of_time_hands_the_rest_back_unsent(short_lease: Engine) -> None:
    """Before the task's time limit could cut a send short, the unreached rows go back."""
    ids = _queued(4)
    # The budget runs out halfway through the second send: the second one starts and
    # the third does not.
    send_seconds = 1.0
    clock = Clock()
    transport = SlowTransport(send_seconds, clock)
    results = deliver_batch(ids, transport, send_for=1.5 * send_seconds, clock=clock)
    assert [results[i].outcome for i in ids] == [
        Outcome.SENT,
        Outcome.SENT,
        Outcome.RELEASED,
        Outcome.RELEASED,
    ]
    assert len(transport.sent) == 2
    # Back in the queue as if never tried: the next worker sends them as first attempts.
    assert _states(ids) == [(MessageStatus.QUEUED, 0)] * 2 + [(MessageStatus.SENT, 1)] * 2
    again = deliver_batch(ids, SlowTransport(0.0, clock), clock=clock)
    assert [again[i].outcome for i in ids[2:]] == [Outcome.SENT] * 2
    assert _states(ids) == [(MessageStatus.SENT, 1)] * 4


def test_renew_answers_only_for_claims_still_held(short_lease: Engine) -> None:
    first, second = _queued(2)
    now = utcnow()
    assert claim([first, second], now) == {first: 1, second: 1}
    assert finish(second, MessageStatus.SENT, attempt=1)
    assert renew({first: 1, second: 1}, utcnow()) == {first}
    assert renew({first: 2}, utcnow()) == set(), "attempt 2 never claimed it"
    assert not finish(first, MessageStatus.SENT, attempt=2)


def test_finish_and_requeue_write_exactly_what_they_are_given(engine: Engine) -> None:
    """The claim-ending writes are built once with parameters: every field must land."""
    sent, failed, retried = _queued(3)
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    assert claim([sent, failed, retried], now) == {sent: 1, failed: 1, retried: 1}
    header = "<msg-1.abc@iom.example.org>"
    assert finish(
        sent,
        MessageStatus.SENT,
        attempt=1,
        code=250,
        response="accepted",
        message_id_header=header,
        sent_at=now,
    )
    assert finish(failed, MessageStatus.FAILED, attempt=1, code=550, response="no such user")
    assert claims.requeue(retried, now, 90.0, 451, "try later", attempt=1)
    with read_session() as session:
        rows = {row.id: row for row in session.exec(select(Message)).all()}
    assert (rows[sent].status, rows[sent].last_code, rows[sent].message_id) == (
        MessageStatus.SENT,
        250,
        header,
    )
    assert rows[sent].sent_at == now and rows[sent].lease_until is None
    assert (rows[failed].status, rows[failed].last_response) == (
        MessageStatus.FAILED,
        "no such user",
    )
    assert rows[failed].message_id is None and rows[failed].sent_at is None
    assert rows[retried].status == MessageStatus.QUEUED
    assert rows[retried].due_at == rows[retried].enqueued_at == now + timedelta(seconds=90)
    assert (rows[retried].last_code, rows[retried].attempts) == (451, 1)
    assert not finish(retried, MessageStatus.SENT, attempt=1), "no longer under that claim"


def test_a_batch_records_on_one_connection_and_replaces_one_that_died(engine: Engine) -> None:
    """A batch's claim and outcomes are written on one connection of its own, not one from
    the pool for each message; on PostgreSQL that connection is killed in the middle of a
    batch, and the outcomes after it are written on a fresh one: nothing lost, nothing
    sent twice."""
    postgresql = engine.dialect.name == "postgresql"

    batches: list[object] = []

    def deliver(count: int, *, kill_after: int | None = None) -> int:
        batches.append(count)
        ids = _queued(count, slug=f"batch{len(batches)}")
        checkouts: list[object] = []

        def count_checkout(*connection: object) -> None:
            checkouts.append(connection)

        def kill_the_others() -> None:
            if len(transport.sent) == kill_after:
                # From outside the pools, so that only the batch's own checkouts count.
                url = engine.url.set(drivername="postgresql")
                with psycopg.connect(url.render_as_string(hide_password=False)) as killer:
                    killer.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )

        clock = Clock()
        transport = SlowTransport(0.0, clock, during=kill_the_others)
        event.listen(Pool, "checkout", count_checkout)
        try:
            results = deliver_batch(ids, transport, clock=clock)
        finally:
            event.remove(Pool, "checkout", count_checkout)
        assert {result.outcome for result in results.values()} == {Outcome.SENT}
        assert len(transport.sent) == len(set(transport.sent)) == count
        assert _states(ids) == [(MessageStatus.SENT, 1)] * count
        return len(checkouts)

    deliver(1)  # the process's first batch reads the installation's Message-ID part
    assert deliver(2) == deliver(6), "connections taken do not grow with the messages"
    if postgresql:
        assert deliver(4, kill_after=2) == deliver(4) + 1, "one fresh connection, no more"


def test_recording_a_send_rides_out_a_database_blip() -> None:
    outcomes: list[object] = [_unreachable(), _unreachable(), True]

    def write() -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return bool(outcome)

    pauses: list[float] = []
    assert claims._retry_while_unreachable(write, patience=5.0, sleep=pauses.append) is True
    assert pauses == [0.1, 0.2]
    assert outcomes == []


def test_recording_gives_up_after_its_patience_and_never_retries_a_real_error() -> None:
    elapsed = [0.0]
    attempts: list[float] = []

    def unreachable() -> bool:
        attempts.append(elapsed[0])
        raise _unreachable()

    with pytest.raises(OperationalError):
        claims._retry_while_unreachable(
            unreachable,
            patience=0.5,
            monotonic=lambda: elapsed[0],
            sleep=lambda seconds: elapsed.__setitem__(0, elapsed[0] + seconds),
        )
    # Pauses of 0.1 and 0.2 s fit in the patience; the next one (0.4 s) would not.
    assert attempts == pytest.approx([0.0, 0.1, 0.3])
    calls: list[int] = []

    def refused() -> bool:
        calls.append(1)
        raise ProgrammingError("UPDATE message", {}, Exception("syntax error"))

    with pytest.raises(ProgrammingError):
        claims._retry_while_unreachable(refused, patience=5.0)
    assert calls == [1], "an error that is not about reaching the database is not retried"


def _unreachable() -> OperationalError:
    return OperationalError("UPDATE message", {}, Exception("connection refused"))


def _raise(error: Exception) -> bool:
    raise error
