"""Who is asking, and what they may do: staff sign-in, sessions, CSRF, roles, bearer tokens.

Pages use a signed session cookie (itsdangerous, keyed with the application's
secret): it holds the staff id and a per-session CSRF token that every form
carries back. The API uses bearer tokens from ``roundtable staff token``. Both end
in the same :class:`StaffMember`, whose role decides every permission:

- ``admin``: everything, staff accounts included;
- ``organizer``: the events granted to them (and the events they create);
- ``viewer``: reads every event, changes nothing.

An event a member may not see answers 404, as if it did not exist; an action a
member may not take on an event they can see answers 403.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, select
from starlette.datastructures import FormData

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.events.model import Event
from roundtable.events.spec import SLUG
from roundtable.staff.accounts import needs_use_recorded, record_token_use, token_row
from roundtable.staff.model import EventGrant, StaffUser
from roundtable.staff.throttle import attempt_sign_in
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


# --- who is asking -------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    """A signed-in staff account and the events it was granted."""

    id: int
    email: str
    role: str
    granted_event_ids: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_every_event(self) -> bool:
        return self.role in ("admin", "viewer")

    @property
    def can_create_events(self) -> bool:
        return self.role in ("admin", "organizer")

    @property
    def actor(self) -> str:
        """How this member is named in reply logs."""
        return f"staff:{self.email}"

    def can_read(self, event_id: int) -> bool:
        return self.sees_every_event or event_id in self.granted_event_ids

    def can_manage(self, event_id: int) -> bool:
        if self.is_admin:
            return True
        return self.role == "organizer" and event_id in self.granted_event_ids

    def visible_event_ids(self) -> frozenset[int] | None:
        """The events this member may read; ``None`` means all of them."""
        return None if self.sees_every_event else self.granted_event_ids


class AccessDenied(HTTPException):
    """A request the member's role does not allow (403), or an event hidden from them (404)."""


class LoginRequired(Exception):
    """A page was asked for without a valid session: the browser goes to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def load_member(session: Session, staff_id: int) -> StaffMember | None:
    """The account with its grants, or ``None`` when it no longer exists."""
    user = session.get(StaffUser, staff_id)
    if user is None or user.id is None:
        return None
    return member_of(session, user)


def member_of(session: Session, user: StaffUser) -> StaffMember:
    assert user.id is not None
    granted = session.exec(select(EventGrant.event_id).where(EventGrant.staff_id == user.id)).all()
    return StaffMember(
        id=user.id, email=user.email, role=user.role, granted_event_ids=frozenset(granted)
    )


def event_for(session: Session, member: StaffMember, slug: str, *, manage: bool = False) -> Event:
    """The event ``slug`` if ``member`` may see it (and manage it, when asked); else denied."""
    # A slug no event can have (PostgreSQL refuses a NUL in text outright) names nothing.
    event = (
        session.exec(select(Event).where(Event.slug == slug)).first()
        if SLUG.fullmatch(slug)
        else None
    )
    if event is None or event.id is None or not member.can_read(event.id):
        raise AccessDenied(404, f"no event with slug {slug!r}")
    if manage and not member.can_manage(event.id):
        raise AccessDenied(403, f"your role ({member.role}) may not change event {slug!r}")
    return event


def require_admin(member: StaffMember) -> None:
    if not member.is_admin:
        raise AccessDenied(403, "only administrators manage staff accounts")


def require_event_creator(member: StaffMember) -> None:
    if not member.can_create_events:
        raise AccessDenied(403, f"your role ({member.role}) may not create events")


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


def authenticate(
    email: str, password: str, client_address: str | None, now: datetime
) -> StaffMember | None:
    """The member whose address and password these are, if the account may sign in now.

    Blocking (argon2, database): async handlers run it in a worker thread.
    """
    outcome = attempt_sign_in(email, password, client_address, now)
    if outcome.user is None:
        return None
    with read_session() as session:
        return member_of(session, outcome.user)


def safe_next_path(candidate: str | None) -> str:
    """Where to go after signing in: only somewhere under ``/dashboard`` on this site."""
    if (
        candidate
        and candidate.startswith("/dashboard")
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


def end_sessions(staff_id: int, now: datetime) -> None:
    """Sign the account out everywhere: every session cookie issued until now is void."""
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is not None:
            user.sessions_valid_after = now
            session.add(user)


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
    return await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)


bearer_token = HTTPBearer(
    auto_error=False,
    bearerFormat="rt_…",
    description="A token printed by `roundtable staff token EMAIL`, sent as "
    "`Authorization: Bearer rt_…`. It acts with that staff account's role.",
)


def api_member(
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_token),
) -> StaffMember:
    """For the API: the member whose bearer token the request carries; 401 otherwise."""
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("send a bearer token: Authorization: Bearer rt_…")
    now = utcnow()
    with read_session() as session:
        found = token_row(session, credentials.credentials.strip(), now)
        member = member_of(session, found[1]) if found is not None else None
    if found is None or member is None:
        raise _unauthorized("the bearer token is unknown, expired or revoked")
    token = found[0]
    if token.id is not None and needs_use_recorded(token, now):
        with write_session() as session:
            record_token_use(session, token.id, now)
    return member


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="roundtable"'})


def _requested_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query and request.method == "GET" else path
