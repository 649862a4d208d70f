"""The dashboard's event pages: the list, one event, editing, sending, imports, exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from roundtable.db import read_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.events.service import agenda_of
from roundtable.events.spec import parse_event_text
from roundtable.invitations.model import ROLES as INVITEE_ROLES
from roundtable.invitations.model import Status
from roundtable.reports import dashboard_queries as queries
from roundtable.reports.event_report import NO_ORGANIZATION, event_report
from roundtable.reports.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    export_filename,
    invitees_csv,
    invitees_xlsx,
)
from roundtable.staff.permissions import event_for, require_event_creator
from roundtable.types import utcnow
from roundtable.web import charts
from roundtable.web.auth import (
    Visitor,
    form_visitor,
    page_visitor,
    read_form,
)
from roundtable.web.dashboard.rendering import (
    choice,
    clean,
    error_page,
    form_text,
    page_number,
    redirect,
    render_page,
)
from roundtable.web.gate import MAX_UPLOAD_BYTES
from roundtable.web.schemas import EventDocument
from roundtable.workflows import Conflict
from roundtable.workflows import events as workflow

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def events_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Every event the member may see, with its reply progress."""
    with read_session() as session:
        summaries = queries.event_summaries(session, visitor.member.visible_event_ids())
    return render_page(request, visitor, "events.html", {"summaries": summaries})


@router.get("/dashboard/events/new")
def new_event_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    require_event_creator(visitor.member)
    return render_page(request, visitor, "event_form.html", _event_form(text=NEW_EVENT_TEMPLATE))


@router.post("/dashboard/events/new")
async def create_event(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_create_event, request, visitor, form)


def _create_event(request: Request, visitor: Visitor, form: FormData) -> Response:
    require_event_creator(visitor.member)
    text = form_text(form, "toml")
    try:
        spec = parse_event_text(text, "event.toml")
        outcome = workflow.create_event(visitor.member, spec, now=utcnow())
    except InputError as error:
        context = _event_form(text=text, problems=error.problems)
        return render_page(request, visitor, "event_form.html", context, status_code=422)
    except Conflict as conflict:
        context = _event_form(text=text, problems=[Problem(str(conflict), field="slug")])
        return render_page(request, visitor, "event_form.html", context, status_code=409)
    return redirect(f"/dashboard/events/{outcome.slug}", "created")


@router.get("/dashboard/events/{slug}")
def event_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Replies, charts, delivery problems and the invitee table of one event."""
    member = visitor.member
    params = request.query_params
    query = queries.InviteeQuery(
        search=clean(params.get("q", ""))[:200],
        status=choice(params.get("status", ""), Status.ALL),
        role=choice(params.get("role", ""), INVITEE_ROLES),
        organization=clean(params.get("organization", ""))[:300],
        sort=choice(params.get("sort", ""), tuple(queries.INVITEE_SORTS)) or "name",
        descending=params.get("desc", "") == "1",
        page=page_number(params.get("page", "1")),
    )
    with read_session() as session:
        event = event_for(session, member, slug)
        assert event.id is not None
        report = event_report(session, slug).as_dict()
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
    return render_page(request, visitor, "event.html", context)


@router.get("/dashboard/events/{slug}/edit")
def edit_event_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        text = EventDocument.from_event(event, agenda_of(session, event)).to_toml_text()
    return render_page(request, visitor, "event_form.html", _event_form(text=text, event=event))


@router.post("/dashboard/events/{slug}/edit")
async def edit_event(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Validate the TOML with the event file's parser, then apply it as ``events load`` does."""
    form = await read_form(request)
    return await run_in_threadpool(_edit_event, request, slug, visitor, form)


def _edit_event(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    text, note = form_text(form, "toml"), form_text(form, "note")
    try:
        outcome = workflow.update_event(
            visitor.member, slug, parse_event_text(text, f"{slug}.toml"), now=utcnow(), note=note
        )
    except InputError as error:
        context = _event_form(text=text, event=event, problems=error.problems, note=note)
        return render_page(request, visitor, "event_form.html", context, status_code=422)
    if outcome.updates_queued:
        return redirect(f"/dashboard/events/{slug}", "updates", outcome.updates_queued)
    return redirect(f"/dashboard/events/{slug}", "saved" if outcome.changed_fields else "unchanged")


def _event_form(
    *,
    text: str,
    event: Event | None = None,
    problems: list[Problem] | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {"text": text, "event": event, "problems": problems or [], "note": note}


@router.post("/dashboard/events/{slug}/send")
def send(request: Request, slug: str, visitor: Visitor = Depends(form_visitor)) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug, manage=True)
    try:
        queued = workflow.send_invitations(visitor.member, slug, now=utcnow())
    except InputError as error:
        return error_page(request, visitor, 409, str(error))
    return redirect(f"/dashboard/events/{slug}", "sent", queued)


@router.get("/dashboard/events/{slug}/import")
def import_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    return render_page(
        request, visitor, "import.html", {"event": event, "problems": [], "result": None}
    )


@router.post("/dashboard/events/{slug}/import")
async def import_invitees(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """The same checks as ``roundtable invitees import``: every problem, or nothing written."""
    form = await read_form(request)
    return await run_in_threadpool(_import_invitees, request, slug, visitor, form)


def _import_invitees(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    upload = form.get("file")
    context: dict[str, Any] = {"event": event, "problems": [], "result": None}
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["problems"] = [Problem("choose a CSV file to import", field="file")]
        return render_page(request, visitor, "import.html", context, status_code=422)
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    source = clean(Path(upload.filename).name)[:200] or "upload.csv"
    if len(data) > MAX_UPLOAD_BYTES:
        context["problems"] = [
            Problem(f"is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB", source=source)
        ]
        return render_page(request, visitor, "import.html", context, status_code=413)
    try:
        result = workflow.import_invitee_data(
            visitor.member,
            slug,
            data,
            skip_invalid=form.get("skip_invalid") == "1",
            source=source,
        )
    except InputError as error:
        context["problems"] = error.problems
        return render_page(request, visitor, "import.html", context, status_code=422)
    context["result"] = result
    return render_page(request, visitor, "import.html", context)


@router.get("/dashboard/events/{slug}/recommendations")
def recommendations_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    context = {"event": event, "text": event.recommendations or "", "problems": []}
    return render_page(request, visitor, "recommendations.html", context)


@router.post("/dashboard/events/{slug}/recommendations")
async def publish(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_publish, request, slug, visitor, form)


def _publish(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
    text = form_text(form, "text")
    try:
        result = workflow.publish_recommendations(visitor.member, slug, text, now=utcnow())
    except InputError as error:
        context = {"event": event, "text": text, "problems": error.problems}
        return render_page(request, visitor, "recommendations.html", context, status_code=422)
    return redirect(f"/dashboard/events/{slug}", "published", result.followups_scheduled)


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


#: beyond this many organizations the filter is the search box, not a menu
MAX_ORGANIZATION_CHOICES = 200


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
