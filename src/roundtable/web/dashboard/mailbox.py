"""The dashboard's view of the organizer's mailbox: held calendar replies, bounces, notes.

Applying or ignoring a held reply is one call to :func:`decide_held`, which checks
the member's right to manage the event in the transaction that acts
(docs/architecture.md, "Hearing back").
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roundtable.db import read_session
from roundtable.inbound import queries
from roundtable.inbound.model import InboundState
from roundtable.staff.permissions import event_for, require_admin
from roundtable.types import utcnow
from roundtable.web.auth import Visitor, form_visitor, page_visitor
from roundtable.web.dashboard.rendering import RowId, redirect, render_page
from roundtable.workflows.inbound import decide_held

router = APIRouter(include_in_schema=False)

NOTICE = {InboundState.APPLIED: "calendar_applied", InboundState.IGNORED: "calendar_ignored"}


@router.get("/dashboard/events/{slug}/mailbox")
def event_mailbox(
    request: Request, slug: str, visitor: Visitor = Depends(page_visitor)
) -> Response:
    """What the mailbox said about one event: replies, held ones, bounces, notes, people."""
    with read_session() as session:
        event = event_for(session, visitor.member, slug)
        assert event.id is not None
        mail = queries.event_mail(session, event.id)
    context = {
        "event": event,
        "mail": mail,
        "can_manage": visitor.member.can_manage(event.id),
        "zone": event.timezone,
    }
    return render_page(request, visitor, "mailbox.html", context)


@router.post("/dashboard/events/{slug}/mailbox/{inbound_id}/apply")
def apply_held(slug: str, inbound_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    state = decide_held(visitor.member, slug, inbound_id, apply=True, now=utcnow())
    return redirect(f"/dashboard/events/{slug}", _notice(state))


@router.post("/dashboard/events/{slug}/mailbox/{inbound_id}/ignore")
def ignore_held(slug: str, inbound_id: RowId, visitor: Visitor = Depends(form_visitor)) -> Response:
    state = decide_held(visitor.member, slug, inbound_id, apply=False, now=utcnow())
    return redirect(f"/dashboard/events/{slug}", _notice(state))


def _notice(state: InboundState | None) -> str:
    return NOTICE.get(state, "calendar_unchanged") if state is not None else "calendar_unchanged"


@router.get("/dashboard/mailbox")
def unplaced(request: Request, visitor: Visitor = Depends(page_visitor)) -> Response:
    """Mail that could not be read or matched no event (it may be about anything: admins only)."""
    require_admin(visitor.member)
    with read_session() as session:
        lines = queries.unplaced_mail(session)
    return render_page(request, visitor, "mailbox_unplaced.html", {"lines": lines, "zone": "UTC"})
