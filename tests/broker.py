"""Pointing this process's Celery app (the doorbell's producer) at a test's own broker."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import kombu.pools

from workers import app as celery_app


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (the doorbell's producer) at ``url``, then back.

    The app keeps a connection pool made from the URL it first saw; it is dropped
    so that the next publish connects to the new broker.
    """
    previous = celery_app.conf.broker_url
    _switch_broker(url)
    try:
        yield
    finally:
        _switch_broker(previous)


def _switch_broker(url: str) -> None:
    """Forget every pooled broker connection of this process, then use ``url``.

    Kombu keeps its connection and producer pools in registries keyed by the
    broker's address, beside the app's own reference: closing only the app's pool
    would leave a closed one registered, to be handed out the next time a test
    uses that address ("Acquire on closed pool").
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    kombu.pools.reset()
