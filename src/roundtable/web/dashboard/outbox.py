"""The outbox on the dashboard: messages, their previews, sending a failed one again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from roundtable.db import read_session
from roundtable.delivery.compose import compose, load_bundle
from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.mail.model import KINDS, MessageStatus
from roundtable.reports import outbox_queries
from roundtable.staff.permissions import event_for
from roundtable.types import utcnow
from roundtable.web.auth import (
    Visitor,
    form_visitor,
    page_visitor,
    read_form,
    safe_next_path,
)
from roundtable.web.dashboard.rendering import (
    RowId,
    choice,
    error_page,
    form_field,
    page_number,
    redirect,
    render_page,
)
from roundtable.web.security import redact_tokens
from roundtable.workflows import Conflict
from roundtable.workflows import outbox as workflow

#: The HTML part of a message, shown in a sandboxed frame: its inline styles, nothing else.
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


router = APIRouter(include_in_schema=False)


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
    query = outbox_queries.MessageQuery(
        event_id=event.id if event else None,
        visible_event_ids=visitor.member.visible_event_ids(),
        status=choice(params.get("status", ""), MessageStatus.ALL),
        kind=choice(params.get("kind", ""), KINDS),
        page=page_number(params.get("page", "1")),
    )
    with read_session() as session:
        page = outbox_queries.message_page(session, query)
    context = {
        "event": event,
        "messages": page,
        "query": query,
        "states": MessageStatus.ALL,
        "kinds": KINDS,
        "zone": event.timezone if event else "UTC",
        "can_manage": visitor.member.can_manage,
    }
    return render_page(request, visitor, "messages.html", context)


@router.get("/dashboard/messages/{message_id}")
def message_page(
    request: Request, message_id: RowId, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """A message's state and history, and (for those who manage the event) what it says."""
    with read_session() as session:
        line = outbox_queries.message_line(session, message_id)
        if line is None:
            raise NotFound(f"no message {message_id}")
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
    return render_page(request, visitor, "message.html", context)


@router.get("/dashboard/messages/{message_id}/body.html")
def message_html(message_id: RowId, visitor: Visitor = Depends(page_visitor)) -> Response:
    """The HTML part alone, for the sandboxed frame: its own strict policy, never cached."""
    with read_session() as session:
        line = outbox_queries.message_line(session, message_id)
        if line is None:
            raise NotFound(f"no message {message_id}")
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
    # The invitee's links are their credential: staff see where they lead, not the
    # token, so that nobody replies as the invitee from the outbox.
    return {
        "error": "",
        "headers": [
            (name, redact_tokens(str(mail[name]))) for name in shown if mail[name] is not None
        ],
        "text": redact_tokens(text_part.get_content()) if text_part is not None else "",
        "html": redact_tokens(html_part.get_content()) if html_part is not None else None,
        "attachments": [
            part.get_filename() or part.get_content_type() for part in mail.iter_attachments()
        ],
    }


@router.post("/dashboard/messages/{message_id}/resend")
async def resend(
    request: Request, message_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Queue a new copy of a failed message for the workers."""
    form = await read_form(request)
    return await run_in_threadpool(_resend, request, message_id, visitor, form)


def _resend(request: Request, message_id: RowId, visitor: Visitor, form: FormData) -> Response:
    try:
        new_id = workflow.resend_failed_message(visitor.member, message_id, now=utcnow())
    except Conflict as conflict:
        return error_page(request, visitor, 409, str(conflict))
    back = safe_next_path(form_field(form, "next"))
    if back == "/dashboard":
        back = f"/dashboard/messages/{new_id}"
    return redirect(back, "resent")
