"""The dashboard's event editor: the event file as a form, and as TOML to import or export.

Both ways in end in the file's reader (``events.spec``): the form's fields become the
file's mapping (:mod:`.event_fields`), an uploaded or pasted TOML file is read as
``roundtable events load`` reads it. A change of time or place first shows who will
get an update; only a second, confirming submit saves it and queues the mail
(docs/architecture.md, "Calendar").
"""

from __future__ import annotations

import tomllib
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
from roundtable.events.spec import (
    MAX_FILE_BYTES,
    EventSpec,
    parse_event_bytes,
    parse_event_mapping,
    parse_event_text,
)
from roundtable.events.spec_export import event_mapping, event_toml
from roundtable.presentation.markdown import markdown_to_html
from roundtable.staff.permissions import event_for, require_event_creator
from roundtable.types import utcnow
from roundtable.web.auth import Visitor, form_visitor, page_visitor, read_form
from roundtable.web.dashboard.event_fields import (
    AGENDA_FIELDS,
    GROUPS,
    Kind,
    form_values,
    mapping_from_form,
    problems_by_field,
    zone_names,
)
from roundtable.web.dashboard.rendering import clean, form_text, redirect, render_page
from roundtable.workflows import Conflict
from roundtable.workflows import events as workflow

router = APIRouter(include_in_schema=False)

#: how the form's problems name their source
FORM = "event form"


@router.get("/dashboard/events/new")
def new_event_page(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    require_event_creator(visitor.member)
    mapping = tomllib.loads(NEW_EVENT_TEMPLATE)
    return _page(request, visitor, mapping, text=NEW_EVENT_TEMPLATE)


@router.post("/dashboard/events/new")
async def create_event(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_create_event, request, visitor, form)


def _create_event(request: Request, visitor: Visitor, form: FormData) -> Response:
    require_event_creator(visitor.member)
    submitted = _Submitted.read(form, "event.toml")
    if submitted.problems or submitted.spec is None or submitted.previewing:
        return submitted.render(request, visitor, None)
    try:
        outcome = workflow.create_event(visitor.member, submitted.spec, now=utcnow())
    except InputError as error:
        return submitted.with_problems(error.problems).render(request, visitor, None)
    except Conflict as conflict:
        refused = submitted.with_problems([Problem(str(conflict), field="slug")])
        return refused.render(request, visitor, None, status_code=409)
    return redirect(f"/dashboard/events/{outcome.slug}", "created")


@router.get("/dashboard/events/{slug}/edit")
def edit_event_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        mapping = event_mapping(event, agenda_of(session, event))
    return _page(request, visitor, mapping, text=event_toml(mapping), event=event)


@router.get("/dashboard/events/{slug}/event.toml")
def download_event(slug: str, visitor: Visitor = Depends(page_visitor)) -> Response:
    """The event as its file, to keep, edit elsewhere and upload again."""
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        text = event_toml(event_mapping(event, agenda_of(session, event)))
    return Response(
        text.encode("utf-8"),
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.toml"'},
    )


@router.post("/dashboard/events/{slug}/edit")
async def edit_event(
    request: Request, slug: str, visitor: Visitor = Depends(form_visitor)
) -> Response:
    """Check the form or the file with the event file's reader, confirm updates, apply."""
    form = await read_form(request)
    return await run_in_threadpool(_edit_event, request, slug, visitor, form)


def _edit_event(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        stored = event_mapping(event, agenda_of(session, event))
    submitted = _Submitted.read(form, f"{slug}.toml", stored)
    if submitted.problems or submitted.spec is None or submitted.previewing:
        return submitted.render(request, visitor, event)
    if form.get("confirm") != "1":
        preview = workflow.preview_update(visitor.member, slug, submitted.spec)
        if preview.changed:
            submitted.context["update"] = preview
            submitted.context["note"] = form_text(form, "note")
            return submitted.render(request, visitor, event)
    try:
        outcome = workflow.update_event(
            visitor.member, slug, submitted.spec, now=utcnow(), note=form_text(form, "note")
        )
    except InputError as error:
        return submitted.with_problems(error.problems).render(request, visitor, event)
    if outcome.updates_queued:
        return redirect(f"/dashboard/events/{slug}", "updates", outcome.updates_queued)
    return redirect(f"/dashboard/events/{slug}", "saved" if outcome.changed_fields else "unchanged")


class _Submitted:
    """What was posted (the fields, or a TOML file), read with the file's rules."""

    def __init__(self, mode: str, mapping: dict[str, Any], text: str) -> None:
        self.mode = mode
        self.mapping = mapping
        self.text = text
        self.spec: EventSpec | None = None
        self.problems: list[Problem] = []
        self.previewing = False
        self.context: dict[str, Any] = {}

    @classmethod
    def read(cls, form: FormData, source: str, stored: dict[str, Any] | None = None) -> _Submitted:
        upload = form.get("file")
        if "toml" in form or isinstance(upload, UploadFile):
            return cls._read_toml(form, upload, source)
        mapping = mapping_from_form(form, stored)
        submitted = cls("fields", mapping, event_toml(mapping))
        submitted.previewing = form.get("action") == "preview"
        try:
            submitted.spec = parse_event_mapping(mapping, FORM)
        except InputError as error:
            submitted.problems = error.problems
        return submitted

    @classmethod
    def _read_toml(cls, form: FormData, upload: Any, source: str) -> _Submitted:
        text = form_text(form, "toml")
        data: bytes | None = None
        if isinstance(upload, UploadFile) and upload.filename:
            source = clean(Path(upload.filename).name)[:200] or source
            data = upload.file.read(MAX_FILE_BYTES + 1)
            text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        try:
            mapping = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            mapping = {}
        submitted = cls("toml", mapping, text)
        try:
            if data is None:
                submitted.spec = parse_event_text(text, source)
            else:
                submitted.spec = parse_event_bytes(data, source)
        except InputError as error:
            submitted.problems = error.problems
        return submitted

    def with_problems(self, problems: list[Problem]) -> _Submitted:
        self.problems = problems
        return self

    def render(
        self, request: Request, visitor: Visitor, event: Event | None, *, status_code: int = 0
    ) -> Response:
        context = _context(self.mapping, self.text, event, self.problems, self.mode)
        context.update(self.context)
        code = status_code or (422 if self.problems else 200)
        return render_page(request, visitor, "event_form.html", context, status_code=code)


def _page(
    request: Request,
    visitor: Visitor,
    mapping: dict[str, Any],
    *,
    text: str,
    event: Event | None = None,
) -> Response:
    return render_page(request, visitor, "event_form.html", _context(mapping, text, event, [], ""))


def _context(
    mapping: dict[str, Any], text: str, event: Event | None, problems: list[Problem], mode: str
) -> dict[str, Any]:
    description = mapping.get("description")
    return {
        "event": event,
        "groups": GROUPS,
        "agenda_fields": AGENDA_FIELDS,
        "kinds": Kind,
        "zones": zone_names(),
        "values": form_values(mapping),
        "errors": problems_by_field(problems),
        "problems": problems,
        "text": text,
        "mode": mode,
        "preview": markdown_to_html(description) if isinstance(description, str) else "",
        "update": None,
    }


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
