"""Preparing the broker's bell ahead of a large queueing: quiet, in the background, harmless."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import redis

from roundtable.broker import batches, ids_repr, publish_send
from roundtable.config import get_settings
from roundtable.mail import doorbell
from tests.broker import celery_broker
from workers import app as celery_app


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


def _connections_to(client: redis.Redis, url: str) -> int:
    """Clients connected to the database of ``url``."""
    index = int(url.rsplit("/", 1)[1])
    return sum(1 for c in client.client_list() if int(c["db"]) == index)


@pytest.fixture
def broker(env: pytest.MonkeyPatch, redis_url: str) -> Iterator[redis.Redis]:
    """The run's own Redis database as this process's broker; a client to look into it."""
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    get_settings.cache_clear()
    with celery_broker(redis_url):
        yield redis.Redis.from_url(redis_url)


def test_preparing_opens_the_connection_the_next_ring_uses(
    broker: redis.Redis, redis_url: str
) -> None:
    client = broker
    before = _connections_to(client, redis_url)
    thread = doorbell.prepare()
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive()
    prepared = _connections_to(client, redis_url)
    assert prepared > before, "prepared: connected ahead of the ring"
    publish_send([1, 2, 3])
    assert _connections_to(client, redis_url) == prepared, "the ring opened none of its own"
    assert client.llen(celery_app.conf.task_default_queue) == 1, "one task, three rows"


def test_preparing_against_an_unreachable_broker_fails_quietly(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
    env.setenv("ROUNDTABLE_BROKER_URL", closed)
    get_settings.cache_clear()
    with celery_broker(closed), caplog.at_level("DEBUG", logger="roundtable.mail.doorbell"):
        thread = doorbell.prepare()
        assert thread is not None
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert "could not prepare the broker connection" in caplog.text


@pytest.mark.parametrize(
    ("rows", "tasks", "largest"),
    [(3, 1, 3), (10, 2, 5), (2000, 32, 63), (6400, 64, 100), (20000, 200, 100)],
)
def test_a_burst_is_cut_into_about_32_tasks_of_5_to_100_rows(
    rows: int, tasks: int, largest: int
) -> None:
    cut = batches(range(1, rows + 1))
    assert [i for batch in cut for i in batch] == list(range(1, rows + 1)), "each row once"
    assert (len(cut), max(map(len, cut))) == (tasks, largest)


def test_a_task_shows_its_first_ids_and_their_number_and_asks_for_no_result(
    broker: redis.Redis,
) -> None:
    client = broker
    ids = [*range(101, 110), 142]
    publish_send(ids)
    queued = [
        message
        for message in map(json.loads, client.lrange(celery_app.conf.task_default_queue, 0, -1))
        if set(json.loads(base64.b64decode(message["body"]))[0][0]) <= set(ids)
    ]
    assert sorted(m["headers"]["argsrepr"] for m in queued) == [
        "([101, 102, 103, … 5 ids in all],)",
        "([106, 107, 108, … 5 ids in all],)",
    ]
    assert {m["headers"]["ignore_result"] for m in queued} == {True}
    assert ids_repr([5, 6]) == "([5, 6],)"
