"""A batch composes its next messages in one go (delivery/ahead.py): same messages, same outcomes.

Time is a clock the tests move, as in test_claims_and_leases: a slow server is one
that moves the clock on as it sends.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any, Self

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from roundtable.db import write_session
from roundtable.delivery import ahead, policy
from roundtable.delivery.compose import MessageBundle, compose
from roundtable.delivery.deliver import Outcome, deliver_batch
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.people.model import Contact
from roundtable.types import utcnow
from tests.delivery.test_claims_and_leases import Clock, _queued


class ClockedTransport:
    """Takes ``seconds`` of ``clock`` per message; keeps each message with its send's moment."""

    def __init__(self, seconds: float, clock: Clock) -> None:
        self.seconds = seconds
        self.clock = clock
        self.sent: list[tuple[datetime, EmailMessage]] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append((self.clock(), message))
        self.clock.advance(self.seconds)

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _date(message: EmailMessage) -> datetime:
    return parsedate_to_datetime(str(message["Date"]))


def _deliver(ids: list[int], seconds: float) -> tuple[list[Outcome], ClockedTransport]:
    """Deliver these rows as one batch, each send taking ``seconds``; outcomes in row order."""
    clock = Clock()
    transport = ClockedTransport(seconds, clock)
    results = deliver_batch(ids, transport, clock=clock)
    return [results[i].outcome for i in ids], transport


@pytest.fixture
def composed(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How many times each row's message is composed (the real composer, counted)."""
    counts: Counter[int] = Counter()

    def counting_compose(bundle: MessageBundle, *args: Any, **kwargs: Any) -> EmailMessage:
        assert bundle.message.id is not None
        counts[bundle.message.id] += 1
        return compose(bundle, *args, **kwargs)

    monkeypatch.setattr(ahead, "compose", counting_compose)
    return counts


def test_a_fast_batch_is_composed_a_few_first_then_the_rest_in_one_go(
    engine: Engine, composed: Counter[int]
) -> None:
    count = policy.FIRST_COMPOSED_AHEAD + 5
    ids = _queued(count)
    outcomes, transport = _deliver(ids, 0.1)
    assert outcomes == [Outcome.SENT] * count
    # Each one composed once, at the turn of the first or of the first after the few.
    assert set(composed.values()) == {1}
    first, rest = transport.sent[0][0], transport.sent[policy.FIRST_COMPOSED_AHEAD][0]
    dates = [_date(message) for _, message in transport.sent]  # whole seconds
    assert (
        dates
        == [first.replace(microsecond=0)] * policy.FIRST_COMPOSED_AHEAD
        + [rest.replace(microsecond=0)] * 5
    )
    recipients = [str(message["To"]) for _, message in transport.sent]
    assert len(set(recipients)) == count, "each message is its own invitee's"


def test_behind_a_slow_server_no_message_is_older_than_allowed_when_sent(engine: Engine) -> None:
    ids = _queued(6)
    # Two seconds a message: the ones composed with the first would be 10 s old by the last.
    outcomes, transport = _deliver(ids, 2.0)
    assert outcomes == [Outcome.SENT] * 6
    ages = [sent_at - _date(message) for sent_at, message in transport.sent]
    # Date drops the fraction of a second: a message may look up to a second older.
    assert all(
        timedelta(0) <= age <= policy.COMPOSED_FRESH_FOR + timedelta(seconds=1) for age in ages
    ), ages
    composed = sorted({_date(message) for _, message in transport.sent})
    assert len(composed) > 1, "the later messages were composed again, closer to their send"


def test_a_message_that_cannot_be_composed_fails_on_its_own_turn_alone(engine: Engine) -> None:
    ids = _queued(4)
    broken = ids[2]
    with write_session() as session:
        # A confirmation whose context no composer reads: a producer bug, found at send time.
        session.execute(
            update(Message)
            .where(col(Message.id) == broken)
            .values(kind="confirmation", mailing="confirmation:1", context={"response": "maybe"})
        )
    clock = Clock()
    transport = ClockedTransport(0.0, clock)
    results = deliver_batch(ids, transport, clock=clock)
    assert [results[i].outcome for i in ids] == [
        Outcome.SENT,
        Outcome.SENT,
        Outcome.FAILED,
        Outcome.SENT,
    ]
    assert "could not compose the message: ValueError" in results[broken].detail
    assert "'maybe'" in results[broken].detail
    assert len(transport.sent) == 3


def test_rows_that_no_longer_apply_are_dropped_not_composed(
    engine: Engine, composed: Counter[int]
) -> None:
    ids = _queued(4)
    with write_session() as session:
        invitation = session.get_one(Invitation, session.get_one(Message, ids[1]).invitation_id)
        session.execute(
            update(Contact)
            .where(col(Contact.id) == invitation.contact_id)
            .values(bounced_at=utcnow())
        )
    outcomes, transport = _deliver(ids, 0.0)
    assert outcomes == [Outcome.SENT, Outcome.DROPPED, Outcome.SENT, Outcome.SENT]
    assert len(transport.sent) == 3
    assert set(composed) == {ids[0], ids[2], ids[3]}


def test_a_message_composed_ahead_is_fresh_only_for_a_while() -> None:
    composed = datetime(2026, 9, 22, 14, 0)
    assert policy.composed_recently(composed, composed)
    assert policy.composed_recently(composed, composed + policy.COMPOSED_FRESH_FOR)
    assert not policy.composed_recently(
        composed, composed + policy.COMPOSED_FRESH_FOR + timedelta(microseconds=1)
    )
    assert not policy.composed_recently(None, composed)


def test_behind_a_slow_server_messages_are_not_composed_over_and_over(
    engine: Engine, composed: Counter[int]
) -> None:
    ids = _queued(12)
    outcomes, _ = _deliver(ids, 2.0)
    assert outcomes == [Outcome.SENT] * 12
    # Three went out within the freshness of the first composition: from then on, three
    # at a time. Composing all the rest again each time would compose some 3 or 4 times.
    assert max(composed.values()) == 2, composed
    assert sum(composed.values()) == policy.FIRST_COMPOSED_AHEAD + 9
