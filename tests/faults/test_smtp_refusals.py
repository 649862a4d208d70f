"""The SMTP server refuses mid-batch, with 421 (closing) or 451 (try later): all arrive, once.

A refusal comes before any of the message is sent, so it can never cause a
duplicate: each refused message is requeued with a backoff (about five seconds)
and sent on its second attempt, once the refusals have cleared.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import col, select

from roundtable.db import read_session
from roundtable.mail.model import Message
from tests.faults import measure
from tests.faults.stack import Stack, invite, wait_mid_batch
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow

COUNT = 80
#: how long the server keeps refusing: shorter than the first backoff (3.75 s at least)
WINDOW = 2.0


def _closing_for_a_while(sink: SmtpSink) -> None:
    """421 to every MAIL and every new connection for WINDOW seconds: a server shutting down."""
    sink.refuse_connections(seconds=WINDOW)


def _try_later_once(sink: SmtpSink) -> None:
    """451 to the first RCPT of every recipient from now on: greylisting, in effect."""
    sink.rule = lambda recipient, attempt: 451 if attempt == 1 else None


@pytest.mark.parametrize(
    ("fault", "strike"),
    [
        pytest.param("smtp-421", _closing_for_a_while, id="421"),
        pytest.param("smtp-451", _try_later_once, id="451"),
    ],
)
def test_refusals_delay_but_every_message_arrives_once(
    stack: Stack,
    smtp_sink: SmtpSink,
    started: float,
    fault: str,
    strike: Callable[[SmtpSink], None],
) -> None:
    smtp_sink.delay = 0.02
    stack.worker()
    stack.beat()
    ids = invite(COUNT)
    in_flight = wait_mid_batch(stack, smtp_sink, 15)
    strike(smtp_sink)
    received_at_fault = len(smtp_sink.messages)

    stack.wait(lambda: measure.settled(ids), 60, f"all {COUNT} invitations settled")
    result = measure.tally(fault, ids, smtp_sink, in_flight=in_flight, started=started)

    assert received_at_fault < COUNT, "the fault came after the batch: it proved nothing"
    with read_session() as session:
        retried = session.exec(
            select(Message.id).where(col(Message.id).in_(ids), Message.attempts == 2)
        ).all()
    assert retried, "no message was refused: the fault proved nothing"
    assert result.received == COUNT
    assert result.unexpected == 0
    assert result.duplicated == 0
    assert measure.outbox_problems(ids, max_attempts=2) == []
