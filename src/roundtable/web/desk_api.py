"""The organizer API's desk: writing to a group, the nudge now, cancelling, recommendations,
exports and resending, with the dashboard's domain functions and permissions.

Routes stay thin: each hands the member to a workflow that checks and acts in one
transaction (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Path
from fastapi.responses import Response

from roundtable.db import read_session
from roundtable.mail.group_messages import checked_audience, checked_draft
from roundtable.reports.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    export_filename,
    invitees_csv,
    invitees_xlsx,
)
from roundtable.staff.permissions import event_for, require_writer
from roundtable.types import utcnow
from roundtable.web.api import CONFLICT, ERRORS, PREFIX, Manager, Member, Slug
from roundtable.web.dashboard.rendering import download
from roundtable.web.desk_schemas import (
    CancelIn,
    CancelOut,
    GroupMessageIn,
    GroupMessageOut,
    NudgeOut,
    PublishOut,
    RecommendationsIn,
    ResendOut,
)
from roundtable.web.schemas import BODY
from roundtable.workflows import desk
from roundtable.workflows import events as event_workflow
from roundtable.workflows.outbox import resend_failed_message

router = APIRouter(prefix=PREFIX, tags=["organizer API"], responses=ERRORS)

MessageId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The message's id in the outbox.")]


def install(app: FastAPI) -> None:
    """Add the desk's routes (the API's error handlers are installed by ``web.api``)."""
    app.include_router(router)


@router.post("/events/{slug}/messages", summary="Write to a group of invitees")
def send_message(slug: Slug, body: GroupMessageIn, member: Manager) -> GroupMessageOut:
    """Queue one copy per recipient: chosen by reply status (``invited`` is those who have not
    replied), and optionally role, organization and attendance. Each reader gets their
    language's version, else the default."""
    draft = checked_draft(
        body.subject,
        body.body,
        {lang: version.model_dump() for lang, version in body.translations.items()},
        source=BODY,
    )
    audience = checked_audience(
        body.to,
        roles=body.roles,
        organizations=body.organizations,
        attendance=body.attendance,
        source=BODY,
    )
    sent = desk.send_group_message(member, slug, draft, audience, now=utcnow())
    return GroupMessageOut(id=sent.id, queued=sent.queued)


@router.post("/events/{slug}/nudge", summary="Remind the silent ones now")
def nudge(slug: Slug, member: Manager) -> NudgeOut:
    """The nudge, now, to every invitee whose invitation was delivered and who has not
    replied; at most once per invitee per day (UTC): a second call queues 0 and says why."""
    result = desk.nudge_silent(member, slug, now=utcnow())
    return NudgeOut(queued=result.queued, reason=result.reason)


@router.post("/events/{slug}/cancel", summary="Cancel the event")
def cancel(slug: Slug, body: CancelIn, member: Manager) -> CancelOut:
    """A cancellation (``METHOD:CANCEL``) with the note to everyone not declined; pending
    mail is dropped. Cancelling twice answers 422."""
    result = desk.cancel(member, slug, note=body.note.strip(), now=utcnow())
    return CancelOut(**result.as_dict())


@router.post("/events/{slug}/recommendations", summary="Publish the recommendations")
def publish_recommendations(slug: Slug, body: RecommendationsIn, member: Manager) -> PublishOut:
    """Store the Markdown recommendations and schedule the follow-up mailing."""
    result = event_workflow.publish_recommendations(member, slug, body.text, now=utcnow())
    return PublishOut(**result.as_dict())


_EXPORTS = {
    "csv": (CSV_MEDIA_TYPE, invitees_csv),
    "xlsx": (XLSX_MEDIA_TYPE, invitees_xlsx),
}


@router.get(
    "/events/{slug}/invitees.csv",
    summary="The invitees as CSV",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}, "description": "The invitee list."}},
)
def export_csv(slug: Slug, member: Member) -> Response:
    """Every invitee with their reply, as the dashboard's download."""
    return _export(slug, member, "csv")


@router.get(
    "/events/{slug}/invitees.xlsx",
    summary="The invitees as a spreadsheet",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The invitee list."}},
)
def export_xlsx(slug: Slug, member: Member) -> Response:
    """Every invitee with their reply, as the dashboard's download."""
    return _export(slug, member, "xlsx")


def _export(slug: str, member: Member, extension: str) -> Response:
    media_type, write = _EXPORTS[extension]
    with read_session() as session:
        event_for(session, member, slug)
        body = write(session, slug)
    filename = export_filename(slug, extension, utcnow())
    return download(body, media_type, filename)


@router.post(
    "/messages/{message_id}/resend", summary="Send a failed message again", responses=CONFLICT
)
def resend(message_id: MessageId, member: Member) -> ResendOut:
    """Queue a new copy of a failed message (409 when it did not fail, or a copy waits)."""
    require_writer(member)
    return ResendOut(id=resend_failed_message(member, message_id, now=utcnow()))
