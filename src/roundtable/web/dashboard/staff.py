"""Staff accounts on the dashboard (administrators only): the same life cycle as the CLI.

Each action is one transaction through :mod:`roundtable.staff.lifecycle`; async
handlers run it in a worker thread, since hashing a password takes a while.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session, col, select

from roundtable.db import read_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.staff import lifecycle, management
from roundtable.staff.model import ROLES as STAFF_ROLES
from roundtable.staff.model import StaffUser
from roundtable.staff.permissions import require_admin
from roundtable.staff.throttle import clear_account, failures_by_account
from roundtable.types import utcnow
from roundtable.web.auth import (
    AccessDenied,
    Visitor,
    form_visitor,
    page_visitor,
    read_form,
)
from roundtable.web.dashboard.rendering import (
    RowId,
    form_field,
    redirect,
    render_page,
)

router = APIRouter(include_in_schema=False)

T = TypeVar("T")


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
    now = utcnow()
    with read_session() as session:
        accounts = lifecycle.list_accounts(session, now)
        events = list(session.exec(select(Event).order_by(col(Event.starts_at))).all())
        failures = failures_by_account(session, now)
        without_password = set(
            session.exec(select(StaffUser.id).where(col(StaffUser.password_hash).is_(None))).all()
        )
    context = {
        "accounts": accounts,
        "events": events,
        "event_ids": {event.slug: event.id for event in events},
        "failures": failures,
        "without_password": without_password,
        "me": visitor.member.id,
        "roles": STAFF_ROLES,
        "problems": problems or [],
        "form": form or {"email": "", "role": "organizer"},
        "now": now,
    }
    return render_page(request, visitor, "staff.html", context, status_code=status_code)


@router.post("/dashboard/staff")
async def add_staff_account(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    form = await read_form(request)
    fields = {"email": form_field(form, "email"), "role": form_field(form, "role")}
    password = str(form.get("password") or "")

    try:
        await run_in_threadpool(
            management.add_staff_account, visitor.member, fields["email"], fields["role"], password
        )
    except InputError as error:
        return _staff_page(request, visitor, problems=error.problems, form=fields, status_code=422)
    return redirect("/dashboard/staff", "staff_added")


@router.post("/dashboard/staff/{staff_id}/grants")
async def grant_event(
    request: Request, staff_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    slug = form_field(await read_form(request), "event")

    def grant(session: Session, user: StaffUser) -> bool:
        return lifecycle.grant(session, user.email, slug)

    try:
        await run_in_threadpool(management.change_account, visitor.member, staff_id, grant)
    except InputError:
        raise AccessDenied(404, "no such account or event") from None
    return redirect("/dashboard/staff", "granted")


@router.post("/dashboard/staff/{staff_id}/grants/{event_id}/delete")
def revoke_grant(
    staff_id: RowId, event_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)

    def ungrant(session: Session, user: StaffUser) -> bool:
        event = session.get(Event, event_id)
        return event is not None and lifecycle.ungrant(session, user.email, event.slug)

    management.change_account(visitor.member, staff_id, ungrant)
    return redirect("/dashboard/staff", "revoked")


@router.post("/dashboard/staff/{staff_id}/tokens/revoke")
def revoke_tokens(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    now = utcnow()
    revoked = management.change_account(
        visitor.member,
        staff_id,
        lambda session, user: lifecycle.revoke_tokens(session, user.email, now),
    )
    return redirect("/dashboard/staff", "tokens_revoked", revoked)


@router.post("/dashboard/staff/{staff_id}/disable")
def disable_account(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    if staff_id == visitor.member.id:
        # Nobody would be left to undo it from here; another administrator or the CLI can.
        raise AccessDenied(403, "you cannot disable the account you are signed in with")
    now = utcnow()
    management.change_account(
        visitor.member, staff_id, lambda session, user: lifecycle.disable(session, user.email, now)
    )
    return redirect("/dashboard/staff", "disabled")


@router.post("/dashboard/staff/{staff_id}/enable")
def enable_account(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    require_admin(visitor.member)
    management.change_account(
        visitor.member, staff_id, lambda session, user: lifecycle.enable(session, user.email)
    )
    return redirect("/dashboard/staff", "enabled")


@router.post("/dashboard/staff/{staff_id}/password")
async def set_password(
    request: Request, staff_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    password = str((await read_form(request)).get("password") or "")
    now = utcnow()

    def change(session: Session, user: StaffUser) -> StaffUser:
        return lifecycle.set_password(session, user.email, password, now)

    try:
        await run_in_threadpool(management.change_account, visitor.member, staff_id, change)
    except InputError as error:
        return _staff_page(request, visitor, problems=error.problems, status_code=422)
    return redirect("/dashboard/staff", "password_set")


@router.post("/dashboard/staff/{staff_id}/unlock")
def unlock(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    """Forget the account's failed sign-ins, so that its owner need not wait."""
    require_admin(visitor.member)
    management.change_account(
        visitor.member, staff_id, lambda session, user: clear_account(session, user.email)
    )
    return redirect("/dashboard/staff", "unlocked")
