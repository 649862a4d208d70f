"""Staff accounts on the dashboard (administrators only)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roundtable.errors import InputError, Problem
from roundtable.staff import management
from roundtable.staff.permissions import Role, require_admin
from roundtable.types import utcnow
from roundtable.web.auth import Visitor, form_visitor, page_visitor, read_form
from roundtable.web.dashboard.rendering import RowId, form_field, redirect, render_page

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
    overview = management.staff_overview(visitor.member)
    context = {
        "users": overview.users,
        "events": overview.events,
        "granted": overview.granted,
        "roles": tuple(Role),
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
    password = str(form.get("password") or "")
    try:
        management.add_staff_account(visitor.member, fields["email"], fields["role"], password)
    except InputError as error:
        return _staff_page(request, visitor, problems=error.problems, form=fields, status_code=422)
    return redirect("/dashboard/staff", "staff_added")


@router.post("/dashboard/staff/{staff_id}/grants")
async def grant_event(
    request: Request, staff_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    require_admin(visitor.member)
    slug = form_field(await read_form(request), "event")
    management.grant_event(visitor.member, staff_id, slug)
    return redirect("/dashboard/staff", "granted")


@router.post("/dashboard/staff/{staff_id}/grants/{event_id}/delete")
def revoke_grant(
    staff_id: RowId, event_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    management.revoke_grant(visitor.member, staff_id, event_id)
    return redirect("/dashboard/staff", "revoked")


@router.post("/dashboard/staff/{staff_id}/unlock")
def unlock(staff_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    management.unlock_account(visitor.member, staff_id)
    return redirect("/dashboard/staff", "unlocked")
