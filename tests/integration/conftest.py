"""The whole delivery stack on real services: PostgreSQL, Redis, Celery, an SMTP server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import START_REDIS


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database index of this run's own, emptied before and after."""
    index = 1 + os.getpid() % 14
    url = f"redis://127.0.0.1:6379/{index}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({exc}); start it: {START_REDIS}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
