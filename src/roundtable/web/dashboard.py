"""The staff dashboard: sign-in, events and their replies, invitees, the outbox, exports.

Server-rendered pages that work without JavaScript. Every page asks
:mod:`roundtable.web.auth` who is looking; every form posts a CSRF token; every
change goes through :mod:`roundtable.web.staff_actions` or the domain, in one
transaction. After a change the browser is sent on with 303 (post/redirect/get)
and a short notice in the query string says what happened.
"""

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

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlmodel import col, select
from starlette.datastructures import UploadFile

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery.compose import compose, load_bundle
from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import Event
from roundtable.events.recommendations import publish_recommendations_text
from roundtable.events.service import agenda_of
from roundtable.events.spec import parse_event_text
from roundtable.invitations.model import ROLES as INVITEE_ROLES
from roundtable.invitations.model import Status
from roundtable.invitations.rsvp import ReplyError, reply_from_form
from roundtable.invitations.sending import send_invitations
from roundtable.mail.model import KINDS, MessageStatus
from roundtable.people.service import import_invitee_file
from roundtable.reports import dashboard_queries as queries
from roundtable.reports.event_report import NO_ORGANIZATION, event_report
from roundtable.reports.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    export_filename,
    invitees_csv,
    invitees_xlsx,
)
from roundtable.staff.accounts import add_staff
from roundtable.staff.model import ROLES as STAFF_ROLES
from roundtable.staff.model import EventGrant, StaffUser
from roundtable.staff.throttle import clear_account, failures_by_account
from roundtable.types import utcnow
from roundtable.web import charts, staff_actions
from roundtable.web.auth import (
    CSRF_FIELD,
    LOGIN_FAILED,
    SESSION_COOKIE,
    AccessDenied,
    LoginRequired,
    Visitor,
    authenticate,
    csrf_matches,
    current_visitor,
    end_sessions,
    event_for,
    form_visitor,
    load_member,
    login_url,
    page_visitor,
    read_browser_session,
    read_form,
    require_admin,
    require_event_creator,
    safe_next_path,
    session_for_form,
    write_browser_session,
)
from roundtable.web.schemas import EventDocument

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_TEXT_CHARS = 200_000

#: The HTML part of a message, shown in a sandboxed frame: its inline styles, nothing else.
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
)

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
    "replied": "Reply recorded.",
    "reply_unchanged": "That reply was already on record.",
    "resent": "A new copy was queued; the failed message stays in the outbox as a record.",
    "staff_added": "Staff account created.",
    "granted": "Event granted.",
    "revoked": "Grant removed.",
    "unlocked": "The account's failed sign-ins are forgotten.",
}

STATUS_LABELS = {status: status.replace("_", " ") for status in Status.ALL}

#: A row's id in a URL: within the database's integers, so that a made-up id is
#: refused with a message instead of overflowing the query.
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the login and dashboard pages and their error pages."""
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(AccessDenied, _denied)


# --- signing in and out --------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    if current_visitor(request) is not None:
        return RedirectResponse(safe_next_path(next), status_code=303)
    browser = session_for_form(request)
    response = _render(
        request,
        "login.html",
        {"csrf": browser.csrf, "next": next, "error": "", "email": "", "visitor": None},
    )
    write_browser_session(response, browser)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the address and password; a new session (and CSRF token) on success."""
    form = await read_form(request)
    browser = read_browser_session(request)
    if not csrf_matches(browser, form.get(CSRF_FIELD)):
        return _error_page(
            request,
            None,
            403,
            "This login form has expired. Open the login page again and sign in.",
        )
    assert browser is not None
    email, password = _field(form, "email"), str(form.get("password") or "")
    next_path = safe_next_path(_field(form, "next"))
    client = request.client.host if request.client is not None else None
    member = await run_in_threadpool(authenticate, email, password, client, utcnow())
    if member is None:
        return _render(
            request,
            "login.html",
            {
                "csrf": browser.csrf,
                "next": next_path,
                "error": LOGIN_FAILED,
                "email": email,
                "visitor": None,
            },
        )
    response = RedirectResponse(next_path, status_code=303)
    write_browser_session(response, browser.signed_in(member.id))
    return response


