"""The staff dashboard: sign-in, events and their replies, invitees, the outbox, exports.

Server-rendered pages that work without JavaScript. Every page asks
:mod:`roundtable.web.auth` who is looking; every form posts a CSRF token; every
change goes through :mod:`roundtable.web.staff_actions` or the domain, in one
transaction. After a change the browser is sent on with 303 (post/redirect/get)
and a short notice in the query string says what happened.

One module per group of pages; :mod:`.rendering` holds the Jinja set-up, the
filters and the helpers they share.
"""

from __future__ import annotations

from fastapi import FastAPI

from roundtable.web.auth import AccessDenied, LoginRequired
from roundtable.web.dashboard import events, invitees, login, outbox, staff
from roundtable.web.dashboard.rendering import denied, to_login


def install(app: FastAPI) -> None:
    """Add the login and dashboard pages and their error pages."""
    # The events' router first: /dashboard/events/new before /dashboard/events/{slug}.
    for module in (login, events, invitees, outbox, staff):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(AccessDenied, denied)
