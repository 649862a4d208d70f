"""The doorbell: how committed outbox rows are announced to whoever sends them.

The broker carries only message ids (docs/architecture.md, "Outbox and delivery");
the rows hold the truth, so a lost ring costs only time: the periodic sweep rings
again for stale rows.
With a broker configured, ringing publishes ``send_messages`` tasks by name
(:mod:`roundtable.broker`; the library never imports the worker package); inside
``roundtable serve`` without a broker, the in-process runner installs itself here.
It sits with the outbox, below ``delivery``, because the outbox rings it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Bell = Callable[[Sequence[int]], None]

_bell: Bell | None = None


def install(bell: Bell | None) -> None:
    """Make ``bell`` receive every ring from now on (``None``: back to the default)."""
    global _bell
    _bell = bell


def installed() -> Bell | None:
    """The bell given to :func:`install`, if any (``None``: the broker's, when configured)."""
    return _bell


def is_listening() -> bool:
    """Whether a ring reaches anyone now; if not, rows wait for the next dispatch instead."""
    return _bell is not None or _default_bell_configured()


def _default_bell_configured() -> bool:
    from roundtable.config import get_settings

    return bool(get_settings().broker_url)


def ring(message_ids: Sequence[int]) -> None:
    """Announce rows that are ready to send. Never raises: the sweep is the safety net."""
    bell = _bell or broker_bell()
    if bell is None:
        return
    try:
        bell(list(message_ids))
    except Exception:
        log.warning(
            "could not announce %d message(s); the sweep will pick them up",
            len(message_ids),
            exc_info=True,
        )


def broker_bell() -> Bell | None:
    """Ringing through the broker (Celery tasks), when one is configured."""
    from roundtable.config import get_settings

    if not get_settings().broker_url:
        return None
    from roundtable.broker import publish_send  # Celery loads only when a broker is used

    return publish_send


def prepare() -> threading.Thread | None:
    """Load the broker's client in the background, ahead of a ring that will follow.

    Importing Celery and the Redis client and connecting take some 0.3 s, once per
    process: a command that queues thousands of rows starts this, does its
    database work meanwhile, and rings a bell that is already warm. Nothing
    depends on it: a ring that comes first simply waits for the import. Returns
    the thread doing it, if there is anything to do.
    """
    if _bell is not None or not _default_bell_configured():
        return None
    thread = threading.Thread(target=_connect_broker_bell, name="doorbell-prepare", daemon=True)
    thread.start()
    return thread


def _connect_broker_bell() -> None:
    try:
        from roundtable.broker import connect

        connect()
    except Exception:
        log.debug("could not prepare the broker connection; the ring will try", exc_info=True)
