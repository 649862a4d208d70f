"""One invitee on the dashboard: their history, check-in, a reply recorded by staff."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from roundtable.db import read_session
from roundtable.errors import InputError, NotFound
from roundtable.invitations.rsvp import ReplyError, reply_from_form
from roundtable.reports import dashboard_queries as queries
from roundtable.types import utcnow
from roundtable.web import staff_actions
from roundtable.web.auth import (
    AccessDenied,
    Visitor,
    event_for,
    form_visitor,
    page_visitor,
    read_form,
    safe_next_path,
)
from roundtable.web.dashboard.rendering import (
    RowId,
    form_field,
    redirect,
    render_page,
)

router = APIRouter(include_in_schema=False)


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
    return render_page(request, visitor, "invitee.html", context, status_code=status_code)


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/checkin")
async def check_in(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_check_in, request, slug, invitation_id, visitor, form)


def _check_in(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor, form: FormData
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    first_time = staff_actions.check_in(event, invitation_id, now=utcnow())
    back = safe_next_path(form_field(form, "next"))
    if back == "/dashboard":
        back = f"/dashboard/events/{slug}"
    return redirect(back, "checked_in" if first_time else "already_checked_in")


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/reply")
async def reply_on_behalf(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """A reply given to staff, recorded with who recorded it and why."""
    form = await read_form(request)
    return await run_in_threadpool(_reply_on_behalf, request, slug, invitation_id, visitor, form)


def _reply_on_behalf(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor, form: FormData
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    fields = {name: form_field(form, name) for name in ("response", "guests", "notes", "reason")}
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
    return redirect(path, "replied" if result.changed else "reply_unchanged")
