"""Fixtures of the mail tests: a real SMTP server in the test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.smtp_server import SmtpSink


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1 that records what it receives; see SmtpSink."""
    with SmtpSink() as sink:
        yield sink
