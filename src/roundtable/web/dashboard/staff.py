"""Staff accounts on the dashboard (administrators only)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.staff.accounts import add_staff
from roundtable.staff.model import ROLES as STAFF_ROLES
from roundtable.staff.model import EventGrant, StaffUser
from roundtable.types import utcnow
from roundtable.web.auth import (
    AccessDenied,
    Visitor,
    form_visitor,
    page_visitor,
    read_form,
    require_admin,
)
from roundtable.web.dashboard.rendering import (
    RowId,
    form_field,
    redirect,
    render_page,
)

router = APIRouter(include_in_schema=False)


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
    by_id = {event.id: event for event in events}
    granted: dict[int, list[Event]] = {}
    for staff_id, event_id in grants:
        granted.setdefault(staff_id, []).append(by_id[event_id])
    context = {
        "users": users,
        "events": events,
        "granted": granted,
        "roles": STAFF_ROLES,
        "problems": problems or [],
        "form": form or {"email": "", "role": "organizer"},
        "now": utcnow(),
    }
    return render_page(request, visitor, "staff.html", context, status_code=status_code)


@router.post("/dashboard/staff")
async def add_staff_account(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    form = await read_form(request)
    fields = {"email": form_field(form, "email"), "role": form_field(form, "role")}
    try:
        with write_session() as session:
            add_staff(session, fields["email"], fields["role"], str(form.get("password") or ""))
    except InputError as error:
        return _staff_page(request, visitor, problems=error.problems, form=fields, status_code=422)
    return redirect("/dashboard/staff", "staff_added")


@router.post("/dashboard/staff/{staff_id}/grants")
async def grant_event(
    request: Request, staff_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    slug = form_field(await read_form(request), "event")
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
    return redirect("/dashboard/staff", "granted")


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
    return redirect("/dashboard/staff", "revoked")


@router.post("/dashboard/staff/{staff_id}/unlock")
def unlock(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise AccessDenied(404, "no such account")
        user.failed_logins = 0
        user.locked_until = None
        session.add(user)
    return redirect("/dashboard/staff", "unlocked")
