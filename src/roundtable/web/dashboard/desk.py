"""The organizer's desk on the dashboard: writing to a group, and the nudge now.

The composer counts the recipients and previews one copy before anything is
sent; sending is one call to :mod:`roundtable.workflows.desk`, which checks the
member's right in the transaction that queues the copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from roundtable.db import read_session
from roundtable.errors import InputError, NotFound, Problem
from roundtable.invitations.model import InviteeRole
from roundtable.mail.group_messages import (
    AUDIENCE_STATUSES,
    Attendance,
    Audience,
    Draft,
    checked_audience,
    checked_draft,
    history,
    recipient_names,
    recipients,
)
from roundtable.presentation import i18n
from roundtable.staff.permissions import event_for
from roundtable.types import utcnow
from roundtable.web.auth import Visitor, form_visitor, page_visitor, read_form
from roundtable.web.dashboard.rendering import (
    clean,
    error_page,
    form_field,
    form_text,
    page_number,
    redirect,
    render_page,
)
from roundtable.workflows import desk

router = APIRouter(include_in_schema=False)

#: the languages a message may have a version in, besides the default
LANGUAGES = tuple(lang for lang in i18n.BABEL_LOCALES if lang != i18n.DEFAULT_LANGUAGE)
#: recipients offered for a preview
PREVIEW_CHOICES = 200
FORM_SOURCE = "form"


@dataclass
class Composer:
    """What the composer's form holds, as typed."""

    subject: str = ""
    body: str = ""
    to: list[str] = field(default_factory=lambda: ["accepted", "tentative"])
    roles: list[str] = field(default_factory=list)
    organizations: str = ""
    attendance: str = ""
    translations: dict[str, dict[str, str]] = field(
        default_factory=lambda: {lang: {"subject": "", "body": ""} for lang in LANGUAGES}
    )

    @classmethod
    def of(cls, form: FormData) -> Composer:
        return cls(
            subject=form_field(form, "subject"),
            body=form_text(form, "body"),
            to=[v for v in form.getlist("to") if isinstance(v, str)],
            roles=[v for v in form.getlist("role") if isinstance(v, str)],
            organizations=form_text(form, "organizations"),
            attendance=form_field(form, "attendance"),
            translations={
                lang: {
                    "subject": form_field(form, f"subject_{lang}"),
                    "body": form_text(form, f"body_{lang}"),
                }
                for lang in LANGUAGES
            },
        )

    def audience(self) -> Audience:
        # Names as typed, less control characters (PostgreSQL refuses NUL in a query).
        names = [name for name in map(clean, self.organizations.splitlines()) if name]
        return checked_audience(
            self.to,
            roles=self.roles,
            organizations=names,
            attendance=self.attendance,
            source=FORM_SOURCE,
        )

    def draft(self) -> Draft:
        written = {
            lang: version
            for lang, version in self.translations.items()
            if version["subject"] or version["body"].strip()
        }
        return checked_draft(self.subject, self.body, written, source=FORM_SOURCE)


@router.get("/dashboard/events/{slug}/write")
def composer_page(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """The composer, the count of its default recipients, and the messages sent so far."""
    return _page(request, visitor, slug, Composer(), problems=[])


@router.post("/dashboard/events/{slug}/write")
async def write(request: Request, slug: str, visitor: Visitor = Depends(form_visitor)) -> Response:
    """Count, preview or send, as the button pressed says."""
    form = await read_form(request)
    return await run_in_threadpool(_write, request, slug, visitor, form)


def _write(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    with read_session() as session:
        event_for(session, visitor.member, slug, manage=True)
    composer = Composer.of(form)
    action = form_field(form, "action")
    try:
        audience = composer.audience()
        if action == "send":
            sent = desk.send_group_message(
                visitor.member, slug, composer.draft(), audience, now=utcnow()
            )
            return redirect(f"/dashboard/events/{slug}/write", "message_queued", sent.queued)
        preview, tested = None, ""
        chosen = page_number(form_field(form, "preview"), minimum=0)
        if action == "preview" and chosen:
            preview = desk.preview_group_message(
                visitor.member, slug, composer.draft(), chosen, now=utcnow()
            )
        elif action == "test" and chosen:
            tested = desk.send_test_to_me(
                visitor.member, slug, composer.draft(), chosen, now=utcnow()
            )
    except InputError as error:
        return _page(request, visitor, slug, composer, problems=error.problems, status=422)
    except NotFound:
        problem = Problem("choose one of the recipients", source=FORM_SOURCE, field="preview")
        return _page(request, visitor, slug, composer, problems=[problem], status=422)
    return _page(request, visitor, slug, composer, problems=[], preview=preview, tested=tested)


def _page(
    request: Request,
    visitor: Visitor,
    slug: str,
    composer: Composer,
    *,
    problems: list[Problem],
    preview: desk.Preview | None = None,
    tested: str = "",
    status: int = 200,
) -> Response:
    with read_session() as session:
        event = event_for(session, visitor.member, slug, manage=True)
        assert event.id is not None
        try:
            chosen = recipients(session, event, composer.audience())
        except InputError:
            chosen = []
        lines = recipient_names(session, chosen[:PREVIEW_CHOICES])
        sent = history(session, event.id)
    context: dict[str, Any] = {
        "event": event,
        "form": composer,
        "problems": problems,
        "count": len(chosen),
        "choices": lines,
        "preview": preview,
        "tested": tested,
        "history": sent,
        "statuses": AUDIENCE_STATUSES,
        "roles": InviteeRole.ALL,
        "attendances": [a for a in Attendance if a],
        "languages": LANGUAGES,
    }
    return render_page(request, visitor, "write.html", context, status_code=status)


@router.post("/dashboard/events/{slug}/nudge")
def nudge(slug: str, visitor: Visitor = Depends(form_visitor)) -> Response:
    """ "Remind the silent ones now": the nudge to those who have not replied, once a day."""
    result = desk.nudge_silent(visitor.member, slug, now=utcnow())
    notice = "nudged" if result.queued else "nudge_none"
    return redirect(f"/dashboard/events/{slug}", notice, result.queued)


@router.post("/dashboard/events/{slug}/cancel")
async def cancel(request: Request, slug: str, visitor: Visitor = Depends(form_visitor)) -> Response:
    """Cancel the event with the organizers' note, once its slug is typed to confirm."""
    form = await read_form(request)
    return await run_in_threadpool(_cancel, request, slug, visitor, form)


def _cancel(request: Request, slug: str, visitor: Visitor, form: FormData) -> Response:
    try:
        result = desk.cancel(
            visitor.member,
            slug,
            note=form_text(form, "note"),
            confirm=clean(str(form.get("confirm") or "")),
            now=utcnow(),
        )
    except InputError as error:
        message = "; ".join(problem.message for problem in error.problems)
        return error_page(request, visitor, 422, message)
    return redirect(f"/dashboard/events/{slug}", "cancelled", result.cancellations_queued)
