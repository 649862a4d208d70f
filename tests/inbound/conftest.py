"""Fixtures of the inbound tests: a real Dovecot, and a mailbox of each test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from roundtable.config import get_settings
from tests.inbound.dovecot import DOVECOT, INSTALL, Dovecot, ImapUser


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(f"Dovecot is not installed ({DOVECOT}): {INSTALL}")
    server = Dovecot()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def mailbox(dovecot_server: Dovecot, env: pytest.MonkeyPatch) -> ImapUser:
    """A fresh mailbox; the settings read it, and trust ``mx.roundtable.test``'s results."""
    user = dovecot_server.add_user()
    env.setenv("ROUNDTABLE_INBOUND_URL", user.url)
    env.setenv("ROUNDTABLE_INBOUND_AUTHSERV_ID", "mx.roundtable.test")
    get_settings.cache_clear()
    return user
