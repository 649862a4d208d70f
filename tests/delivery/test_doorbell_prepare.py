"""Preparing the broker's bell ahead of a large queueing: quiet, in the background, harmless."""

from __future__ import annotations

import threading

import pytest
import redis

from roundtable.config import get_settings
from roundtable.delivery import doorbell
from workers import app as celery_app
from workers.tasks import enqueue_messages


def test_nothing_to_prepare_without_a_broker_or_with_a_bell_installed(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("ROUNDTABLE_BROKER_URL", "")
    get_settings.cache_clear()
    assert doorbell.prepare() is None
    env.setenv("ROUNDTABLE_BROKER_URL", "redis://127.0.0.1:6379/0")
    get_settings.cache_clear()
    doorbell.install(lambda ids: None)
    try:
        assert doorbell.prepare() is None, "an installed bell needs no broker"
    finally:
        doorbell.install(None)


def test_the_prepared_connection_carries_the_next_ring(
    env: pytest.MonkeyPatch, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    get_settings.cache_clear()
    monkeypatch.setattr(celery_app.conf, "broker_url", redis_url)
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: failures.append(hook.exc_value))
    thread = doorbell.prepare()
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive() and failures == []
    enqueue_messages([1, 2, 3])
    queued = redis.Redis.from_url(redis_url).llen(celery_app.conf.task_default_queue)
    assert queued == 1, "one task for the three rows"
