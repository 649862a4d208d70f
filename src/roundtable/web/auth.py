"""Who is asking, on the web: staff sessions, CSRF, bearer tokens, and refusals as HTTP.

Pages use a signed session cookie (itsdangerous, keyed with the application's
secret): it holds the staff id and a per-session CSRF token that every form
carries back. The API uses bearer tokens from ``roundtable staff token``. Both end
in the same :class:`~roundtable.staff.permissions.StaffMember`; what it may do is
decided by :mod:`roundtable.staff.permissions`, whose ``NotFound`` answers 404 (as
if the event did not exist) and ``Forbidden`` 403.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import HTTPException, Path, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.errors import NotFound
from roundtable.staff.model import StaffUser
from roundtable.staff.permissions import (
    Forbidden,
    StaffMember,
    event_for,
    member_of,
    require_event_creator,
    require_writer,
)

# Re-exported for the pages and their tests: signing in is the staff domain's.
from roundtable.staff.signin import authenticate, end_sessions
from roundtable.staff.signin import member_for_token as live_member_for_token
from roundtable.web.schemas import SLUG_PATTERN

__all__ = ["authenticate", "end_sessions"]
from roundtable.types import utcnow

SESSION_COOKIE = "roundtable_staff"
SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD = "csrf_token"
#: One message for every failed sign-in (wrong password, unknown address, disabled account,
#: too many attempts), so that nobody learns which addresses have accounts.
LOGIN_FAILED = (
    "The email address and password do not match an account that can sign in now. "
    "After repeated failures, further attempts must wait a little longer each time."
)
#: Forms carry at most one file (the invitee import) and a handful of fields.
MAX_FORM_FIELDS = 50
#: The forms that carry a whole document: the event form has some fifty fields (its
#: translations among them) and five a row of agenda; the gate caps their bytes.
DOCUMENT_FORM_PATH = re.compile(r"/dashboard/events/(?:new|[^/]+/edit|[^/]+/recommendations)")
MAX_DOCUMENT_FORM_FIELDS = 1000


# --- who is asking -------------------------------------------------------------------------


class AccessDenied(HTTPException):
    """A request refused for a web reason (a stale CSRF token): 403 with a message."""


def http_status_of(error: Exception) -> tuple[int, str]:
    """The status and message that answer a refusal: the domain's, or the web's own."""
    if isinstance(error, AccessDenied):
        return error.status_code, str(error.detail)
    if isinstance(error, Forbidden):
        return 403, str(error)
    if isinstance(error, NotFound):
        return 404, str(error)
    return 500, "unexpected error"


#: The errors :func:`http_status_of` maps, for the exception handlers.
REFUSALS: tuple[type[Exception], ...] = (AccessDenied, Forbidden, NotFound)


class LoginRequired(Exception):
    """A page was asked for without a valid session: the browser goes to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


# --- the session cookie --------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserSession:
    """What the signed cookie holds: who signed in (``None`` before login) and the CSRF token."""

    staff_id: int | None
    csrf: str
    #: when the staff member signed in (POSIX seconds), to void sessions on sign-out
    signed_in_at: float | None = None

    @classmethod
    def anonymous(cls) -> BrowserSession:
        return cls(staff_id=None, csrf=secrets.token_urlsafe(32))

    def signed_in(self, staff_id: int) -> BrowserSession:
        """A fresh session for ``staff_id``: a new CSRF token, so nothing from before survives."""
        return replace(
            self, staff_id=staff_id, csrf=secrets.token_urlsafe(32), signed_in_at=time.time()
        )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().resolved_secret_key(), salt="roundtable.staff-session"
    )


def read_browser_session(request: Request) -> BrowserSession | None:
    """The session in the request's cookie; ``None`` when absent, tampered with or expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer().loads(raw, max_age=int(SESSION_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    staff_id, csrf, since = data.get("staff"), data.get("csrf"), data.get("since")
    if not isinstance(csrf, str) or not (staff_id is None or isinstance(staff_id, int)):
        return None
    if not (since is None or isinstance(since, int | float)):
        return None
    return BrowserSession(staff_id=staff_id, csrf=csrf, signed_in_at=since)


def write_browser_session(response: Response, browser: BrowserSession) -> None:
    """Set the signed cookie: HttpOnly, SameSite=Lax, Secure when the site is served over https."""
    value = _serializer().dumps(
        {"staff": browser.staff_id, "csrf": browser.csrf, "since": browser.signed_in_at}
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.lower().startswith("https://"),
    )


def session_for_form(request: Request) -> BrowserSession:
    """The visitor's session, or a new anonymous one (for the login form's CSRF token)."""
    return read_browser_session(request) or BrowserSession.anonymous()


def csrf_matches(browser: BrowserSession | None, submitted: object) -> bool:
    if browser is None or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(browser.csrf.encode(), submitted.encode())


# --- signing in ----------------------------------------------------------------------------


def safe_next_path(candidate: str | None) -> str:
    """Where to go after signing in: only somewhere under ``/dashboard`` (or a scanned
    check-in code, ``/checkin/…``) on this site."""
    if (
        candidate
        and candidate.startswith(("/dashboard", "/checkin/"))
        and "//" not in candidate
        and "\\" not in candidate
        and not any(ord(char) < 32 for char in candidate)
    ):
        return candidate
    return "/dashboard"


def login_url(next_path: str) -> str:
    return f"/login?next={quote(safe_next_path(next_path), safe='/')}"


# --- FastAPI dependencies ------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """A signed-in member on a page, with the CSRF token its forms must carry."""

    member: StaffMember
    csrf: str


def _signed_in(request: Request) -> Visitor:
    browser = read_browser_session(request)
    if browser is None or browser.staff_id is None:
        raise LoginRequired(_requested_path(request))
    with read_session() as session:
        user = session.get(StaffUser, browser.staff_id)
        member = member_of(session, user) if user is not None and user.id is not None else None
    if member is None or user is None or user.disabled_at is not None:
        raise LoginRequired(_requested_path(request))
    if not _still_valid(browser, user):
        raise LoginRequired(_requested_path(request))
    return Visitor(member=member, csrf=browser.csrf)


def current_visitor(request: Request) -> Visitor | None:
    """The signed-in member, or ``None`` (no session, a void one, or a deleted account)."""
    try:
        return _signed_in(request)
    except LoginRequired:
        return None


def _still_valid(browser: BrowserSession, user: StaffUser) -> bool:
    """False for a session older than the account's last sign-out (a copied cookie)."""
    if user.sessions_valid_after is None:
        return True
    if browser.signed_in_at is None:
        return False
    return browser.signed_in_at > user.sessions_valid_after.timestamp()


