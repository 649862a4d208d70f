"""Badges and place cards of an event: whom to print, in which order, checked like any read."""

from __future__ import annotations

from collections.abc import Sequence

from roundtable.db import read_session
from roundtable.errors import InputError, Problem
from roundtable.invitations.model import Status
from roundtable.printing.pdf import KINDS, cards_of, render_pdf
from roundtable.staff.permissions import StaffMember, event_for


def printed(
    member: StaffMember,
    slug: str,
    kind: str,
    *,
    statuses: Sequence[str] = (Status.ACCEPTED,),
    first: Sequence[str] = (),
) -> bytes:
    """The PDF of ``kind`` ("badges", "place-cards") for the invitees with ``statuses``.

    ``first`` lists addresses the organizer wants ahead of protocol order.
    """
    unknown = [status for status in statuses if status not in Status.ALL]
    if unknown or not statuses:
        expected = ", ".join(Status.ALL)
        given = ", ".join(unknown) or "nothing"
        raise InputError([Problem(f"status: {given} is not one of {expected}", field="status")])
    if kind not in KINDS:
        raise InputError([Problem(f"nothing to print called {kind!r}", field="kind")])
    with read_session() as session:
        event = event_for(session, member, slug)
        cards = cards_of(session, event, statuses, first)
    return render_pdf(kind, event, cards)


def split_list(value: str | None) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``: how a query names several statuses or addresses."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]
