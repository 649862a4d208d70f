"""Beat's mailbox task run by a real Celery worker on Redis, against PostgreSQL and Dovecot."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy.engine import Engine

from roundtable.broker import INBOUND_FETCH
from roundtable.config import get_settings
from roundtable.invitations.model import Status
from tests.inbound import support
from tests.inbound.dovecot import ImapUser
from tests.inbound.test_inbound_fetch import _status
from workers import app as celery_app

pytestmark = pytest.mark.slow


def test_the_worker_task_applies_a_reply(
    pg_engine: Engine,
    redis_url: str,
    mailbox: ImapUser,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.calendar_reply(sent, "ACCEPTED", "outlook"))
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    get_settings.cache_clear()
    celery_app.conf.broker_url = redis_url
    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    ):
        celery_app.send_task(INBOUND_FETCH)
        deadline = time.monotonic() + 30
        while _status(sent.address) != Status.ACCEPTED and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _status(sent.address) == Status.ACCEPTED
    assert mailbox.folder("INBOX") == []
