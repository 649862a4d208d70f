"""PostgreSQL unreachable for three seconds mid-batch: the workers recover, every message arrives.

The workers reach the database through a TCP proxy in this process; cutting it
resets their connections and refuses new ones, as a failover or a network cut
would. The test's own connection goes straight to PostgreSQL, to watch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from roundtable.config import get_settings
from tests.faults import measure
from tests.faults.services import TcpProxy
from tests.faults.stack import Stack, invite, wait_mid_batch
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow

COUNT = 150
OUTAGE = 3.0
#: a worker retries recording a send for half the lease: longer than the outage
LEASE = 10


@pytest.fixture
def proxy(stack: Stack) -> Iterator[TcpProxy]:
    url = make_url(get_settings().database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    yield proxy
    proxy.stop()


def _through(proxy: TcpProxy) -> str:
    url = make_url(get_settings().database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def test_database_cut_for_three_seconds_mid_batch(
    stack: Stack, proxy: TcpProxy, smtp_sink: SmtpSink, started: float
) -> None:
    smtp_sink.delay = 0.03
    stack.configure(claim_lease=str(LEASE))
    stack.worker(database_url=_through(proxy))
    stack.beat()
    ids = invite(COUNT)
    in_flight = wait_mid_batch(stack, smtp_sink, 30)

    cut = proxy.cut()
    received_at_fault = len(smtp_sink.messages)
    time.sleep(OUTAGE)
    proxy.restore()

    stack.wait(lambda: measure.settled(ids), 60, f"all {COUNT} invitations settled")
    result = measure.tally("postgres-drop", ids, smtp_sink, in_flight=in_flight, started=started)

    assert cut > 0, "no worker was connected: the cut proved nothing"
    assert received_at_fault < COUNT, "the fault came after the batch: it proved nothing"
    assert result.received == COUNT
    assert result.unexpected == 0
    # The sends caught by the cut are recorded once the database is back, not repeated.
    assert result.duplicated == 0 <= in_flight
    # A batch claimed just before the cut, but not read, waits for its lease: a second claim.
    assert measure.outbox_problems(ids, max_attempts=2) == []
