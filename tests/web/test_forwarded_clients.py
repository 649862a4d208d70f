"""Client addresses behind a proxy: X-Forwarded-For counts only from trusted proxies.

The server is configured as ``roundtable serve`` configures it; the rate limit on
links that open nothing shows which address each request was counted against.
"""

from __future__ import annotations

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.config import get_settings
from roundtable.serve import proxy_options
from roundtable.web.app import create_app

PROXY = ("10.0.0.5", 40000)
UNKNOWN = "/rsvp/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
LIMIT = 20  # failed lookups per address and minute


def served_app(monkeypatch: pytest.MonkeyPatch, allowed: str | None) -> object:
    if allowed is None:
        monkeypatch.delenv("ROUNDTABLE_FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("ROUNDTABLE_FORWARDED_ALLOW_IPS", allowed)
    get_settings.cache_clear()
    config = uvicorn.Config(create_app(), log_config=None, **proxy_options())
    config.load()
    return config.loaded_app


def statuses_after_one_address_is_limited(app: object) -> tuple[int, int]:
    """The status for the guessing address past its limit, and for another address."""
    with TestClient(app, client=PROXY) as client:  # type: ignore[arg-type]
        guesser = {"X-Forwarded-For": "203.0.113.7"}
        for _ in range(LIMIT):
            assert client.get(UNKNOWN, headers=guesser).status_code == 404
        limited = client.get(UNKNOWN, headers=guesser).status_code
        other = client.get(UNKNOWN, headers={"X-Forwarded-For": "198.51.100.20"}).status_code
    return limited, other


def test_unset_no_proxy_is_trusted(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert proxy_options() == {"proxy_headers": False}
    # Every request counts against the peer: a forged header changes nothing.
    assert statuses_after_one_address_is_limited(served_app(monkeypatch, None)) == (429, 429)


@pytest.mark.parametrize("allowed", ["10.0.0.5", "10.0.0.0/8", "*"])
def test_a_trusted_proxy_passes_the_real_client(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, allowed: str
) -> None:
    app = served_app(monkeypatch, allowed)
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": allowed}
    assert statuses_after_one_address_is_limited(app) == (429, 404)


def test_a_proxy_not_in_the_list_is_not_believed(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = served_app(monkeypatch, "192.0.2.1")
    assert statuses_after_one_address_is_limited(app) == (429, 429)
