"""Limits before work: body sizes and credentials are checked before a body is read.

A request's body costs memory and time only once something reads it. This
middleware sits in front of every route and decides, from the request line and
headers alone, whether a body may be read at all:

- a declared ``Content-Length`` beyond the route's limit answers 413 at once, and
  a streamed (chunked) body is counted as it arrives: once past the limit the
  application stops receiving and the answer is 413, so no more than the limit is
  ever held;
- the API checks the bearer token first (401) and a viewer's change (403), so an
  anonymous or read-only caller never gets a body parsed;
- a dashboard form posted without a valid session goes to the login page, as it
  would have after reading the form, but without reading it.

The routes themselves still check everything (CSRF, roles per event): the gate
only refuses early what would be refused anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roundtable.web.auth import (
    DOCUMENT_FORM_PATH,
    NO_TOKEN,
    UNAUTHORIZED_HEADERS,
    UNKNOWN_TOKEN,
    bearer_credentials,
    current_visitor,
    login_url,
    member_for_token,
    stash_api_member,
)

KIB = 1024
MIB = 1024 * KIB

API_PREFIX = "/api/v1"
#: JSON documents of the API: an event, a page of invitees, a reply.
MAX_API_BODY = 1 * MIB
#: The largest invitee file the dashboard imports.
MAX_UPLOAD_BYTES = 5 * MIB
#: Room for the multipart framing and the form's other fields around the file.
MULTIPART_OVERHEAD = 64 * KIB
#: Login, dashboard and RSVP forms: a few fields.
MAX_FORM_BODY = 64 * KIB
#: The dashboard's forms that carry a whole document (an event file of up to 1 MB, the
#: recommendations), percent-encoded: up to three bytes on the wire for each byte of text.
#: Only a signed-in member gets this far: the session is checked before the body is read.
MAX_DOCUMENT_FORM_BODY = 4 * MIB

_UPLOAD_PATH = re.compile(r"/dashboard/events/[^/]+/import")
_DOCUMENT_PATH = DOCUMENT_FORM_PATH
#: Methods that only read; a viewer may use them on the API.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RouteClass(StrEnum):
    API = "api"
    UPLOAD = "upload"
    DOCUMENT = "document"
    FORM = "form"


LIMITS = {
    RouteClass.API: MAX_API_BODY,
    RouteClass.UPLOAD: MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD,
    RouteClass.DOCUMENT: MAX_DOCUMENT_FORM_BODY,
    RouteClass.FORM: MAX_FORM_BODY,
}


def route_class(path: str) -> RouteClass:
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return RouteClass.API
    if _UPLOAD_PATH.fullmatch(path):
        return RouteClass.UPLOAD
    if _DOCUMENT_PATH.fullmatch(path):
        return RouteClass.DOCUMENT
    return RouteClass.FORM


def needs_session(method: str, path: str) -> bool:
    """Dashboard changes (and signing out) need a signed-in session; ``/login`` does not."""
    return method == "POST" and (path == "/logout" or path.startswith("/dashboard"))


class BodyTooLarge(Exception):
    """Raised into the application when a streamed body passes its limit."""


@dataclass
class _Exchange:
    """What the gate learns while the application runs."""

    too_large: bool = False
    started: bool = False


#: Renders the 413 page of the paths under a prefix, for people who need more than a line.
TooLargePage = Callable[[Request], Response]


class RequestGate:
    """Pure ASGI: nothing is buffered, and refusals never touch ``receive``.

    ``too_large_pages`` maps path prefixes to their own 413 page (the invitee's
    reply page explains itself in the invitee's terms); elsewhere the answer is a
    line of text, or JSON on the API.
    """

    def __init__(
        self, app: ASGIApp, too_large_pages: Mapping[str, TooLargePage] | None = None
    ) -> None:
        self.app = app
        self.too_large_pages = dict(too_large_pages or {})

    def _too_large(self, scope: Scope, kind: RouteClass, limit: int) -> Response:
        path: str = scope["path"]
        for prefix, page in self.too_large_pages.items():
            if path.startswith(prefix):
                response = page(Request(scope))
                # The unread rest of the body must not be taken for a next request.
                response.headers["Connection"] = "close"
                return response
        return _too_large(kind, limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind = route_class(path)
        limit = LIMITS[kind]
        refusal = self._too_large(scope, kind, limit) if _declared_over(scope, limit) else None
        if refusal is None and kind is RouteClass.API:
            refusal = await _api_gate(scope)
        elif refusal is None and needs_session(scope["method"], path):
            refusal = await _session_gate(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._run_counted(scope, receive, send, kind, limit)

    async def _run_counted(
        self, scope: Scope, receive: Receive, send: Send, kind: RouteClass, limit: int
    ) -> None:
        exchange = _Exchange()
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exchange.too_large = True
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the application made of the interrupted body (a 400, an
            # error page), the answer is 413; its own messages are dropped.
            if exchange.too_large:
                if not exchange.started:
                    exchange.started = True
                    await self._too_large(scope, kind, limit)(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                exchange.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exchange.too_large:
                raise
            if not exchange.started:
                exchange.started = True
                await self._too_large(scope, kind, limit)(scope, receive, send)


def _declared_over(scope: Scope, limit: int) -> bool:
    declared = Headers(scope=scope).get("content-length")
    if declared is None:
        return False
    try:
        return int(declared) > limit
    except ValueError:
        return False  # the server refuses malformed lengths itself


def _too_large(kind: RouteClass, limit: int) -> Response:
    size = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit // KIB} KiB"
    detail = f"the request body is larger than this address takes ({size})"
    headers = {"Connection": "close"}
    if kind is RouteClass.API:
        return JSONResponse({"detail": detail}, status_code=413, headers=headers)
    return PlainTextResponse(detail[0].upper() + detail[1:] + ".", 413, headers=headers)


async def _api_gate(scope: Scope) -> Response | None:
    """401 without a valid token, 403 for a role that may not change; else ``None``.

    The token is looked up in a worker thread (a database read must not block the
    loop); the member found is kept on the request so the route does not look again.
    """
    token = bearer_credentials(Headers(scope=scope).get("authorization"))
    if token is None:
        return _unauthorized(NO_TOKEN)
    member = await anyio.to_thread.run_sync(member_for_token, token)
    if member is None:
        return _unauthorized(UNKNOWN_TOKEN)
    if scope["method"] not in READ_METHODS and not member.may_write:
        detail = f"your role ({member.role}) may not change anything"
        return JSONResponse({"detail": detail}, status_code=403)
    stash_api_member(scope, member)
    return None


def _unauthorized(detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=401, headers=UNAUTHORIZED_HEADERS)


async def _session_gate(scope: Scope) -> Response | None:
    request = Request(scope)
    visitor = await anyio.to_thread.run_sync(current_visitor, request)
    if visitor is not None:
        return None
    return RedirectResponse(login_url(scope["path"]), status_code=303)
