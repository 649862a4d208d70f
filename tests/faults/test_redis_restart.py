"""Redis killed mid-batch and started again empty: the sweep announces everything again.

Every task in the broker is lost (queued, reserved, waiting for a retry), but the
outbox rows are not: the periodic dispatch re-announces the rows announced too
long ago, and the worker, which reconnects on its own, sends them.
"""

from __future__ import annotations

import time

import pytest

from tests.faults import measure
from tests.faults.services import PrivateRedis
from tests.faults.stack import Stack, invite, wait_mid_batch
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow

COUNT = 150


def test_redis_restarted_empty_mid_batch_loses_nothing(
    stack: Stack, private_redis: PrivateRedis, smtp_sink: SmtpSink, started: float
) -> None:
    smtp_sink.delay = 0.03  # about 2 s of sending for two worker processes: room for a fault
    stack.worker()
    stack.beat()
    ids = invite(COUNT)
    in_flight = wait_mid_batch(stack, smtp_sink, 30)

    private_redis.set("before-the-fault")
    private_redis.kill()
    received_at_fault = len(smtp_sink.messages)
    time.sleep(1)
    private_redis.start()
    assert not private_redis.has("before-the-fault"), "Redis came back with its data"

    stack.wait(lambda: measure.settled(ids), 60, f"all {COUNT} invitations settled")
    result = measure.tally("redis-restart", ids, smtp_sink, in_flight=in_flight, started=started)

    assert received_at_fault < COUNT, "the fault came after the batch: it proved nothing"
    assert result.received == COUNT
    assert result.unexpected == 0
    # No process died: nothing was cut mid-send, so nothing may arrive twice.
    assert result.duplicated == 0
    assert measure.outbox_problems(ids, max_attempts=1) == []