def page_visitor(request: Request) -> Visitor:
    """For pages that only show: the member behind the session cookie, or off to /login."""
    return _signed_in(request)


async def form_visitor(request: Request) -> Visitor:
    """For every POST from a page: signed in, and the form's CSRF token matches the session's.

    The form is read (and cached by Starlette) here, so the endpoint reads it again for free.
    """
    visitor = await run_in_threadpool(_signed_in, request)  # a database read: off the loop
    form = await read_form(request)
    if not csrf_matches(BrowserSession(visitor.member.id, visitor.csrf), form.get(CSRF_FIELD)):
        raise AccessDenied(
            403,
            "the form's security token is missing or out of date; reload the page and try again",
        )
    return visitor


async def read_form(request: Request) -> FormData:
    document = DOCUMENT_FORM_PATH.fullmatch(request.url.path) is not None
    limit = MAX_DOCUMENT_FORM_FIELDS if document else MAX_FORM_FIELDS
    return await request.form(max_files=1, max_fields=limit)


bearer_token = HTTPBearer(
    auto_error=False,
    bearerFormat="rt_…",
    description="A token printed by `roundtable staff token EMAIL`, sent as "
    "`Authorization: Bearer rt_…`. It acts with that staff account's role.",
)


#: What a 401 carries, so that clients know which credentials to send.
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="roundtable"'}
#: Why a request without a usable token is refused (the gate and the routes say the same).
NO_TOKEN = "send a bearer token: Authorization: Bearer rt_…"
UNKNOWN_TOKEN = "the bearer token is unknown, expired or revoked"
#: The scope key under which the request gate leaves the member it authenticated.
_GATE_MEMBER = "roundtable.api_member"


def bearer_credentials(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or ``None``."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def member_for_token(token: str) -> StaffMember | None:
    """The member a live bearer token acts for (the staff domain decides which tokens count)."""
    return live_member_for_token(token, utcnow())


def stash_api_member(scope: MutableMapping[str, Any], member: StaffMember) -> None:
    """Keep the member authenticated before the body was read, for :func:`api_member`.

    In the request's own scope (not the shared lifespan state), so it ends with the request.
    """
    scope[_GATE_MEMBER] = member


def api_member(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_token),
) -> StaffMember:
    """For the API: the member whose bearer token the request carries; 401 otherwise."""
    stashed = request.scope.get(_GATE_MEMBER)
    if isinstance(stashed, StaffMember):
        return stashed
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized(NO_TOKEN)
    member = member_for_token(credentials.credentials.strip())
    if member is None:
        raise _unauthorized(UNKNOWN_TOKEN)
    return member


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers=UNAUTHORIZED_HEADERS)


def _requested_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query and request.method == "GET" else path


def api_writer(member: StaffMember = Security(api_member)) -> StaffMember:
    """For the API's changes: a read-only role is refused before its body is looked at.

    A dependency that raises comes before FastAPI's checks of the body, so a viewer's
    write answers 403 whatever it sent.
    """
    require_writer(member)
    return member


def api_event_creator(member: StaffMember = Security(api_member)) -> StaffMember:
    """For creating events: refused (403) before the body is looked at."""
    require_event_creator(member)
    return member


def api_event_manager(
    slug: Annotated[str, Path(pattern=SLUG_PATTERN)],
    member: StaffMember = Security(api_member),
) -> StaffMember:
    """For changes to event ``slug``: 404/403 before the body is looked at.

    The workflow checks again in the transaction that acts; this check only puts
    refusals ahead of complaints about the body.
    """
    require_writer(member)
    with read_session() as session:
        event_for(session, member, slug, manage=True)
    return member