@router.post("/logout")
def logout(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    # Void the session on the server too: a copy of the cookie must not outlive sign-out.
    end_sessions(visitor.member.id, utcnow())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.lower().startswith("https://"),
    )
    return response


# --- events --------------------------------------------------------------------------------


@router.get("/dashboard")
def events_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Every event the member may see, with its reply progress."""
    with read_session() as session:
        summaries = queries.event_summaries(session, visitor.member.visible_event_ids())
    return _page(request, visitor, "events.html", {"summaries": summaries})


@router.get("/dashboard/events/new")
def new_event_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    require_event_creator(visitor.member)
    return _page(request, visitor, "event_form.html", _event_form(text=NEW_EVENT_TEMPLATE))


@router.post("/dashboard/events/new")
async def create_event(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_event_creator(visitor.member)
    text = _text(await read_form(request), "toml")
    try:
        spec = parse_event_text(text, "event.toml")
        outcome = staff_actions.create_event(spec, visitor.member, now=utcnow())
    except InputError as error:
        context = _event_form(text=text, problems=error.problems)
        return _page(request, visitor, "event_form.html", context, status_code=422)
    except staff_actions.Conflict as conflict:
        context = _event_form(text=text, problems=[Problem(str(conflict), field="slug")])
        return _page(request, visitor, "event_form.html", context, status_code=409)
    return _redirect(f"/dashboard/events/{outcome.slug}", "created")


@router.get("/dashboard/events/{slug}")
def event_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Replies, charts, delivery problems and the invitee table of one event."""
    member = visitor.member
    params = request.query_params
    query = queries.InviteeQuery(
        search=_clean(params.get("q", ""))[:200],
        status=_choice(params.get("status", ""), Status.ALL),
        role=_choice(params.get("role", ""), INVITEE_ROLES),
        organization=_clean(params.get("organization", ""))[:300],
        sort=_choice(params.get("sort", ""), tuple(queries.INVITEE_SORTS)) or "name",
        descending=params.get("desc", "") == "1",
        page=_page_number(params.get("page", "1")),
    )
    with read_session() as session:
        event = event_for(session, member, slug)
        assert event.id is not None
        report = event_report(session, slug)
        invitees = queries.invitee_page(session, event.id, query)
        per_day = queries.replies_per_day(session, event.id)
        failed = queries.failed_messages(session, event.id)
        bounced = queries.bounced_contacts(session, event.id)
    # The report names every organization already; a list too long for a menu is left
    # to the search box, which matches organizations too.
    organizations = sorted(name for name in report["by_organization"] if name != NO_ORGANIZATION)
    if len(organizations) > MAX_ORGANIZATION_CHOICES:
        organizations = []
    invited = report["status"]["invited"] + sum(report["status"][s] for s in Status.REPLIED)
    context = {
        "event": event,
        "report": report,
        "query": query,
        "invitees": invitees,
        "organizations": organizations,
        "failed": failed,
        "bounced": bounced,
        "can_manage": member.can_manage(event.id),
        "replies_chart": charts.replies_over_time(per_day, invited=invited),
        "organization_chart": charts.breakdown(report["by_organization"]),
        "role_chart": charts.breakdown(report["by_role"], width=560, label_width=120),
        "statuses": Status.ALL,
        "roles": INVITEE_ROLES,
        "sorts": queries.INVITEE_SORTS,
        "zone": event.timezone,
    }
    return _page(request, visitor, "event.html", context)


@router.get("/dashboard/events/{slug}/edit")
def edit_event_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        text = EventDocument.from_event(event, agenda_of(session, event)).to_toml_text()
    return _page(request, visitor, "event_form.html", _event_form(text=text, event=event))


