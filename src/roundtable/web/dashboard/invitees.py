"""One invitee on the dashboard: their history, check-in, a reply recorded by staff."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roundtable.db import read_session
from roundtable.errors import InputError, NotFound
from roundtable.inbound import queries as inbound_queries
from roundtable.invitations.rsvp import Refusal, ReplyError
from roundtable.reports import dashboard_queries as queries
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
    form_field,
    redirect,
    render_page,
)
from roundtable.workflows import invitees as workflow

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
        came_back = inbound_queries.invitee_mail(session, invitation_id) if history else []
    if history is None:
        raise NotFound("no such invitee on this event's list")
    context = {
        "event": event,
        "history": history,
        "came_back": came_back,
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
    first_time = workflow.check_in(visitor.member, slug, invitation_id, now=utcnow())
    back = safe_next_path(form_field(await read_form(request), "next"))
    if back == "/dashboard":
        back = f"/dashboard/events/{slug}"
    return redirect(back, "checked_in" if first_time else "already_checked_in")


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/reply")
async def reply_on_behalf(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """A reply given to staff, recorded with who recorded it and why."""
    form = await read_form(request)
    fields = {name: form_field(form, name) for name in ("response", "guests", "notes", "reason")}
    try:
        result = workflow.reply_on_behalf(
            visitor.member,
            slug,
            invitation_id,
            fields,
            reason=fields["reason"],
            now=utcnow(),
            override_deadline=form.get("override_deadline") == "1",
        )
    except (ReplyError, InputError) as error:
        errors = {problem.field or "response": problem.message for problem in error.problems}
        return _invitee_page(
            request, visitor, slug, invitation_id, form=fields, errors=errors, status_code=422
        )
    if result.refused:
        reason = (
            "the RSVP deadline has passed; tick “record after the deadline” to record it"
            if result.refusal == Refusal.DEADLINE_PASSED
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
