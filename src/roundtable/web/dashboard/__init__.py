"""The staff dashboard: sign-in, events and their replies, invitees, the outbox, exports.

Server-rendered pages that work without JavaScript. Every page asks
:mod:`roundtable.web.auth` who is looking; every form posts a CSRF token; every
change is one call to :mod:`roundtable.workflows` (or the staff domain), which
checks the member's rights in the transaction that acts. After a change the
browser is sent on with 303 (post/redirect/get) and a short notice in the query
string says what happened.

One module per group of pages; :mod:`.rendering` holds the Jinja set-up, the
filters and the helpers they share.
"""

from __future__ import annotations

from fastapi import FastAPI

from roundtable.web.auth import REFUSALS, LoginRequired
from roundtable.web.dashboard import (
    desk,
    door,
    event_editor,
    events,
    invitees,
    login,
    mailbox,
    outbox,
    staff,
)
from roundtable.web.dashboard.rendering import denied, to_login


def install(app: FastAPI) -> None:
    """Add the login and dashboard pages and their error pages."""
    # The editor's router first: /dashboard/events/new before /dashboard/events/{slug}.
    for module in (login, event_editor, events, invitees, door, outbox, staff, mailbox, desk):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, to_login)
    for refusal in REFUSALS:  # NotFound → 404, Forbidden → 403, the web's own
        app.add_exception_handler(refusal, denied)
