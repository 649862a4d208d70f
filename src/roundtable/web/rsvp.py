"""The invitee's pages: see the invitation, reply to it, take it into a calendar.

The token in the URL is the invitee's credential (docs/architecture.md, "RSVP links
and tokens"). A GET only reads:
mail scanners open every link, sometimes twice. Only the page's own form, posted
from the same site, records a reply. Every token that opens nothing (unknown,
malformed, tampered, revoked) gets the same 404 page, and too many of those from
one address get 429.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from roundtable.calendar.invite import Attendee, build_calendar
from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.errors import NotFound, Problem
from roundtable.invitations.model import Status
from roundtable.invitations.rsvp import (
    ACCEPT,
    Reply,
    ReplyError,
    ReplyProblem,
    reply_from_form,
)
from roundtable.invitations.service import (
    InvitationView,
    ReplyTarget,
    load_invitation_view,
    reply_period_over,
)
from roundtable.people.subscriptions import unsubscribe
from roundtable.people.zones import own_zone
from roundtable.presentation.calendar_links import calendar_links
from roundtable.presentation.event import Clock, present_event, zone_of
from roundtable.presentation.i18n import (
    babel_locale,
    bdi,
    catalog_path,
    supported_language,
    text_direction,
    translations,
    typeset,
)
from roundtable.types import utcnow
from roundtable.web.rsvp_form import (
    MAX_FORM_BYTES,
    FormState,
    FormTooLarge,
    MalformedForm,
    read_form,
)
from roundtable.web.security import (
    FailedLookupLimiter,
    ReplyLimiter,
    SecurityHeadersMiddleware,
    cross_site_reason,
    form_token,
    form_token_matches,
)
from roundtable.workflows.replies import record_reply_by_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


def install(
    app: FastAPI,
    *,
    limiter: FailedLookupLimiter | None = None,
    reply_limiter: ReplyLimiter | None = None,
) -> None:
    """Add the RSVP pages, the security headers on every response, and ``/static``."""
    app.state.rsvp_limiter = limiter or FailedLookupLimiter()
    app.state.reply_limiter = reply_limiter or ReplyLimiter()
    app.include_router(router)
    docs = [path for path in (app.docs_url, app.redoc_url) if path]
    app.add_middleware(SecurityHeadersMiddleware, csp_exempt=docs)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


# --- routes -----------------------------------------------------------------------------


@router.get("/rsvp/{token}")
def rsvp_page(request: Request, token: str, response: str = "", done: str = "") -> Response:
    """The invitation and the reply form; reads only, whatever the query says."""
    if (refusal := _rate_limited(request)) is not None:
        return refusal
    view = _load_view(token)
    if view is None:
        return _not_found(request)
    form = FormState.of(view, preselect=response)
    return _rsvp_page(request, view, form, done=done)


@router.post("/rsvp/{token}")
async def rsvp_reply(request: Request, token: str) -> Response:
    """Record the reply from the page's form, then show the page again (303)."""
    if (refusal := _rate_limited(request)) is not None:
        return refusal
    settings = get_settings()
    if cross_site_reason(
        request.headers, own_origin=str(request.base_url), base_url=settings.base_url
    ):
        return _error_page(request, 403, "cross_site")
    try:
        fields = await read_form(request)
    except FormTooLarge:
        return _error_page(request, 413, "too_large")
    except MalformedForm:
        return _error_page(request, 400, "malformed")

    form = FormState.submitted(fields)
    language = page_language(None)  # the invitee's, once their invitation is found

    def admit(target: ReplyTarget) -> Reply:
        """The reply the form asks for, once its limits and its form token allow it."""
        nonlocal language
        language = page_language(target.language)
        if (refusal := _too_many_replies(request, target.invitation_id, language)) is not None:
            raise _Refused(refusal)
        submitted_token = fields.get("form_token")
        if submitted_token is not None and not form_token_matches(
            submitted_token, target.invitation_id, target.token_salt
        ):
            raise _Refused(_error_page(request, 403, "stale_form"))
        return reply_from_form(fields, max_guests=target.max_guests)

    try:
        result = await run_in_threadpool(
            record_reply_by_token,
            token,
            admit,
            now=utcnow(),
            accepting=fields.get("response") == ACCEPT,
        )
    except _Refused as refused:
        return refused.response
    except ReplyError as error:
        form.errors = {
            problem.field or "response": problem_text(problem, language)
            for problem in error.problems
        }
        return await _page_again(request, token, form, status_code=422)
    except NotFound:
        return _not_found(request)
    if result is None:
        return _not_found(request)
    if result.refused:
        return await _page_again(request, token, form, status_code=409)
    done = "1" if result.changed else "unchanged"
    return RedirectResponse(f"{request.url.path}?done={done}", status_code=303)


