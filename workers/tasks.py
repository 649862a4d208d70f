"""Celery tasks: thin wrappers that call the domain. Each takes ids, never objects."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections import Counter
from typing import Any

from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from roundtable import db
from roundtable.broker import DISPATCH_DUE, INBOUND_FETCH, SEND_MESSAGES, publish_send
from roundtable.config import SecretKeyMissing
from roundtable.delivery.deliver import Outcome, deliver_batch
from roundtable.delivery.dispatch import dispatch
from roundtable.delivery.transport_pool import close_transport, process_transport
from roundtable.installation.service import KeyMismatch, check_secret_key
from roundtable.mail import render
from roundtable.migrate import SchemaNotReady, require_current_schema
from roundtable.types import utcnow
from roundtable.workflows.inbound import fetch_if_configured
from workers.app import app

log = logging.getLogger(__name__)


#: seconds a task keeps starting new sends, well inside its soft time limit (app.py)
SEND_FOR = 90.0


@app.task(name=SEND_MESSAGES, acks_late=True)
def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send these outbox rows; each temporary SMTP failure comes back alone after a backoff."""
    results = deliver_batch(message_ids, process_transport(), send_for=SEND_FOR)
    for message_id, result in results.items():
        if result.outcome == Outcome.RETRY and result.retry_in is not None:
            # Backoffs stay in minutes, far below the broker's visibility timeout.
            send_messages.apply_async(([message_id],), countdown=result.retry_in)
    released = [i for i, result in results.items() if result.outcome == Outcome.RELEASED]
    if released:
        publish_send(released)  # a slow server: the rest of the batch goes round again
    return dict(Counter(result.outcome.value for result in results.values()))


@app.task(name=DISPATCH_DUE, acks_late=False)
def dispatch_due() -> dict[str, Any]:
    """Beat's periodic job: schedule what is due, reclaim lost claims, announce."""
    return dispatch(utcnow()).as_dict()


@app.task(name=INBOUND_FETCH, acks_late=False)
def inbound_fetch() -> dict[str, object]:
    """Beat's job: read the mailbox once (docs/architecture.md, "Hearing back")."""
    return fetch_if_configured()


@worker_init.connect
def _warm_up_before_fork(**_: Any) -> None:
    # In the parent, before the pool forks: every child starts with compiled templates
    # and the database driver loaded (its import took each child 0.1 s on its first
    # message). The engine opens no connection here; children make their own.
    render.warm_up()
    _refuse_another_key()
    db.get_engine()
    # What the parent holds now is shared with every child: keep the collector from
    # writing to those objects (which would copy their pages into each child).
    gc.freeze()


def _refuse_another_key() -> None:
    """A worker on a database not migrated would fail on every message; with a key other
    than the database's it would send links that answer 404."""
    try:
        require_current_schema()
        check_secret_key()
    except (SchemaNotReady, KeyMismatch, SecretKeyMissing) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        os._exit(1)  # Celery would catch SystemExit here and go on starting
    # No connection of the parent's may outlive the fork into the children.
    db.reset_engines()


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    # A forked child must not share its parent's database or SMTP sockets.
    db.reset_engines()
    close_transport()
    db.connect_early()


@worker_process_shutdown.connect
def _close_on_shutdown(**_: Any) -> None:
    close_transport()
