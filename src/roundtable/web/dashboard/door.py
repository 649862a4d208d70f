"""At the door: the page a scanned QR code opens, and the event's check-in page.

``/checkin/{code}`` is what the confirmation's QR code encodes: without a staff
login it only leads to the sign-in page. The event's check-in page reads codes
with the phone's camera (``static/checkin.js``) and finds invitees by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from roundtable.db import read_session
from roundtable.errors import InputError
from roundtable.invitations.attendance import door_counts
from roundtable.invitations.model import Status
from roundtable.reports import dashboard_queries as queries
from roundtable.staff.permissions import event_for
from roundtable.types import utcnow
from roundtable.web.auth import Visitor, form_visitor, page_visitor, read_form
from roundtable.web.dashboard.rendering import RowId, form_field, redirect, render_page
from roundtable.web.door_api import pdf_response
from roundtable.workflows import checkin as workflow
from roundtable.workflows import printing

router = APIRouter(include_in_schema=False)

#: how many invitees a name search at the door shows
SEARCH_ROWS = 25


@router.get("/checkin/{code}")
def arrival_page(request: Request, code: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """The invitee a QR code names, with one large button to check them in."""
    arrival = workflow.arrival(visitor.member, code)
    context = {
        "arrival": arrival,
        "event": arrival.event,
        "code": code,
        "zone": arrival.event.timezone,
    }
    return render_page(request, visitor, "arrival.html", context)


@router.post("/checkin/{code}")
async def check_in_by_code(
    request: Request, code: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    undo = form_field(await read_form(request), "action") == "undo"
    arrival = workflow.check_in_by_code(visitor.member, code, now=utcnow(), undo=undo)
    if undo:
        notice = "checkin_undone" if arrival.changed else "not_checked_in"
    else:
        notice = "checked_in" if arrival.changed else "already_checked_in"
    return redirect(f"/checkin/{code}", notice)


@router.get("/dashboard/events/{slug}/checkin")
def checkin_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Scan a code, or find an invitee by name, and check them in (or add a walk-in)."""
    return _checkin_page(request, visitor, slug)


def _checkin_page(
    request: Request,
    visitor: Visitor,
    slug: str,
    walk_in: Mapping[str, str] | None = None,
    problems: Sequence[str] = (),
) -> Response:
    search = form_field(dict(request.query_params), "q")
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
        assert event.id is not None
        found = (
            queries.invitee_page(
                session, event.id, queries.InviteeQuery(search=search, per_page=SEARCH_ROWS)
            )
            if search
            else None
        )
        attended, expected = door_counts(session, event.id)
    context = {
        "event": event,
        "search": search,
        "found": found,
        "attended": attended,
        "expected": expected,
        "can_manage": visitor.member.can_manage(event.id),
        "zone": event.timezone,
        "walk_in": walk_in or {},
        "problems": problems,
    }
    response = render_page(
        request, visitor, "checkin.html", context, status_code=422 if problems else 200
    )
    # The one page that may use the camera (every other page forbids it).
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


@router.post("/dashboard/events/{slug}/walk-ins")
async def add_walk_in(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Someone let in who was not on the list: added as accepted and checked in."""
    form = await read_form(request)
    fields = {name: form_field(form, name) for name in workflow.WALK_IN_FIELDS}
    try:
        # An import of one row: off the event loop, as every import is.
        await run_in_threadpool(
            partial(workflow.add_walk_in, visitor.member, slug, fields, now=utcnow())
        )
    except InputError as error:
        problems = [f"{p.field or 'form'}: {p.message}" for p in error.problems]
        return await run_in_threadpool(
            partial(_checkin_page, request, visitor, slug, walk_in=fields, problems=problems)
        )
    path = f"/dashboard/events/{slug}/checkin?" + urlencode({"q": fields["email"]})
    return redirect(path, "walked_in")


@router.post("/dashboard/events/{slug}/invitees/{invitation_id}/checkin/undo")
async def undo_check_in(
    request: Request, slug: str, invitation_id: RowId, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """A check-in made by mistake, undone."""
    changed = workflow.undo_check_in(visitor.member, slug, invitation_id, now=utcnow())
    back = form_field(await read_form(request), "q")
    path = f"/dashboard/events/{slug}/checkin" + (f"?q={back}" if back else "")
    return redirect(path, "checkin_undone" if changed else "not_checked_in")


@router.get("/dashboard/events/{slug}/badges.pdf")
def badges(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    return _printed(request, visitor, slug, "badges")


@router.get("/dashboard/events/{slug}/place-cards.pdf")
def place_cards(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    return _printed(request, visitor, slug, "place-cards")


def _printed(request: Request, visitor: Visitor, slug: str, kind: str) -> Response:
    """The print form's download: statuses ticked, and addresses to put first."""
    query = request.query_params
    data = printing.printed(
        visitor.member,
        slug,
        kind,
        statuses=query.getlist("status") or [Status.ACCEPTED],
        first=printing.split_list(query.get("order", "").replace("\n", ",")),
    )
    return pdf_response(data, f"{slug}-{kind}.pdf")
