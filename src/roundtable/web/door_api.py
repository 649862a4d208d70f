"""The organizer API at the door and for print: check-in, badges and place cards.

The same workflows as the dashboard's check-in page and print buttons, with the
same permissions (docs/architecture.md, "At the door").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from roundtable.staff.permissions import StaffMember
from roundtable.types import utcnow
from roundtable.web.api import ERRORS, PREFIX, Manager, Member, Slug
from roundtable.workflows import checkin as checkin_workflow
from roundtable.workflows import printing
from roundtable.workflows.checkin import Arrival

router = APIRouter(prefix=PREFIX, tags=["organizer API"], responses=ERRORS)

Email = Annotated[
    str,
    Path(
        min_length=3,
        max_length=320,
        description="The invitee's address.",
        examples=["a.rossi@example.org"],
    ),
]


class CheckinOut(BaseModel):
    """The invitee's attendance after the call."""

    email: str = Field(examples=["a.rossi@example.org"])
    name: str = Field(examples=["H.E. Ms. Ana Rossi"])
    status: str = Field(examples=["accepted"], description="Their reply.")
    attended_at: datetime | None = Field(description="When they were checked in; null if not.")
    changed: bool = Field(
        description="False when they were already checked in (or, undoing, were not)."
    )


def install(app: FastAPI) -> None:
    app.include_router(router)


@router.post("/events/{slug}/invitees/{email}/checkin", summary="Check an invitee in at the door")
def check_in(slug: Slug, email: Email, member: Manager) -> CheckinOut:
    """Marks the invitee as attended; a second call changes nothing and says so."""
    return _out(checkin_workflow.check_in_by_email(member, slug, email, now=utcnow()))


@router.delete("/events/{slug}/invitees/{email}/checkin", summary="Undo an invitee's check-in")
def undo_check_in(slug: Slug, email: Email, member: Manager) -> CheckinOut:
    """For a check-in made by mistake."""
    return _out(checkin_workflow.check_in_by_email(member, slug, email, now=utcnow(), undo=True))


def _out(arrival: Arrival) -> CheckinOut:
    invitee = arrival.invitee
    return CheckinOut(
        email=invitee.email,
        name=invitee.name,
        status=invitee.status,
        attended_at=invitee.attended_at,
        changed=arrival.changed,
    )


# --- badges and place cards ----------------------------------------------------------------

Statuses = Annotated[
    str,
    Query(
        max_length=200,
        description="Whose cards: one or more reply statuses, comma-separated.",
        examples=["accepted", "accepted,tentative"],
    ),
]
Order = Annotated[
    str,
    Query(
        max_length=20_000,
        description="Addresses to print first, in this order (comma-separated); "
        "the rest follow in protocol order.",
    ),
]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF."}
}


@router.get(
    "/events/{slug}/badges.pdf",
    summary="Name badges, several per A4 page, in protocol order",
    response_class=Response,
    responses=PDF,
)
def badges(
    slug: Slug, member: Member, status: Statuses = "accepted", order: Order = ""
) -> Response:
    """Honorific, name, position and organization, each in the script it was typed in."""
    return _pdf(member, slug, "badges", status, order)


@router.get(
    "/events/{slug}/place-cards.pdf",
    summary="Folded table tent cards, one per A4 page, in protocol order",
    response_class=Response,
    responses=PDF,
)
def place_cards(
    slug: Slug, member: Member, status: Statuses = "accepted", order: Order = ""
) -> Response:
    """Fold along the middle: both sides read upright on the table."""
    return _pdf(member, slug, "place-cards", status, order)


def _pdf(member: StaffMember, slug: str, kind: str, status: str, order: str) -> Response:
    data = printing.printed(
        member,
        slug,
        kind,
        statuses=printing.split_list(status),
        first=printing.split_list(order),
    )
    return pdf_response(data, f"{slug}-{kind}.pdf")


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF download; the filename is made of a slug, which its pattern keeps plain."""
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
