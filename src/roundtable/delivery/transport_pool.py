"""One mail transport per process (per thread in the in-process runner), opened lazily."""

from __future__ import annotations

import contextlib
import threading

from roundtable.config import get_settings
from roundtable.mail.transports import Transport, open_transport

_local = threading.local()


def process_transport() -> Transport:
    """This thread's transport to the configured mail URL, kept open between messages."""
    transport: Transport | None = getattr(_local, "transport", None)
    if transport is None:
        settings = get_settings()
        transport = open_transport(settings.mail_url, rate=settings.mail_rate)
        _local.transport = transport
    return transport


def close_transport() -> None:
    transport: Transport | None = getattr(_local, "transport", None)
    _local.transport = None
    if transport is not None:
        # Closing a dead connection must not fail a shutdown.
        with contextlib.suppress(Exception):
            transport.close()