@router.get("/rsvp/{token}/invite.ics")
def rsvp_calendar(request: Request, token: str) -> Response:
    """The invitee's calendar entry, with their own reply as PARTSTAT."""
    if (refusal := _rate_limited(request)) is not None:
        return refusal
    view = _load_view(token)
    if view is None:
        return _not_found(request)
    event = view.event
    body = build_calendar(
        event,
        view.agenda,
        method="CANCEL" if event.is_cancelled else "REQUEST",
        attendee=Attendee.of(view.contact, view.invitation),
        now=utcnow(),
        rsvp_url=f"{get_settings().public_base_url}/rsvp/{token}",
        language=supported_language(view.invitation.language),
    )
    filename = re.sub(r"[^a-z0-9-]", "", event.slug) or "invite"
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.ics"'},
    )


@router.get("/rsvp/{token}/unsubscribe")
def unsubscribe_page(request: Request, token: str) -> Response:
    """A page with one button; the GET itself unsubscribes nobody (scanners follow links)."""
    if (refusal := _rate_limited(request)) is not None:
        return refusal
    view = _load_view(token)
    if view is None:
        return _not_found(request)
    return _render(
        request,
        "web/unsubscribe.html",
        page_language(view.invitation.language),
        {"event": view.event, "done": view.contact.unsubscribed_at is not None},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/rsvp/{token}/unsubscribe")
def unsubscribe_one_click(request: Request, token: str) -> Response:
    """RFC 8058 one-click: the mail client posts ``List-Unsubscribe=One-Click``.

    No cookie and no form token are needed (the client has neither); the token in
    the path is the credential, and stopping mail is the only thing it can do here.
    """
    if (refusal := _rate_limited(request)) is not None:
        return refusal
    view = _load_view(token)
    if view is None:
        return _not_found(request)
    assert view.contact.id is not None
    unsubscribe(view.contact.id, now=utcnow())
    return _render(
        request,
        "web/unsubscribe.html",
        page_language(view.invitation.language),
        {"event": view.event, "done": True},
        headers={"Cache-Control": "no-store"},
    )


def _load_view(token: str) -> InvitationView | None:
    """The invitation behind ``token``, read in a session of its own (never written)."""
    with read_session() as session:
        return load_invitation_view(session, token)


class _Refused(Exception):
    """A reply turned away before anything was written, with the page that says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _page_again(
    request: Request, token: str, form: FormState, *, status_code: int
) -> HTMLResponse:
    """The page, as it stands now, with the submitted form and why it was not recorded."""
    view = await run_in_threadpool(_load_view, token)
    if view is None:
        return _not_found(request)
    return _rsvp_page(request, view, form, status_code=status_code)


# --- pages ------------------------------------------------------------------------------


def _rsvp_page(
    request: Request,
    view: InvitationView,
    form: FormState,
    *,
    done: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(view.invitation.language)
    context = rsvp_context(view, form, language=language, now=utcnow())
    context["done"] = done if done in ("1", "unchanged") else ""
    context["form_action"] = request.url.path
    context["ics_url"] = f"{request.url.path}/invite.ics"
    return _render(request, "web/rsvp.html", language, context, status_code=status_code)


def rsvp_context(
    view: InvitationView, form: FormState, *, language: str, now: datetime
) -> dict[str, Any]:
    """Everything ``rsvp.html`` shows, formatted for the invitee's language and zones."""
    event, invitation = view.event, view.invitation
    assert invitation.id is not None and invitation.token_salt is not None
    reader_zone = own_zone(invitation.timezone)
    shown = present_event(event, view.agenda, language=language, reader_zone=reader_zone)
    period_over = reply_period_over(event, now)
    responded_on = None
    if invitation.responded_at is not None:
        clock = Clock(language, zone_of(event.timezone), reader_zone)
        responded_on = clock.instant(invitation.responded_at, reader_zone or clock.venue_zone).date
    return {
        "event": event,
        "shown": shown,
        "invitation": invitation,
        "represented_by": view.represented_by,
        "representative_of": view.representative_of,
        "description_html": shown.description_html,
        "agenda": shown.agenda,
        "location": shown.location,
        "when_venue": shown.time,
        "when_own": shown.local_time,
        "webcast_url": shown.webcast_url,
        "responded_on": responded_on,
        "deadline": shown.deadline,
        "reply_open": not event.is_cancelled and not period_over,
        "contact_person": shown.contact,
        "Status": Status,
        "form": form,
        "form_token": form_token(invitation.id, invitation.token_salt),
        "guest_choices": list(range(event.max_guests + 1)),
        "calendar": calendar_links(event, language),
    }


#: A string only the RSVP page has: a catalog that translates it covers the page.
PAGE_SENTINEL = "Will you attend?"


def page_language(language: str | None) -> str:
    """The invitee's language when its catalog covers this page; English otherwise.

    The mail catalogs share some words with the page; a page half in French and
    half in English reads worse than one in English, so a catalog counts only
    once it translates the page's own strings.
    """
    chosen = supported_language(language)
    if chosen == "en" or not catalog_path(chosen).is_file():
        return "en"
    return chosen if translations(chosen).gettext(PAGE_SENTINEL) != PAGE_SENTINEL else "en"


def problem_text(problem: Problem, language: str) -> str:
    """What the page says about ``problem``: in ``language`` when the catalogs know it.

    A problem without a catalog entry (a plain :class:`Problem`) keeps its English.
    Numbers are written the reader's way ("2 000" in French, "2,000" in English).
    """
    if not isinstance(problem, ReplyProblem):
        return problem.message
    locale = babel_locale(language)
    values = {
        name: format_decimal(value, locale=locale) if isinstance(value, int) else value
        for name, value in problem.params.items()
    }
    return translations(language).gettext(problem.msgid) % values


def _render(
    request: Request,
    template: str,
    language: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    page = _environment(language).get_template(template)
    html = page.render(
        {
            **context,
            "lang": language,
            "dir": text_direction(language),
            "stylesheet": request.url_for("static", path="roundtable.css").path,
        }
    )
    html = typeset(language, html)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


@cache
def _environment(language: str) -> Environment:
    """One template environment per language, with that language's translations."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Templates ship with the package: no stat() of every file on every render.
        auto_reload=False,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language), newstyle=True
    )
    environment.filters["bdi"] = bdi
    return environment


def too_large_page(request: Request) -> HTMLResponse:
    """The 413 page for a reply whose body is refused before it is read."""
    return _error_page(request, 413, "too_large")


def _not_found(request: Request) -> HTMLResponse:
    """The one answer for every token that opens nothing; it counts against the address."""
    limiter: FailedLookupLimiter = request.app.state.rsvp_limiter
    limiter.record_failure(_client(request))
    return _render(request, "web/not_found.html", "en", {}, status_code=404)


def _rate_limited(request: Request) -> HTMLResponse | None:
    limiter: FailedLookupLimiter = request.app.state.rsvp_limiter
    wait = limiter.retry_after(_client(request))
    if not wait:
        return None
    return _error_page(request, 429, "rate_limited", headers={"Retry-After": str(wait)})


def _too_many_replies(request: Request, invitation_id: int, language: str) -> HTMLResponse | None:
    """429 in the invitee's language once this invitation or this client has replied too often."""
    limiter: ReplyLimiter = request.app.state.reply_limiter
    client = _client(request)
    wait = limiter.retry_after(invitation_id, client)
    if wait:
        return _error_page(
            request,
            429,
            "too_many_replies",
            headers={"Retry-After": str(wait)},
            language=language,
        )
    limiter.record(invitation_id, client)
    return None


def _error_page(
    request: Request,
    status_code: int,
    reason: str,
    *,
    headers: Mapping[str, str] | None = None,
    language: str = "en",
) -> HTMLResponse:
    return _render(
        request,
        "web/error.html",
        language,
        {"reason": reason, "max_kib": MAX_FORM_BYTES // 1024},
        status_code=status_code,
        headers=headers,
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
