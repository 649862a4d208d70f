"""Fixtures of the fault tests: the whole delivery stack as processes, on services we may break.

Every test gets a Redis of its own (so that killing it harms nobody), the run's
throwaway PostgreSQL database, an SMTP sink in this process, and a :class:`Stack`
that starts ``celery -A workers worker`` and ``beat`` the way an operator does.
Sweeps run every second and leases are short, so that recovery takes seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.broker import celery_broker
from tests.faults.services import PrivateRedis
from tests.faults.stack import FAST, Stack
from tests.mail.smtp_server import SmtpSink


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def stack(
    pg_engine: Engine,
    private_redis: PrivateRedis,
    smtp_sink: SmtpSink,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Stack]:
    """The settings pointed at the services of this test; processes started by the test."""
    stack = Stack(tmp_path, env)
    stack.configure(broker_url=private_redis.url, mail_url=smtp_sink.url, **FAST)
    with celery_broker(private_redis.url):
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def started() -> float:
    """When the test began, for the report's seconds."""
    return time.monotonic()