@router.post("/dashboard/events/{slug}/edit")
async def edit_event(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Validate the TOML with the event file's parser, then apply it as ``events load`` does."""
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    text = _text(await read_form(request), "toml")
    try:
        outcome = staff_actions.update_event(
            slug, parse_event_text(text, f"{slug}.toml"), visitor.member, now=utcnow()
        )
    except InputError as error:
        context = _event_form(text=text, event=event, problems=error.problems)
        return _page(request, visitor, "event_form.html", context, status_code=422)
    if outcome.updates_queued:
        return _redirect(f"/dashboard/events/{slug}", "updates", outcome.updates_queued)
    return _redirect(
        f"/dashboard/events/{slug}", "saved" if outcome.changed_fields else "unchanged"
    )


def _event_form(
    *, text: str, event: Event | None = None, problems: list[Problem] | None = None
) -> dict[str, Any]:
    return {"text": text, "event": event, "problems": problems or []}


@router.post("/dashboard/events/{slug}/send")
def send(request: Request, slug: str, visitor: Visitor = Depends(form_visitor)) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug, manage=True)
    try:
        queued = send_invitations(slug, now=utcnow())
    except InputError as error:
        return _error_page(request, visitor, 409, str(error))
    return _redirect(f"/dashboard/events/{slug}", "sent", queued)


@router.get("/dashboard/events/{slug}/import")
def import_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    return _page(request, visitor, "import.html", {"event": event, "problems": [], "result": None})


