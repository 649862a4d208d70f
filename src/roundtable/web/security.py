"""Protections around the token pages: headers, rate limits, same-site posts, quiet logs.

An RSVP link is a credential (docs/architecture.md, "RSVP links and tokens"). It must
not leak through the Referer
header, a shared cache, a frame, a log file or a guessing game; and a reply may
only come from the page itself, never from another site's form.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roundtable.config import get_settings

#: Strict enough that an injected ``<script>`` or inline style does nothing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: Pages whose URL holds a token: never kept by a browser or proxy cache.
TOKEN_PATH_PREFIXES = ("/rsvp/",)
#: Answers no cache may keep: token pages, and the API's (invitee data for one staff member).
NO_STORE_PATH_PREFIXES = (*TOKEN_PATH_PREFIXES, "/api/")


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that does not set its own.

    ``csp_exempt`` lists path prefixes (the interactive API docs, which load their
    scripts from a CDN) that get every header except the Content-Security-Policy.
    """

    def __init__(self, app: ASGIApp, csp_exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.csp_exempt = tuple(prefix for prefix in csp_exempt if prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        wanted = dict(SECURITY_HEADERS)
        if path.startswith(self.csp_exempt):
            del wanted["Content-Security-Policy"]
        if path.startswith(NO_STORE_PATH_PREFIXES):
            wanted["Cache-Control"] = "no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in wanted.items():
                    if name.lower().encode("latin-1") not in present:
                        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FailedLookupLimiter:
    """At most ``limit`` failed token lookups per client address in ``window`` seconds.

    In memory and per process: a guesser is slowed, not stopped forever, and a
    restart forgets. Thread-safe (sync endpoints run in a thread pool) and bounded:
    beyond ``max_clients`` addresses, the least recently seen is forgotten.
    """

    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may look up again; 0 when it may now."""
        with self._lock:
            failures = self._recent(client)
            if failures is None or len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - self._clock()) + 1)

    def record_failure(self, client: str) -> None:
        with self._lock:
            failures = self._recent(client)
            if failures is None:
                failures = deque(maxlen=self.limit)
                self._failures[client] = failures
                while len(self._failures) > self.max_clients:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(client)
            failures.append(self._clock())

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures


class ReplyLimiter:
    """Reply POSTs allowed per invitation and per client address in a sliding window.

    A link that leaks (forwarded, posted) must not let one client, or many, post
    reply after reply: each reply can queue mail. In memory and per process, like
    :class:`FailedLookupLimiter` (several server processes each allow as much).
    A client address may stand for a whole building (a mission's or the UN's
    network behind one NAT), so its allowance is a reply a second on average over
    the window: far above a building's delegates, far below a script's pace.
    """

    def __init__(
        self,
        per_invitation: int = 10,
        per_client: int = 600,
        window: float = 600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._invitations = FailedLookupLimiter(per_invitation, window, clock=clock)
        self._clients = FailedLookupLimiter(per_client, window, clock=clock)

    def retry_after(self, invitation_id: int, client: str) -> int:
        """Seconds until another reply is taken for this invitation from this client; 0 now."""
        return max(
            self._invitations.retry_after(str(invitation_id)), self._clients.retry_after(client)
        )

    def record(self, invitation_id: int, client: str) -> None:
        self._invitations.record_failure(str(invitation_id))
        self._clients.record_failure(client)


def cross_site_reason(headers: Mapping[str, str], *, own_origin: str, base_url: str) -> str | None:
    """Why a POST must be refused as coming from another site, or ``None``.

    Browsers say where a request comes from (``Sec-Fetch-Site``, ``Origin``); a
    foreign answer is refused. A client that sends neither (an old browser, a
    script holding the link) is let through: the token in the URL is the credential.
    ``Origin: null`` says nothing: it is what browsers send for the page's own form
    under ``Referrer-Policy: no-referrer``, so it counts as absent.
    """
    if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        return "Sec-Fetch-Site says cross-site"
    origin = headers.get("origin")
    if origin is None or origin.strip().lower() == "null":
        return None
    allowed = {_origin_of(own_origin), _origin_of(base_url)}
    if _origin_of(origin) not in allowed:
        return "Origin is not this site"
    return None


def form_token(invitation_id: int, salt: str) -> str:
    """The hidden field the reply form carries: bound to the invitation and its link."""
    key = get_settings().resolved_secret_key().encode("utf-8")
    message = f"rsvp-form:{invitation_id}:{salt}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def form_token_matches(candidate: str, invitation_id: int, salt: str) -> bool:
    return hmac.compare_digest(candidate.encode("utf-8"), form_token(invitation_id, salt).encode())


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports left out; ``""`` if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


#: Token-like path segments only, so that a format string's ``/rsvp/%s`` stays intact.
_TOKEN_IN_PATH = re.compile(r"(/rsvp/)[A-Za-z0-9_-]{8,}")


def redact_tokens(text: str) -> str:
    """``/rsvp/<token>/…`` becomes ``/rsvp/…/…``: the path stays readable, the token goes."""
    return _TOKEN_IN_PATH.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """Removes RSVP tokens from log records, wherever in the record they are.

    uvicorn's access log passes the path as an argument and its formatter needs
    the arguments as they are, so arguments are redacted one by one. A record
    like ``log.info("/rsvp/%s", token)`` has the token only once formatted; it is
    then replaced by its redacted, formatted message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(value) for value in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redact_value(value) for key, value in record.args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redact_value(value: object) -> object:
    return redact_tokens(value) if isinstance(value, str) else value


redact_tokens_filter = RedactTokens()

#: The loggers that write request lines or errors with the requested path.
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "fastapi", "roundtable")


def configure_logging() -> None:
    """Keep tokens out of the server's logs; safe to call more than once.

    A logger's filter sees only records logged on that very logger, so the filter
    also goes on every handler that exists by then (the root's, uvicorn's), which
    see what child loggers propagate. Call it after uvicorn has configured its
    logging (creating ``uvicorn.Config(...)`` does that) and before serving.
    """
    loggers = [logging.getLogger(name) for name in REDACTED_LOGGERS]
    loggers.append(logging.getLogger())
    for logger in loggers:
        _add_once(logger)
        for handler in logger.handlers:
            _add_once(handler)


def _add_once(target: logging.Filterer) -> None:
    if redact_tokens_filter not in target.filters:
        target.addFilter(redact_tokens_filter)
