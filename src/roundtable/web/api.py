"""The organizer API, ``/api/v1``: events, invitees, invitations, replies, the report, the outbox.

Every call carries a bearer token from ``roundtable staff token`` and acts with
that account's role. Events travel in the shape of their TOML file and are
checked by the same parser; invitees by the same checker as the CSV file. Every
error is JSON with a ``detail``; input that cannot be taken answers 422 with every
problem listed, and nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from roundtable.db import read_session
from roundtable.errors import InputError, Problem
from roundtable.events.service import agenda_of
from roundtable.events.spec import EventSpec, parse_event_mapping
from roundtable.invitations.rsvp import Refusal
from roundtable.people.emails import normalise_email
from roundtable.reports import dashboard_queries as queries
from roundtable.reports import outbox_queries
from roundtable.reports.event_report import event_report
from roundtable.staff.permissions import StaffMember, event_for
from roundtable.types import utcnow
from roundtable.web.auth import api_event_creator, api_event_manager, api_member
from roundtable.web.schemas import (
    BODY,
    SLUG_PATTERN,
    ErrorBody,
    EventChangeOut,
    EventDocument,
    EventSummaryOut,
    ImportOut,
    InputErrorBody,
    InviteeEditOut,
    InviteeImport,
    InviteeIn,
    InviteeOut,
    InviteePageOut,
    InviteePatch,
    MessageOut,
    MessagePageOut,
    QueuedOut,
    ReplyEntryOut,
    ReplyIn,
    ReplyOut,
    ReportOut,
    WithdrawOut,
    problems_out,
)
from roundtable.workflows import Conflict, invitee_desk
from roundtable.workflows import events as event_workflow
from roundtable.workflows import invitees as invitee_workflow

PREFIX = "/api/v1"

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorBody,
        "description": "No bearer token, or an unknown, expired or revoked one, "
        "or one of a disabled account.",
    },
    403: {"model": ErrorBody, "description": "The token's role may not do this."},
    404: {"model": ErrorBody, "description": "No such event, or not one this token may see."},
    422: {"model": InputErrorBody, "description": "The input cannot be taken; nothing written."},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The request clashes with what is stored."}
}

router = APIRouter(prefix=PREFIX, tags=["organizer API"], responses=ERRORS)

Member = Annotated[StaffMember, Depends(api_member)]
#: A member refused (403/404) before the body is read when they may not create events or
#: change the event of the path: permissions come before complaints about the body.
Creator = Annotated[StaffMember, Depends(api_event_creator)]
Manager = Annotated[StaffMember, Depends(api_event_manager)]
Slug = Annotated[
    str, Path(pattern=SLUG_PATTERN, description="The event's slug.", examples=["inter-ethnic-city"])
]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Pages count from 1.")]
PerPage = Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE, description="Rows per page.")]


def install(app: FastAPI) -> None:
    """Add the API's routes, and answer its errors as JSON with a ``detail``."""
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(Conflict, _conflict)


# --- events --------------------------------------------------------------------------------


@router.get("/events", summary="List the events this token may see")
def list_events(member: Member) -> list[EventSummaryOut]:
    """Soonest first, with the number of invitees and replies."""
    with read_session() as session:
        summaries = queries.event_summaries(session, member.visible_event_ids())
    return [
        EventSummaryOut(
            slug=summary.event.slug,
            title=summary.event.title,
            starts_at=summary.event.starts_at,
            timezone=summary.event.timezone,
            status=summary.event.status,
            invitees=summary.invitees,
            replies=summary.replies,
            response_rate=summary.response_rate,
        )
        for summary in summaries
    ]


@router.post("/events", status_code=201, summary="Create an event", responses=CONFLICT)
def create_event(document: EventDocument, member: Creator) -> EventChangeOut:
    """Create the event the document describes (409 if its slug exists).

    Admins and organizers may create events; an organizer is granted the events
    they create.
    """
    outcome = event_workflow.create_event(member, _spec_of(document), now=utcnow())
    return EventChangeOut(**outcome.as_dict())


@router.get(
    "/events/{slug}",
    summary="Read an event as its TOML file would say it",
    response_model_exclude_none=True,
)
def read_event(slug: Slug, member: Member) -> EventDocument:
    """The event in the event file's shape: local times at the venue, durations as text."""
    with read_session() as session:
        event = event_for(session, member, slug)
        return EventDocument.from_event(event, agenda_of(session, event))


