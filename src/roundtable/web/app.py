"""The web application: RSVP pages for invitees, the dashboard and API for staff."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from roundtable import __version__
from roundtable.config import get_settings
from roundtable.db import get_engine
from roundtable.delivery.bell_thread import BellThread
from roundtable.mail import doorbell
from roundtable.web import api, dashboard, desk_api, door_api, rsvp
from roundtable.web.gate import RequestGate


def create_app() -> FastAPI:
    """Build the application; settings and the database are read from the environment."""
    # The interactive docs load their scripts from a CDN, which the pages' policy
    # forbids: they are served only when asked for. /openapi.json is always there.
    docs = get_settings().api_docs
    app = FastAPI(
        title="Roundtable",
        version=__version__,
        description="Invitation and RSVP workflow for high-level meetings.",
        lifespan=_lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    # Innermost middleware: its early answers (401, 403, 413) still get the security headers.
    app.add_middleware(RequestGate, too_large_pages={"/rsvp/": rsvp.too_large_page})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """200 when the database answers, 503 otherwise (load balancers read the code)."""
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """Browsers ask for it on every first visit; answer without a 404 in their console."""
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    rsvp.install(app)
    dashboard.install(app)
    api.install(app)
    desk_api.install(app)
    door_api.install(app)
    return app


#: seconds the server waits at its start for the broker's connection (see ``_lifespan``)
BROKER_CONNECT_WAIT = 3.0


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """While serving: a bounded thread pool, rings to the broker from a thread of their own
    on a connection opened first, and the collector kept off the objects that live as
    long as the process.

    Pages are mostly Python work, which threads do not run in parallel: a few threads
    serve as many requests as forty, without forty of them queueing for the
    interpreter at once.
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
    broker = doorbell.broker_bell() if doorbell.installed() is None else None
    if broker is not None and (connecting := doorbell.prepare()) is not None:
        # The broker's connection opened now, before the first request, rather than by
        # the first reply's ring: that took the interpreter from every request in
        # flight for a fifth of a second. A broker that does not answer delays serving
        # by at most this long; the ring tries again when it comes.
        await anyio.to_thread.run_sync(connecting.join, BROKER_CONNECT_WAIT)
    bell = BellThread(broker) if broker is not None else None
    if bell is not None:
        doorbell.install(bell)
    # What is alive now (modules, the app, its templates and engines) lives as long as the
    # process: out of the collector's sight, a full collection no longer walks it. With it,
    # one took about 90 ms, during which no request moved: the slowest replies of a burst.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if bell is not None:
            doorbell.install(None)
            bell.close()
