"""One invitee on the dashboard: their history, check-in, a reply recorded by staff."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from roundtable.db import read_session
from roundtable.errors import InputError, NotFound
from roundtable.inbound import queries as inbound_queries
from roundtable.invitations.model import InviteeRole
from roundtable.invitations.rsvp import Refusal, ReplyError
from roundtable.people.model import LANGUAGES
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
from roundtable.workflows import invitee_desk as desk
from roundtable.workflows import invitees as workflow

router = APIRouter(include_in_schema=False)


# Before the invitee's page: "new" is not an invitation id.
@router.get("/dashboard/events/{slug}/invitees/new")
def new_invitee_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """The form for one invitee, the fields of the invitee file."""
    return _new_invitee_page(request, visitor, slug)


def _new_invitee_page(
    request: Request,
    visitor: Visitor,
    slug: str,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    context = {
        "event": event,
        "form": form or {},
        "errors": errors or {},
        "roles": InviteeRole.ALL,
        "languages": LANGUAGES,
    }
    return render_page(request, visitor, "invitee_new.html", context, status_code=status_code)


@router.post("/dashboard/events/{slug}/invitees/new")
async def add_invitee(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """One invitee, checked as a row of the invitee file; then to their page."""
    form = await read_form(request)
    return await run_in_threadpool(_add_invitee, request, slug, visitor, form)


def _add_invitee(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    fields = {name: form_field(form, name) for name in ("email", *desk.DETAIL_FIELDS)}
    try:
        result = desk.add_invitee(visitor.member, slug, fields, source="form", now=utcnow())
    except InputError as error:
        problems = {problem.field or "email": problem.message for problem in error.problems}
        return _new_invitee_page(
            request, visitor, slug, form=fields, errors=problems, status_code=422
        )
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
        assert event.id is not None
        invitation = queries.invitation_by_email(session, event.id, fields["email"].lower())
    if invitation is None or invitation.id is None:
        return redirect(f"/dashboard/events/{slug}", "unchanged")
    notice = "invitee_added" if result.created else "invitee_saved"
    return redirect(f"/dashboard/events/{slug}/invitees/{invitation.id}", notice)


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
    details_errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
        assert event.id is not None
        history = queries.invitation_history(session, event.id, invitation_id)
        came_back = inbound_queries.invitee_mail(session, invitation_id) if history else []
    if history is None:
        raise NotFound("no such invitee on this event's list")
    can_manage = visitor.member.can_manage(event.id)
    context = {
        "event": event,
        "history": history,
        "came_back": came_back,
        "can_manage": can_manage,
        # The link is the invitee's credential: organizers and admins only, never viewers.
        "rsvp_link": desk.rsvp_link(visitor.member, slug, invitation_id) if can_manage else None,
        "details_errors": details_errors or {},
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


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/edit")
async def edit_invitee(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Details and address, checked as the invitee file is; a new address gets the invitation."""
    form = await read_form(request)
    return await run_in_threadpool(_edit_invitee, request, slug, invitation_id, visitor, form)


def _edit_invitee(
    request: Request, slug: str, invitation_id: int, visitor: Visitor, form: FormData
) -> Response:
    fields = {
        name: form_field(form, name) for name in ("email", *desk.DETAIL_FIELDS) if name in form
    }
    try:
        result = desk.edit_invitee(
            visitor.member, slug, invitation_id, fields, source="form", now=utcnow()
        )
    except InputError as error:
        problems = {problem.field or "email": problem.message for problem in error.problems}
        return _invitee_page(
            request, visitor, slug, invitation_id, details_errors=problems, status_code=422
        )
    path = f"/dashboard/events/{slug}/invitees/{invitation_id}"
    if result.invitation_resent:
        return redirect(path, "address_resent")
    return redirect(path, "invitee_saved" if result.changed else "unchanged")


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/withdraw")
async def withdraw_invitee(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Withdraw the invitation: a cancellation goes to them and their link stops working."""
    await read_form(request)
    withdrawn = await run_in_threadpool(
        desk.withdraw_invitee, visitor.member, slug, invitation_id, now=utcnow()
    )
    path = f"/dashboard/events/{slug}/invitees/{invitation_id}"
    return redirect(path, "withdrawn" if withdrawn else "unchanged")
