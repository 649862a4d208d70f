"""The SMTP server hangs up in the middle of DATA: every message arrives, duplicates only if due.

Most cut transfers stop partway through the message: the server never had it,
the worker sees the connection die, requeues, and sends it once more. Two are
cut after the whole message was received but before the server said so: the
server keeps them, the worker cannot know, and the resend is a duplicate. That
is SMTP's own limit, and the only duplicates allowed.
"""

from __future__ import annotations

import pytest

from tests.faults import measure
from tests.faults.stack import Stack, invite, recipient_number, wait_mid_batch
from tests.mail.smtp_server import DataDrop, SmtpSink

pytestmark = pytest.mark.slow

COUNT = 80


def _cut(recipient: str, attempt: int) -> DataDrop | None:
    """First attempts only: the last two after the data, every fifth one partway."""
    number = recipient_number(recipient)
    if attempt != 1:
        return None
    if number >= COUNT - 2:
        return "after-data"
    return "partway" if number % 5 == 0 else None


def test_connection_dropped_mid_data_loses_nothing(
    stack: Stack, smtp_sink: SmtpSink, started: float
) -> None:
    smtp_sink.delay = 0.02
    stack.worker()
    stack.beat()
    ids = invite(COUNT)
    wait_mid_batch(stack, smtp_sink, 15)

    smtp_sink.drop_data = _cut
    received_at_fault = len(smtp_sink.messages)
    stack.wait(lambda: measure.settled(ids), 60, f"all {COUNT} invitations settled")
    # Each cut catches the one message whose transfer it interrupts.
    cut = smtp_sink.dropped
    result = measure.tally("smtp-drop-mid-data", ids, smtp_sink, in_flight=cut, started=started)

    assert received_at_fault < COUNT - 2, "the fault came after the batch: it proved nothing"
    assert cut >= 2 + 5, "too few transfers were cut to prove anything"
    assert result.received == COUNT
    assert result.unexpected == 0
    assert result.duplicated == 2 <= cut, "exactly the two cut after the data arrive twice"
    assert measure.outbox_problems(ids, max_attempts=2) == []
