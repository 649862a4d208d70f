"""An SMTP server that takes five seconds per message, longer in all than a claim's lease.

One task carries the whole (small) batch, so the last rows wait their turn for
longer than ``ROUNDTABLE_CLAIM_LEASE`` while their worker is alive and busy. The
sweep must not hand them to another worker: a slow server is not a dead worker.
"""

from __future__ import annotations

import pytest

from tests.faults import measure
from tests.faults.stack import Stack, invite
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow

COUNT = 4
SECONDS_PER_MESSAGE = 5.0
#: longer than one message takes, shorter than the batch takes
LEASE = 8


def test_slow_server_sends_each_message_once(
    stack: Stack, smtp_sink: SmtpSink, started: float
) -> None:
    smtp_sink.delay = SECONDS_PER_MESSAGE
    stack.configure(claim_lease=str(LEASE))
    stack.worker()
    stack.beat()
    ids = invite(COUNT)
    stack.wait(lambda: measure.in_flight() > 0, 30, "the batch to be claimed")
    in_flight = measure.in_flight()

    stack.wait(lambda: measure.settled(ids), 60, f"all {COUNT} invitations settled")
    result = measure.tally("slow-smtp", ids, smtp_sink, in_flight=in_flight, started=started)

    assert in_flight == COUNT, "one task should hold the whole batch"
    assert result.received == COUNT
    assert result.unexpected == 0
    assert result.duplicated == 0
    assert measure.outbox_problems(ids, max_attempts=1) == []
