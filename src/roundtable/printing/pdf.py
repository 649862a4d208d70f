"""Badges and place cards for an event's list, laid out in HTML and CSS, printed by WeasyPrint.

Names are printed as typed, each line with ``dir="auto"`` and the invitee's
language, so Arabic runs right to left and Chinese takes the CJK face. The fonts
are Debian's Noto (``fonts-noto-core``, ``fonts-noto-cjk``; ``make`` installs
them), which cover the six languages.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.people.model import Contact, Organization
from roundtable.printing.protocol import Card, protocol_order

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: what can be printed, by the name the routes use
KINDS = {"badges": "badges.html", "place-cards": "place_cards.html"}


def cards_of(
    session: Session, event: Event, statuses: Sequence[str], first: Sequence[str] = ()
) -> list[Card]:
    """The event's invitees with one of ``statuses``, in protocol order."""
    rows = session.execute(
        select(Invitation, Contact.email, Organization.name)
        .select_from(Invitation)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .outerjoin(Organization, col(Organization.id) == Invitation.organization_id)
        .where(Invitation.event_id == event.id, col(Invitation.status).in_(list(statuses)))
    ).all()
    cards = [
        Card(
            email=email,
            honorific=invitation.honorific,
            full_name=invitation.full_name,
            last_name=invitation.last_name,
            position=invitation.position,
            organization=organization or "",
            role=invitation.role,
            language=invitation.language,
        )
        for invitation, email, organization in rows
    ]
    return protocol_order(cards, first)


def render_pdf(kind: str, event: Event, cards: Sequence[Card]) -> bytes:
    """The PDF of ``kind`` (a key of :data:`KINDS`) for these cards, in their order."""
    from weasyprint import HTML  # imported on use: it loads Pango, which a worker never needs

    html = _environment().get_template(KINDS[kind]).render(event=event, cards=cards)
    return bytes(HTML(string=html, base_url=str(TEMPLATES)).write_pdf())


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
