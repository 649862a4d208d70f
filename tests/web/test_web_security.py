"""The protections around token pages, each on its own: limiter, same-site rule, logs."""

from __future__ import annotations

import io
import logging
import logging.config
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from uvicorn.logging import AccessFormatter

from roundtable.config import get_settings
from roundtable.web.app import create_app
from roundtable.web.logs import log_config
from roundtable.web.security import (
    FailedLookupLimiter,
    configure_logging,
    cross_site_reason,
    redact_tokens_filter,
)

TOKEN = "JBYjwctvtHJkTSNTOJrvtbo4Y6-INx5WMNnQG23tIo0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_blocks_after_the_limit_and_forgives_after_the_window() -> None:
    clock = FakeClock()
    limiter = FailedLookupLimiter(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("203.0.113.7") == 0
        limiter.record_failure("203.0.113.7")
        clock.now += 1
    assert 0 < limiter.retry_after("203.0.113.7") <= 60
    assert limiter.retry_after("198.51.100.1") == 0  # others are not affected
    clock.now += 58
    assert limiter.retry_after("203.0.113.7") == 0  # the first failure has aged out


def test_the_limiter_forgets_the_oldest_address_beyond_its_bound() -> None:
    limiter = FailedLookupLimiter(limit=1, window=60, max_clients=2, clock=FakeClock())
    for address in ("a", "b", "c"):
        limiter.record_failure(address)
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("b") > 0 and limiter.retry_after("c") > 0


def test_the_limiter_counts_correctly_from_many_threads() -> None:
    limiter = FailedLookupLimiter(limit=1000, window=60, clock=FakeClock())

    def fail_a_hundred_times() -> None:
        for _ in range(100):
            limiter.record_failure("x")

    threads = [threading.Thread(target=fail_a_hundred_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.retry_after("x") == 0  # 800 < 1000
    for _ in range(200):
        limiter.record_failure("x")
    assert limiter.retry_after("x") > 0


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({}, False),
        ({"sec-fetch-site": "same-origin"}, False),
        ({"sec-fetch-site": "same-site"}, False),
        ({"sec-fetch-site": "none"}, False),
        ({"sec-fetch-site": "cross-site"}, True),
        ({"origin": "https://rsvp.example.org"}, False),
        ({"origin": "https://rsvp.example.org:443"}, False),
        ({"origin": "HTTPS://RSVP.EXAMPLE.ORG"}, False),
        ({"origin": "http://10.0.0.5:8000"}, False),  # the request's own host
        ({"origin": "http://rsvp.example.org"}, True),  # another scheme is another origin
        ({"origin": "https://rsvp.example.org.evil.example"}, True),
        ({"origin": "null"}, False),  # opaque: says nothing either way
        ({"origin": "null", "sec-fetch-site": "same-origin"}, False),
        ({"origin": "null", "sec-fetch-site": "cross-site"}, True),
        ({"origin": "https://evil.example", "sec-fetch-site": "same-origin"}, True),
    ],
)
def test_cross_site_rule(headers: dict[str, str], refused: bool) -> None:
    reason = cross_site_reason(
        headers, own_origin="http://10.0.0.5:8000/", base_url="https://rsvp.example.org/"
    )
    assert (reason is not None) == refused


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """uvicorn's access logger, configured as ``roundtable serve`` configures it."""
    logging.config.dictConfig(log_config())
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    logger = logging.getLogger("uvicorn.access")
    logger.addHandler(handler)
    yield output
    logger.removeHandler(handler)
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "fastapi", "roundtable", ""):
        logging.getLogger(name).removeFilter(redact_tokens_filter)


def test_the_access_log_never_shows_a_token(access_log: io.StringIO) -> None:
    configure_logging()
    logger = logging.getLogger("uvicorn.access")
    for path in (f"/rsvp/{TOKEN}", f"/rsvp/{TOKEN}/invite.ics", f"/rsvp/{TOKEN}?done=1"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)

    lines = access_log.getvalue().splitlines()
    assert len(lines) == 3
    assert TOKEN not in access_log.getvalue()
    assert '"GET /rsvp/… HTTP/1.1" 200' in lines[0]
    assert '"GET /rsvp/…/invite.ics HTTP/1.1" 200' in lines[1]


def test_configure_logging_covers_loggers_set_up_without_uvicorn() -> None:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    logger = logging.getLogger("roundtable")
    logger.addHandler(handler)
    try:
        configure_logging()
        configure_logging()  # twice is harmless
        assert logger.filters.count(redact_tokens_filter) == 1
        logger.warning("reply failed for /rsvp/%s", TOKEN)
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(redact_tokens_filter)
        logging.getLogger().removeFilter(redact_tokens_filter)
    assert output.getvalue() == "reply failed for /rsvp/…\n"


def test_api_docs_are_off_unless_asked_for(sqlite_engine: Engine) -> None:
    """Their scripts come from a CDN the pages' policy forbids: not served by default."""
    with TestClient(create_app()) as client:
        docs, redoc = client.get("/docs"), client.get("/redoc")
        schema = client.get("/openapi.json")
    assert (docs.status_code, redoc.status_code) == (404, 404)
    assert schema.status_code == 200 and schema.json()["paths"]


def test_api_docs_when_asked_for_keep_their_scripts_but_get_the_other_headers(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDTABLE_API_DOCS", "true")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        docs = client.get("/docs")
        health = client.get("/healthz")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers
    assert docs.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in health.headers["content-security-policy"]
    assert "cache-control" not in health.headers
