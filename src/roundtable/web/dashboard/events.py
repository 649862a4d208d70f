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
from roundtable.inbound import queries as inbound_queries
from roundtable.invitations.model import InviteeRole, Status
from roundtable.reports import dashboard_queries as queries
from roundtable.reports import outbox_queries
from roundtable.reports.event_report import NO_ORGANIZATION, event_report
from roundtable.reports.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    export_filename,
    invitees_csv,
    invitees_xlsx,
)
from roundtable.staff.permissions import event_for
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
    download,
    error_page,
    form_text,
    page_number,
    redirect,
    render_page,
)
from roundtable.web.gate import MAX_UPLOAD_BYTES
from roundtable.workflows import events as workflow

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def events_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Every event the member may see, with its reply progress."""
    with read_session() as session:
        summaries = queries.event_summaries(session, visitor.member.visible_event_ids())
    return render_page(request, visitor, "events.html", {"summaries": summaries})


@router.get("/dashboard/events/{slug}")
def event_page(request: Request, slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Replies, charts, delivery problems and the invitee table of one event."""
    member = visitor.member
    params = request.query_params
    query = queries.InviteeQuery(
        search=clean(params.get("q", ""))[:200],
        status=choice(params.get("status", ""), Status.ALL),
        role=choice(params.get("role", ""), InviteeRole.ALL),
        organization=clean(params.get("organization", ""))[:300],
        sort=choice(params.get("sort", ""), tuple(queries.INVITEE_SORTS)) or "name",
        descending=params.get("desc", "") == "1",
        page=page_number(params.get("page", "1")),
    )
    # The table of every organization, beside the chart of the largest: its own sort.
    org_sort = choice(params.get("org_sort", ""), charts.GROUP_SORTS) or "total"
    org_desc = params.get("org_desc", "1" if org_sort != "name" else "") == "1"
    org_page = page_number(params.get("org_page", "1"))
    with read_session() as session:
        event = event_for(session, member, slug)
        assert event.id is not None
        report = event_report(session, slug).as_dict()
        invitees = queries.invitee_page(session, event.id, query)
        per_day = queries.replies_per_day(session, event.id)
        failed = outbox_queries.failed_messages(session, event.id)
        bounced = outbox_queries.bounced_contacts(session, event.id)
        held = inbound_queries.held_replies(session, event.id)
        untranslated = queries.missing_translations(session, event)
    # The report names every organization already; a list too long for a menu is left
    # to the search box, which matches organizations too.
    named = [name for name in report["by_organization"] if name != NO_ORGANIZATION]
    organizations = sorted(named) if len(named) <= MAX_ORGANIZATION_CHOICES else []
    invited = report["status"]["invited"] + sum(report["status"][s] for s in Status.REPLIED)
    context = {
        "event": event,
        "report": report,
        "query": query,
        "invitees": invitees,
        "organizations": organizations,
        "failed": failed,
        "bounced": bounced,
        "held": held,
        "untranslated": untranslated,
        "can_manage": member.can_manage(event.id),
        "replies_chart": charts.replies_over_time(per_day, invited=invited),
        "organization_chart": charts.breakdown(report["by_organization"], limit=ORG_CHART_ROWS),
        "organization_more": max(0, len(report["by_organization"]) - ORG_CHART_ROWS),
        "organization_table": charts.table_page(
            charts.group_table(report["by_organization"], org_sort, org_desc),
            org_page,
            ORG_TABLE_ROWS,
        ),
        "org_sort": org_sort,
        "org_desc": org_desc,
        "stack_order": charts.STACK_ORDER,
        "role_chart": charts.breakdown(report["by_role"], width=560, label_width=120),
        "statuses": Status.ALL,
        "roles": InviteeRole.ALL,
        "sorts": queries.INVITEE_SORTS,
        "zone": event.timezone,
    }
    return render_page(request, visitor, "event.html", context)


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
    return download(body, CSV_MEDIA_TYPE, export_filename(slug, "csv", utcnow()))


@router.get("/dashboard/events/{slug}/invitees.xlsx")
def export_xlsx(slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug)
        body = invitees_xlsx(session, slug)
    return download(body, XLSX_MEDIA_TYPE, export_filename(slug, "xlsx", utcnow()))


#: beyond this many organizations the filter is the search box, not a menu
MAX_ORGANIZATION_CHOICES = 200
#: organizations drawn in the chart; the table below it lists all of them, a page at a time
ORG_CHART_ROWS = 12
#: rows of that table on one page (docs/interfaces.md, the dashboard's event page)
ORG_TABLE_ROWS = 100