@router.post("/dashboard/events/{slug}/import")
async def import_invitees(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """The same checks as ``roundtable invitees import``: every problem, or nothing written."""
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    form = await read_form(request)
    upload = form.get("file")
    context: dict[str, Any] = {"event": event, "problems": [], "result": None}
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["problems"] = [Problem("choose a CSV file to import", field="file")]
        return _page(request, visitor, "import.html", context, status_code=422)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    source = _clean(Path(upload.filename).name)[:200] or "upload.csv"
    if len(data) > MAX_UPLOAD_BYTES:
        context["problems"] = [
            Problem(f"is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB", source=source)
        ]
        return _page(request, visitor, "import.html", context, status_code=413)
    try:
        result = import_invitee_file(
            data, slug, skip_invalid=form.get("skip_invalid") == "1", source=source
        )
    except InputError as error:
        context["problems"] = error.problems
        return _page(request, visitor, "import.html", context, status_code=422)
    context["result"] = result
    return _page(request, visitor, "import.html", context)


@router.get("/dashboard/events/{slug}/recommendations")
def recommendations_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    context = {"event": event, "text": event.recommendations or "", "problems": []}
    return _page(request, visitor, "recommendations.html", context)


@router.post("/dashboard/events/{slug}/recommendations")
async def publish(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    text = _text(await read_form(request), "text")
    try:
        result = publish_recommendations_text(slug, text, now=utcnow())
    except InputError as error:
        context = {"event": event, "text": text, "problems": error.problems}
        return _page(request, visitor, "recommendations.html", context, status_code=422)
    return _redirect(f"/dashboard/events/{slug}", "published", result.followups_scheduled)


@router.get("/dashboard/events/{slug}/invitees.csv")
def export_csv(slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug)
        body = invitees_csv(session, slug)
    return _download(body, CSV_MEDIA_TYPE, export_filename(slug, "csv", utcnow()))


@router.get("/dashboard/events/{slug}/invitees.xlsx")
def export_xlsx(slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug)
        body = invitees_xlsx(session, slug)
    return _download(body, XLSX_MEDIA_TYPE, export_filename(slug, "xlsx", utcnow()))


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# --- one invitee ---------------------------------------------------------------------------


@router.get("/dashboard/events/{slug}/invitees/{invitation_id}")
def invitee_page(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """One invitee: their reply, every message sent to them, every change of reply."""
    return _invitee_page(request, visitor, slug, invitation_id)


def _invitee_page(
    request: Request,
    visitor: Visitor,
    slug: str,
    invitation_id: RowId,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
        assert event.id is not None
        history = queries.invitation_history(session, event.id, invitation_id)
    if history is None:
        raise AccessDenied(404, "no such invitee on this event's list")
    context = {
        "event": event,
        "history": history,
        "can_manage": visitor.member.can_manage(event.id),
        "form": form or {"response": "", "guests": "0", "notes": "", "reason": ""},
        "errors": errors or {},
        "zone": event.timezone,
        "guest_choices": list(range(event.max_guests + 1)),
    }
    return _page(request, visitor, "invitee.html", context, status_code=status_code)


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/checkin")
async def check_in(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    first_time = staff_actions.check_in(event, invitation_id, now=utcnow())
    back = safe_next_path(_field(await read_form(request), "next"))
    if back == "/dashboard":
        back = f"/dashboard/events/{slug}"
    return _redirect(back, "checked_in" if first_time else "already_checked_in")


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/reply")
async def reply_on_behalf(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """A reply given to staff, recorded with who recorded it and why."""
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    form = await read_form(request)
    fields = {name: _field(form, name) for name in ("response", "guests", "notes", "reason")}
    try:
        result = staff_actions.reply_on_behalf(
            invitation_id,
            reply_from_form(fields, max_guests=event.max_guests),
            visitor.member,
            reason=fields["reason"],
            now=utcnow(),
            override_deadline=form.get("override_deadline") == "1",
        )
    except (ReplyError, InputError) as error:
        errors = {problem.field or "response": problem.message for problem in error.problems}
        return _invitee_page(
            request, visitor, slug, invitation_id, form=fields, errors=errors, status_code=422
        )
    except NotFound:
        raise AccessDenied(404, "no such invitee on this event's list") from None
    if result.refused:
        reason = (
            "the RSVP deadline has passed; tick “record after the deadline” to record it"
            if result.refusal == "deadline_passed"
            else "the event is closed to replies"
        )
        return _invitee_page(
            request,
            visitor,
            slug,
            invitation_id,
            form=fields,
            errors={"response": reason},
            status_code=409,
        )
    path = f"/dashboard/events/{slug}/invitees/{invitation_id}"
    return _redirect(path, "replied" if result.changed else "reply_unchanged")


# --- the outbox ----------------------------------------------------------------------------


@router.get("/dashboard/messages")
def all_messages_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Every message of every event the member may see."""
    return _messages_page(request, visitor, None)


@router.get("/dashboard/events/{slug}/messages")
def event_messages_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
    return _messages_page(request, visitor, event)


def _messages_page(request: Request, visitor: Visitor, event: Event | None) -> Response:
    params = request.query_params
    query = queries.MessageQuery(
        event_id=event.id if event else None,
        visible_event_ids=visitor.member.visible_event_ids(),
        status=_choice(params.get("status", ""), MessageStatus.ALL),
        kind=_choice(params.get("kind", ""), KINDS),
        page=_page_number(params.get("page", "1")),
    )
    with read_session() as session:
        page = queries.message_page(session, query)
    context = {
        "event": event,
        "messages": page,
        "query": query,
        "states": MessageStatus.ALL,
        "kinds": KINDS,
        "zone": event.timezone if event else "UTC",
        "can_manage": visitor.member.can_manage,
    }
    return _page(request, visitor, "messages.html", context)


@router.get("/dashboard/messages/{message_id}")
def message_page(
    request: Request, message_id: RowId, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """A message's state and history, and (for those who manage the event) what it says."""
    with read_session() as session:
        line = queries.message_line(session, message_id)
        if line is None:
            raise AccessDenied(404, f"no message {message_id}")
        event = event_for(session, visitor.member, line.event_slug)
    assert event.id is not None
    can_manage = visitor.member.can_manage(event.id)
    preview = _preview(message_id) if can_manage else None
    context = {
        "event": event,
        "message": line,
        "can_manage": can_manage,
        "preview": preview,
        "zone": event.timezone,
    }
    return _page(request, visitor, "message.html", context)


@router.get("/dashboard/messages/{message_id}/body.html")
def message_html(message_id: RowId, visitor: Visitor = Depends(page_visitor)) -> Response:
    """The HTML part alone, for the sandboxed frame: its own strict policy, never cached."""
    with read_session() as session:
        line = queries.message_line(session, message_id)
        if line is None:
            raise AccessDenied(404, f"no message {message_id}")
        event_for(session, visitor.member, line.event_slug, manage=True)
    preview = _preview(message_id)
    html = preview.get("html") or "<p>This message has no HTML part.</p>"
    # Links open outside the frame, in a new tab: the frame itself may not navigate.
    html = html.replace("<head>", '<head><base target="_blank">', 1)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": MAIL_PREVIEW_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )


def _preview(message_id: int) -> dict[str, Any]:
    """The message exactly as the worker would build it now: headers, text, HTML."""
    with read_session() as session:
        try:
            mail = compose(load_bundle(session, message_id), utcnow())
        except Exception as error:  # a preview must never break the page
            return {
                "error": f"{type(error).__name__}: {error}",
                "headers": [],
                "text": "",
                "html": None,
            }
    text_part = mail.get_body(("plain",))
    html_part = mail.get_body(("html",))
    shown = ("From", "To", "Reply-To", "Subject", "Message-ID", "List-Unsubscribe")
    return {
        "error": "",
        "headers": [(name, str(mail[name])) for name in shown if mail[name] is not None],
        "text": text_part.get_content() if text_part is not None else "",
        "html": html_part.get_content() if html_part is not None else None,
        "attachments": [
            part.get_filename() or part.get_content_type() for part in mail.iter_attachments()
        ],
    }


@router.post("/dashboard/messages/{message_id}/resend")
async def resend(
    request: Request, message_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Queue a new copy of a failed message for the workers."""
    try:
        new_id = staff_actions.resend_failed_message(message_id, visitor.member, now=utcnow())
    except staff_actions.Conflict as conflict:
        return _error_page(request, visitor, 409, str(conflict))
    back = safe_next_path(_field(await read_form(request), "next"))
    if back == "/dashboard":
        back = f"/dashboard/messages/{new_id}"
    return _redirect(back, "resent")


# --- staff accounts (admins) ---------------------------------------------------------------


@router.get("/dashboard/staff")
def staff_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    require_admin(visitor.member)
    return _staff_page(request, visitor)


def _staff_page(
    request: Request,
    visitor: Visitor,
    *,
    problems: list[Problem] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with read_session() as session:
        users = list(session.exec(select(StaffUser).order_by(col(StaffUser.email))).all())
        events = list(session.exec(select(Event).order_by(col(Event.starts_at))).all())
        grants = session.exec(select(EventGrant.staff_id, EventGrant.event_id)).all()
        failures = failures_by_account(session, utcnow())
    by_id = {event.id: event for event in events}
    granted: dict[int, list[Event]] = {}
    for staff_id, event_id in grants:
        granted.setdefault(staff_id, []).append(by_id[event_id])
    context = {
        "users": users,
        "events": events,
        "granted": granted,
        "failures": failures,
        "roles": STAFF_ROLES,
        "problems": problems or [],
        "form": form or {"email": "", "role": "organizer"},
        "now": utcnow(),
    }
    return _page(request, visitor, "staff.html", context, status_code=status_code)


@router.post("/dashboard/staff")
async def add_staff_account(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    form = await read_form(request)
    fields = {"email": _field(form, "email"), "role": _field(form, "role")}
    try:
        with write_session() as session:
            add_staff(session, fields["email"], fields["role"], str(form.get("password") or ""))
    except InputError as error:
        return _staff_page(request, visitor, problems=error.problems, form=fields, status_code=422)
    return _redirect("/dashboard/staff", "staff_added")


@router.post("/dashboard/staff/{staff_id}/grants")
async def grant_event(
    request: Request, staff_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    slug = _field(await read_form(request), "event")
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        event = session.exec(select(Event).where(Event.slug == slug)).first()
        if user is None or event is None or event.id is None:
            raise AccessDenied(404, "no such account or event")
        exists = session.exec(
            select(EventGrant).where(
                EventGrant.staff_id == staff_id, EventGrant.event_id == event.id
            )
        ).first()
        if exists is None:
            session.add(EventGrant(staff_id=staff_id, event_id=event.id))
    return _redirect("/dashboard/staff", "granted")


@router.post("/dashboard/staff/{staff_id}/grants/{event_id}/delete")
def revoke_grant(
    staff_id: RowId, event_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    with write_session() as session:
        grant = session.exec(
            select(EventGrant).where(
                EventGrant.staff_id == staff_id, EventGrant.event_id == event_id
            )
        ).first()
        if grant is not None:
            session.delete(grant)
    return _redirect("/dashboard/staff", "revoked")


@router.post("/dashboard/staff/{staff_id}/unlock")
def unlock(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise AccessDenied(404, "no such account")
        clear_account(session, user.email)
    return _redirect("/dashboard/staff", "unlocked")


# --- rendering -----------------------------------------------------------------------------


def _page(
    request: Request,
    visitor: Visitor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    if notice:
        notice = notice.format(n=_page_number(request.query_params.get("n", "0"), minimum=0))
    return _render(
        request,
        template,
        {"visitor": visitor, "csrf": visitor.csrf, "notice": notice, **context},
        status_code=status_code,
    )


def _render(
    request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    page = _environment().get_template(f"web/dashboard/{template}")
    html = page.render(
        {
            "notice": "",
            "visitor": None,
            "csrf": "",
            **context,
            "request": request,
            "stylesheet": request.url_for("static", path="dashboard.css").path,
            "url_with": lambda **changes: _url_with(request, **changes),
            "path": request.url.path,
            "here": _here(request),
            "STATUS_LABELS": STATUS_LABELS,
        }
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


@cache
def _environment() -> Environment:
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


def _url_with(request: Request, **changes: object) -> str:
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


def _here(request: Request) -> str:
    """This page, to come back to after a form (notice parameters left out)."""
    return _url_with(request)


def _redirect(path: str, notice: str, n: int | None = None) -> RedirectResponse:
    separator = "&" if "?" in path else "?"
    extra = {"notice": notice} | ({"n": str(n)} if n is not None else {})
    return RedirectResponse(f"{path}{separator}{urlencode(extra)}", status_code=303)


def _error_page(
    request: Request, visitor: Visitor | None, status_code: int, message: str
) -> HTMLResponse:
    return _render(
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


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


async def _denied(request: Request, exc: Exception) -> Response:
    """403 and 404 as JSON for the API, as a page for people."""
    assert isinstance(exc, AccessDenied)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)
    browser = read_browser_session(request)
    visitor = None
    if browser is not None and browser.staff_id is not None:
        with read_session() as session:
            member = load_member(session, browser.staff_id)
        visitor = Visitor(member, browser.csrf) if member else None
    return _error_page(request, visitor, exc.status_code, str(exc.detail))


# --- reading forms and queries -------------------------------------------------------------


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return _clean(value) if isinstance(value, str) else ""


def _text(form: Mapping[str, Any], name: str) -> str:
    """A textarea's text with the browser's CRLF made plain newlines, within a sane size."""
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    return text.replace("\r\n", "\n")[:MAX_TEXT_CHARS]


#: beyond this many organizations the filter is the search box, not a menu
MAX_ORGANIZATION_CHOICES = 200


def _clean(value: str) -> str:
    """One line of text without control characters (PostgreSQL refuses NUL in a query)."""
    return "".join(c for c in value if unicodedata.category(c) != "Cc").strip()


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _page_number(value: str, *, minimum: int = 1) -> int:
    return max(minimum, min(int(value), 1_000_000)) if value.isdigit() else minimum


NEW_EVENT_TEMPLATE = """\
slug = "my-roundtable"
title = "A High-Level Roundtable"
format = "High-Level Roundtable"
starts = "2027-09-23T13:15:00"
ends = "2027-09-23T15:00:00"
timezone = "America/New_York"
venue = "United Nations Headquarters"
room = "Conference Room 6"
capacity = 80
rsvp_deadline = "2027-09-20T18:00:00"
reminders = ["7d", "1d"]
nudge = "3d"
followup_after = "2d"
description = \"\"\"
What the roundtable is about, in Markdown.
\"\"\"

[organizer]
name = "IOM New York"
email = "events@iom.example.org"

[[agenda]]
time = "13:15"
title = "Opening remarks"
"""
