"""Dashboard rendering: the Jinja environment, its filters, notices, error pages, form fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Path as PathParameter
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from roundtable.db import read_session
from roundtable.invitations.model import Status
from roundtable.staff.permissions import load_member
from roundtable.web import charts
from roundtable.web.auth import (
    LoginRequired,
    Visitor,
    http_status_of,
    login_url,
    read_browser_session,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
MAX_TEXT_CHARS = 200_000

#: What the short notice after a change says (``?notice=…&n=…``).
NOTICES = {
    "sent": "{n} invitation(s) queued.",
    "imported": "Invitees imported.",
    "published": "Recommendations published; {n} follow-up message(s) scheduled.",
    "created": "Event created.",
    "saved": "Event saved.",
    "updates": "Event saved; {n} update message(s) queued for the change of time or place.",
    "unchanged": "Nothing changed.",
    "checked_in": "Checked in.",
    "already_checked_in": "Was already checked in.",
    "checkin_undone": "Check-in undone.",
    "walked_in": "Added to the list as accepted, and checked in.",
    "not_checked_in": "Was not checked in.",
    "replied": "Reply recorded.",
    "invitee_saved": "Invitee saved.",
    "invitee_added": "Invitee added; “Send invitations” on the event's page sends them theirs.",
    "address_resent": "Address corrected; the invitation was queued to the new address.",
    "withdrawn": "Invitation withdrawn; a cancellation was queued to the invitee.",
    "reply_unchanged": "That reply was already on record.",
    "message_queued": "Message queued: {n} copies, one per recipient; progress below.",
    "nudged": "{n} nudge(s) queued to invitees who have not replied.",
    "cancelled": "Event cancelled: {n} cancellation(s) queued, with your note.",
    "nudge_none": "No nudge queued: nobody with a delivered invitation is waiting to reply, "
    "or they were all reminded today (once a day at most).",
    "resent": "A new copy was queued; the failed message stays in the outbox as a record.",
    "staff_added": "Staff account created.",
    "granted": "Event granted.",
    "revoked": "Grant removed.",
    "unlocked": "The account's failed sign-ins are forgotten.",
    "tokens_revoked": "{n} API token(s) revoked.",
    "disabled": "Account disabled: it cannot sign in, its tokens answer 401, its sessions ended.",
    "enabled": "Account enabled.",
    "password_set": "Password set; the account's open sessions ended.",
    "calendar_applied": "Calendar reply applied.",
    "calendar_ignored": "Calendar reply ignored.",
    "calendar_unchanged": "That calendar reply was already decided.",
}

STATUS_LABELS = {status: status.replace("_", " ") for status in Status.ALL}

#: A row's id in a URL: within the database's integers, so that a made-up id is
#: refused with a message instead of overflowing the query.
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def render_page(
    request: Request,
    visitor: Visitor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    if notice:
        notice = notice.format(n=page_number(request.query_params.get("n", "0"), minimum=0))
    return render(
        request,
        template,
        {"visitor": visitor, "csrf": visitor.csrf, "notice": notice, **context},
        status_code=status_code,
    )


def render(
    request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    page = environment().get_template(f"web/dashboard/{template}")
    html = page.render(
        {
            "notice": "",
            "visitor": None,
            "csrf": "",
            **context,
            "request": request,
            "stylesheet": request.url_for("static", path="dashboard.css").path,
            "url_with": lambda **changes: url_with(request, **changes),
            "path": request.url.path,
            "here": here(request),
            "STATUS_LABELS": STATUS_LABELS,
        }
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


@cache
def environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Templates ship with the package: no stat() of every file on every render.
        auto_reload=False,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["at"] = format_instant
    environment.filters["percent"] = lambda value: f"{value * 100:.1f}%"
    environment.filters["linkify"] = linkify
    environment.globals["progress_bar"] = charts.progress_bar
    environment.globals["legend"] = charts.legend
    return environment


def format_instant(instant: datetime | None, zone: str = "UTC") -> str:
    """``2027-09-20 14:05 EDT``: minutes are enough on a dashboard."""
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain text with its web addresses made into links that open in a new tab."""
    escaped = str(escape(text))
    return Markup(  # noqa: S704 - the text is escaped first; only the links are markup
        _URL.sub(
            lambda m: (
                f'<a href="{m.group(0)}" target="_blank" rel="noopener noreferrer">{m.group(0)}</a>'
            ),
            escaped,
        )
    )


def url_with(request: Request, **changes: object) -> str:
    """This page's address with some query parameters changed (``None`` removes one)."""
    params = dict(request.query_params)
    params.pop("notice", None)
    params.pop("n", None)
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


def here(request: Request) -> str:
    """This page, to come back to after a form (notice parameters left out)."""
    return url_with(request)


def redirect(path: str, notice: str, n: int | None = None) -> RedirectResponse:
    separator = "&" if "?" in path else "?"
    extra = {"notice": notice} | ({"n": str(n)} if n is not None else {})
    return RedirectResponse(f"{path}{separator}{urlencode(extra)}", status_code=303)


def error_page(
    request: Request, visitor: Visitor | None, status_code: int, message: str
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "visitor": visitor,
            "csrf": visitor.csrf if visitor else "",
            "notice": "",
            "status_code": status_code,
            "message": message,
        },
        status_code=status_code,
    )


async def to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


async def denied(request: Request, exc: Exception) -> Response:
    """A refusal (the domain's NotFound or Forbidden, or the web's own) as JSON for the
    API, as a page for people."""
    status_code, message = http_status_of(exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status_code)
    browser = read_browser_session(request)
    visitor = None
    if browser is not None and browser.staff_id is not None:
        with read_session() as session:
            member = load_member(session, browser.staff_id)
        visitor = Visitor(member, browser.csrf) if member else None
    return error_page(request, visitor, status_code, message)


# --- reading forms and queries -------------------------------------------------------------


def form_field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return clean(value) if isinstance(value, str) else ""


def form_text(form: Mapping[str, Any], name: str) -> str:
    """A textarea's text with the browser's CRLF made plain newlines, within a sane size."""
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    return text.replace("\r\n", "\n")[:MAX_TEXT_CHARS]


def clean(value: str) -> str:
    """One line of text without control characters (PostgreSQL refuses NUL in a query)."""
    return "".join(c for c in value if unicodedata.category(c) != "Cc").strip()


def choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


#: the largest page (or count) a query names; longer digit strings say the same
MAX_PAGE_NUMBER = 1_000_000


def page_number(value: str, *, minimum: int = 1) -> int:
    """A page number or count from a query, ``minimum`` for anything that is not one.

    ASCII digits only: ``str.isdigit`` also takes "²" and "١", which ``int`` refuses
    or reads, and a long enough string of digits is more than ``int`` will parse.
    """
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return minimum
    if len(value.lstrip("0")) > len(str(MAX_PAGE_NUMBER)):
        return MAX_PAGE_NUMBER
    return max(minimum, min(int(value), MAX_PAGE_NUMBER))


def download(body: bytes, media_type: str, filename: str) -> Response:
    """A file to save (an export), never cached: it holds invitees' details."""
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
