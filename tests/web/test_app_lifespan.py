"""What the application prepares before it serves, and undoes when it stops.

A full collection walks every tracked object; in a served process that meant the
whole application (about 175,000 objects, some 90 ms with no request moving). The
application freezes what exists when it starts serving and thaws it when it stops,
so that a test process running many applications keeps nothing frozen after them.
It also opens its connection to the broker before the first request: opened by the
first reply's ring, it held every request in flight for a fifth of a second.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable import broker
from roundtable.config import get_settings
from roundtable.web.app import create_app


def test_serving_freezes_the_startup_objects_and_stopping_thaws_them(engine: Engine) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, "the application's own objects are frozen"
        assert len(gc.get_objects()) < frozen, "a full collection walks far fewer objects"
    assert gc.get_freeze_count() == 0


def _connections_on(url: str) -> set[int]:
    """The ids Redis gives the connections open on the database index of ``url``."""
    client = redis.Redis.from_url(url)
    try:
        index = client.connection_pool.connection_kwargs.get("db", 0)
        me = client.client_id()
        return {
            int(line["id"])
            for line in client.client_list()
            if int(line["db"]) == index and int(line["id"]) != me
        }
    finally:
        client.close()


@contextmanager
def _broker_at(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings name ``url`` as the broker, for a Celery application of the test's own."""
    monkeypatch.setenv("ROUNDTABLE_BROKER_URL", url)
    get_settings.cache_clear()
    broker.celery_app.cache_clear()
    try:
        yield
    finally:
        broker.celery_app.cache_clear()


def test_the_broker_connection_is_open_before_the_first_request(
    engine: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first reply's ring no longer opens it while other requests wait on the interpreter."""
    with _broker_at(redis_url, monkeypatch):
        # No connection left in kombu's pools (shared by every Celery application of the
        # process) for the test's application to reuse.
        kombu.pools.reset()
        before = _connections_on(redis_url)
        with TestClient(create_app()):
            opened = _connections_on(redis_url) - before
            assert opened, "serving began with the broker connected"


def test_a_broker_that_does_not_answer_delays_serving_but_does_not_stop_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with (
        _broker_at(f"redis://127.0.0.1:{port}/0", monkeypatch),
        TestClient(create_app()) as client,
    ):
        assert client.get("/healthz").status_code == 200