@router.put("/events/{slug}", summary="Change an event")
def update_event(
    slug: Slug,
    document: EventDocument,
    member: Manager,
    note: Annotated[
        str,
        Query(max_length=2000, description="A paragraph from the organizers for the update mail."),
    ] = "",
) -> EventChangeOut:
    """Replace the event's description, as ``roundtable events load`` does.

    A new time, place, title or webcast link raises the iCalendar SEQUENCE and
    queues an update (each change old → new, and ``note``) to everyone invited
    who has not declined; new reminder rules reschedule them. The slug cannot change.
    """
    outcome = event_workflow.update_event(member, slug, _spec_of(document), now=utcnow(), note=note)
    return EventChangeOut(**outcome.as_dict())


def _spec_of(document: EventDocument) -> EventSpec:
    """Check the document with the event file's own rules, on the mapping itself."""
    return parse_event_mapping(document.model_dump(exclude_none=True), BODY)


# --- invitees ------------------------------------------------------------------------------


@router.post("/events/{slug}/invitees", summary="Add one invitee, or import several")
def import_invitees(slug: Slug, body: InviteeImport | InviteeIn, member: Manager) -> ImportOut:
    """Put invitees on the event's list, checked as an invitee file is.

    One object (``{"email": …, "name": …}``) adds one invitee; ``{"invitees": […]}``
    imports several. Without ``skip_invalid``, one invalid row rejects the whole
    request: 422 lists every problem (``invitees[3].email``) and nothing is written.
    Adding the same invitees again changes nothing.
    """
    if isinstance(body, InviteeIn):
        one = invitee_desk.add_invitee(member, slug, body.model_dump(), source=BODY, now=utcnow())
        return ImportOut(
            created=one.created, updated=one.updated, unchanged=one.unchanged, skipped=[]
        )
    result = event_workflow.import_invitee_records(
        member,
        slug,
        [row.model_dump(exclude_none=True) for row in body.invitees],
        skip_invalid=body.skip_invalid,
        source=BODY,
    )
    return ImportOut(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        skipped=problems_out(result.skipped),
    )


