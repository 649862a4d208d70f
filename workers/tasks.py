"""Celery tasks: thin wrappers that call the domain. Each takes ids, never objects."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Task
from celery.signals import worker_process_init, worker_process_shutdown

from roundtable import db
from roundtable.delivery.deliver import Outcome, deliver
from roundtable.delivery.dispatch import dispatch
from roundtable.delivery.transport_pool import close_transport, process_transport
from roundtable.types import utcnow
from workers.app import app

log = logging.getLogger(__name__)


@app.task(name="roundtable.send_message", bind=True, max_retries=None, acks_late=True)
def send_message(self: Task, message_id: int) -> str:
    """Send one outbox row; a temporary SMTP failure comes back after a backoff."""
    result = deliver(message_id, process_transport())
    if result.outcome == Outcome.RETRY and result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome.value


@app.task(name="roundtable.dispatch_due", acks_late=False)
def dispatch_due() -> dict[str, Any]:
    """Beat's periodic job: schedule what is due, reclaim lost claims, announce."""
    return dispatch(utcnow()).as_dict()


def enqueue_messages(message_ids: Sequence[int]) -> None:
    """The doorbell with a broker: one small task per message id."""
    for message_id in message_ids:
        send_message.apply_async((message_id,))


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    # A forked child must not share its parent's database or SMTP sockets.
    db.reset_engines()
    close_transport()


@worker_process_shutdown.connect
def _close_on_shutdown(**_: Any) -> None:
    close_transport()
