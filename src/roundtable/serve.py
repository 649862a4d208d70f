"""Running the web application, with the in-process worker when no broker is configured."""

from __future__ import annotations

import logging
import threading
from typing import Any

import uvicorn

from roundtable.config import get_settings
from roundtable.delivery.local import LocalRunner
from roundtable.web.app import create_app
from roundtable.web.logs import log_config
from roundtable.workflows.inbound import poll

log = logging.getLogger("roundtable")


def start_local_runner_if_needed() -> LocalRunner | None:
    """Without a broker, this process also sends mail and runs the scheduler."""
    settings = get_settings()
    if settings.broker_url:
        return None
    runner = LocalRunner(workers=2, dispatch_interval=settings.dispatch_interval)
    runner.start()
    return runner


def start_inbound_poller_if_needed() -> threading.Event | None:
    """Without a broker and with a mailbox, this process also reads the mailbox (beat's job).

    Returns the event that stops the thread.
    """
    settings = get_settings()
    if settings.broker_url or not settings.inbound_url:
        return None
    stop = threading.Event()
    threading.Thread(
        target=poll, args=(stop, settings.inbound_interval), name="roundtable-inbound", daemon=True
    ).start()
    return stop


def proxy_options() -> dict[str, Any]:
    """uvicorn's proxy settings: believe X-Forwarded-For only from the configured proxies.

    Unset, no proxy is trusted: ``request.client`` is the peer, and a client cannot
    pick the address its rate limits are counted against by sending the header.
    """
    allowed = (get_settings().forwarded_allow_ips or "").strip()
    if not allowed:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": allowed}


def run_server(*, host: str, port: int, runner: LocalRunner | None = None) -> None:
    """Serve until interrupted; the runner (given or started here) stops with the server."""
    runner = runner or start_local_runner_if_needed()
    inbound = start_inbound_poller_if_needed()
    try:
        uvicorn.run(
            create_app(),
            host=host,
            port=port,
            log_config=log_config(),
            server_header=False,
            **proxy_options(),
        )
    finally:
        if inbound is not None:
            inbound.set()
        if runner is not None:
            runner.stop()
