"""Running the web application, with the in-process worker when no broker is configured."""

from __future__ import annotations

import logging

import uvicorn

from roundtable.config import get_settings
from roundtable.delivery.local import LocalRunner
from roundtable.web.app import create_app
from roundtable.web.logs import log_config

log = logging.getLogger("roundtable")


def start_local_runner_if_needed() -> LocalRunner | None:
    """Without a broker, this process also sends mail and runs the scheduler."""
    settings = get_settings()
    if settings.broker_url:
        return None
    runner = LocalRunner(workers=2, dispatch_interval=settings.dispatch_interval)
    runner.start()
    return runner


def run_server(*, host: str, port: int, runner: LocalRunner | None = None) -> None:
    """Serve until interrupted; the runner (given or started here) stops with the server."""
    runner = runner or start_local_runner_if_needed()
    try:
        uvicorn.run(
            create_app(),
            host=host,
            port=port,
            log_config=log_config(),
            proxy_headers=True,
            server_header=False,
        )
    finally:
        if runner is not None:
            runner.stop()
