"""A worker killed with SIGKILL mid-batch: a new worker finishes, nothing is lost.

The worker runs as a separate process, started the way an operator starts one
(``celery -A workers worker``), so that the kill is a real one.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.delivery.dispatch import dispatch
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow
from roundtable.workflows.sending import send_invitations
from tests.integration.pipeline import (
    ROOT,
    SLUG,
    create_invitees,
    kill_group,
    start_worker,
    wait_for,
)
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow


@pytest.fixture
def worker_env(
    pg_engine: Engine, redis_url: str, smtp_sink: SmtpSink, env: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    env.setenv("ROUNDTABLE_MAIL_URL", f"smtp://127.0.0.1:{smtp_sink.port}")
    env.setenv("ROUNDTABLE_CLAIM_LEASE", "4")
    env.setenv("ROUNDTABLE_REANNOUNCE_AFTER", "2")
    get_settings.cache_clear()
    yield {**os.environ, "PYTHONPATH": str(ROOT)}


def _sending_now() -> int:
    with read_session() as session:
        return int(
            session.exec(select(func.count()).where(Message.status == MessageStatus.SENDING)).one()
        )


def test_sigkill_mid_batch_loses_nothing(
    worker_env: dict[str, str], smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    smtp_sink.delay = 0.01  # slow enough that the kill lands mid-batch
    create_invitees(500)
    log = tmp_path / "worker.log"
    first = start_worker(worker_env, log)
    try:
        send_invitations(SLUG, now=utcnow())
        wait_for(
            lambda: len(smtp_sink.messages) >= 100,
            60,
            "the first 100 deliveries",
            tick=lambda: first.poll() is None or pytest.fail(log.read_text()),
        )
    finally:
        kill_group(first)
    in_flight = _sending_now()
    received_at_kill = len(smtp_sink.messages)
    assert received_at_kill < 500, "the kill came too late to prove anything"

    second = start_worker(worker_env, log)
    try:
        # What beat does every interval: reclaim lost claims and announce what is due.
        wait_for(
            lambda: _invitations_sent() == 500,
            120,
            "all 500 invitations sent",
            tick=lambda: (dispatch(utcnow()), time.sleep(0.5)),
        )
    finally:
        kill_group(second)

    counts = Counter(m.recipients[0] for m in smtp_sink.messages)
    assert len(counts) == 500, "every invitee received the invitation"
    duplicates = sum(n - 1 for n in counts.values())
    print(
        f"\nSIGKILL: expected 500, received {len(smtp_sink.messages)}, duplicated "
        f"{duplicates}, in flight at the kill {in_flight}, received before it {received_at_kill}"
    )
    assert duplicates <= in_flight, (duplicates, in_flight)


def _invitations_sent() -> int:
    with read_session() as session:
        return int(
            session.exec(
                select(func.count()).where(
                    Message.kind == "invitation", Message.status == MessageStatus.SENT
                )
            ).one()
        )