@router.get("/events/{slug}/invitees", summary="List invitees")
def list_invitees(
    slug: Slug,
    member: Member,
    page: PageNumber = 1,
    per_page: PerPage = queries.PAGE_SIZE,
) -> InviteePageOut:
    """The event's invitees with their replies, by last name, one page at a time."""
    with read_session() as session:
        event = event_for(session, member, slug)
        assert event.id is not None
        result = queries.invitee_page(
            session, event.id, queries.InviteeQuery(page=page, per_page=per_page)
        )
    return InviteePageOut(
        items=[
            InviteeOut(
                email=line.email,
                honorific=line.honorific,
                first_name=line.first_name,
                last_name=line.last_name,
                name=line.full_name,
                position=line.position,
                organization=line.organization,
                role=line.role,
                language=line.language,
                status=line.status,
                guests=line.guests,
                notes=line.notes,
                represented_by=line.represented_by,
                representative_of=line.representative_of,
                invited_at=line.invited_at,
                responded_at=line.responded_at,
                attended_at=line.attended_at,
            )
            for line in result.items
        ],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


InviteeEmail = Annotated[
    str,
    Path(max_length=320, description="The invitee's address.", examples=["a.rossi@example.org"]),
]


@router.patch("/events/{slug}/invitees/{email}", summary="Edit one invitee or correct the address")
def edit_invitee(
    slug: Slug, email: InviteeEmail, body: InviteePatch, member: Manager
) -> InviteeEditOut:
    """Change the fields given, checked as the invitee file is; the others stay.

    With a new ``email``: the bounce mark stays with the old address, and an
    invitee still to reply is sent the invitation again at the new one, with the
    same working link.
    """
    result = invitee_desk.edit_invitee(
        member, slug, email, body.model_dump(exclude_none=True), source=BODY, now=utcnow()
    )
    return InviteeEditOut(
        email=result.email,
        changed=result.changed,
        address_changed=result.address_changed,
        invitation_resent=result.invitation_resent,
    )


@router.delete("/events/{slug}/invitees/{email}", summary="Withdraw one invitation")
def withdraw_invitee(slug: Slug, email: InviteeEmail, member: Manager) -> WithdrawOut:
    """Status ``cancelled``; a cancellation (``METHOD:CANCEL``) goes to them; their link stops."""
    withdrawn = invitee_desk.withdraw_invitee(member, slug, email, now=utcnow())
    return WithdrawOut(email=normalise_email(email) or email, withdrawn=withdrawn)


@router.get("/events/{slug}/invitees/{email}/replies", summary="One invitee's reply history")
def invitee_replies(slug: Slug, email: InviteeEmail, member: Member) -> list[ReplyEntryOut]:
    """Every change of their reply, oldest first: who, when, from what to what, why."""
    return [
        ReplyEntryOut(
            at=entry.at,
            actor=entry.actor,
            from_status=entry.from_status,
            to_status=entry.to_status,
            guests=entry.guests,
            notes=entry.notes,
            reason=entry.reason,
        )
        for entry in invitee_desk.reply_history(member, slug, email)
    ]


@router.post("/events/{slug}/invitations/send", summary="Send the invitations")
def send(slug: Slug, member: Manager) -> QueuedOut:
    """Queue an invitation for every invitee who has none yet; sending twice queues nothing new."""
    return QueuedOut(queued=event_workflow.send_invitations(member, slug, now=utcnow()))


@router.post(
    "/events/{slug}/replies", summary="Record a reply on an invitee's behalf", responses=CONFLICT
)
def reply(slug: Slug, body: ReplyIn, member: Manager) -> ReplyOut:
    """For answers given by phone or letter: logged with the staff account and the reason.

    The invitee gets the same confirmation as after replying themselves. After
    the RSVP deadline the reply is refused (409) unless ``override_deadline``.
    """
    address = normalise_email(body.email)
    fields = {"response": body.response, "guests": str(body.guests), "notes": body.notes}
    result = invitee_workflow.reply_on_behalf_by_email(
        member,
        slug,
        body.email,
        fields,
        reason=body.reason,
        now=utcnow(),
        source=BODY,
        override_deadline=body.override_deadline,
    )
    if result.refused:
        raise Conflict(_refusal_text(result.refusal))
    return ReplyOut(
        email=address or body.email,
        from_status=result.from_status,
        status=result.status,
        guests=result.guests,
        changed=result.changed,
    )


def _refusal_text(refusal: str | None) -> str:
    if refusal == Refusal.DEADLINE_PASSED:
        return "the RSVP deadline has passed; send override_deadline to record it anyway"
    return "the event is closed to replies (cancelled, or the invitation no longer stands)"


# --- report and outbox ---------------------------------------------------------------------


@router.get("/events/{slug}/report", summary="The staff report")
def report(slug: Slug, member: Member) -> ReportOut:
    """Counts by reply status, organization and role, delivery states and attendance."""
    with read_session() as session:
        event_for(session, member, slug)
        return ReportOut.model_validate(event_report(session, slug).as_dict())


@router.get("/events/{slug}/messages", summary="The event's outbox")
def messages(
    slug: Slug,
    member: Member,
    status: Annotated[
        Literal["queued", "sending", "sent", "failed", "missed", "dropped"] | None,
        Query(description="Only messages in this state."),
    ] = None,
    kind: Annotated[
        Literal[
            "invitation",
            "confirmation",
            "update",
            "cancellation",
            "reminder",
            "nudge",
            "followup",
            "promotion",
            "message",
        ]
        | None,
        Query(description="Only messages of this kind."),
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = queries.PAGE_SIZE,
) -> MessagePageOut:
    """Every message of the event, newest first: state, attempts, the server's last answer."""
    with read_session() as session:
        event = event_for(session, member, slug)
        result = outbox_queries.message_page(
            session,
            outbox_queries.MessageQuery(
                event_id=event.id,
                status=status or "",
                kind=kind or "",
                page=page,
                per_page=per_page,
            ),
        )
    return MessagePageOut(
        items=[
            MessageOut(
                id=line.id,
                kind=line.kind,
                mailing=line.mailing,
                status=line.status,
                recipient=line.email,
                recipient_name=line.name,
                attempts=line.attempts,
                last_code=line.last_code,
                last_response=line.last_response,
                due_at=line.due_at,
                sent_at=line.sent_at,
                message_id=line.message_id,
            )
            for line in result.items
        ],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


# --- errors as JSON ------------------------------------------------------------------------


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(PREFIX + "/") or request.url.path == PREFIX


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """Request validation errors in the API's one problem format; elsewhere FastAPI's."""
    assert isinstance(exc, RequestValidationError)
    if not _is_api(request):
        return await request_validation_exception_handler(request, exc)
    problems = []
    for error in exc.errors():
        where, *path = error.get("loc", ()) or ("body",)
        field = _dotted(path) or None
        if where != "body":
            field = f"{where} parameter {field}" if field else str(where)
        problems.append(Problem(str(error.get("msg", "is not valid")), source=BODY, field=field))
    return _problems_response(problems)


async def _input_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InputError)
    return _problems_response(exc.problems)


async def _conflict(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=409)


def _problems_response(problems: list[Problem]) -> JSONResponse:
    count = len(problems)
    body = InputErrorBody(
        detail=f"{count} problem{'s' if count != 1 else ''}; nothing was written",
        problems=problems_out(problems),
    )
    return JSONResponse(body.model_dump(), status_code=422)


def _dotted(path: list[Any]) -> str:
    """``["invitees", 3, "email"]`` → ``invitees[3].email``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name
