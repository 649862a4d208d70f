"""The report for people: a table on the terminal, and the invitee list as CSV."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, Status
from roundtable.people.model import Contact, Organization

INVITEE_COLUMNS = (
    "email",
    "honorific",
    "first_name",
    "last_name",
    "name",
    "position",
    "organization",
    "role",
    "language",
    "status",
    "guests",
    "notes",
    "represented_by",
    "representative_of",
    "invited_at",
    "responded_at",
    "attended_at",
)

#: a cell starting with one of these is a formula to a spreadsheet (CSV injection);
#: Excel reads the full-width forms as their ASCII twins
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: characters a spreadsheet may skip before it looks for a formula: zero-width ones
#: here, every kind of white space (tab, CR, NBSP, ideographic) through ``str.isspace``
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet could run ``value``: a formula starter after any blank lead.

    A leading tab or carriage return counts on its own, as OWASP advises.
    """
    if value.startswith(("\t", "\r")):
        return True
    start = next((i for i, char in enumerate(value) if not _blank(char)), len(value))
    return value[start:].startswith(FORMULA_STARTS)


def _blank(char: str) -> bool:
    return char.isspace() or char in INVISIBLE


def neutralise(value: str) -> str:
    """Make a CSV cell inert in Excel and LibreOffice: a formula gets a quote in front."""
    return "'" + value if looks_like_formula(value) else value


def print_report(report: dict[str, Any], console: Console) -> None:
    """The report as readable tables."""
    console.print(f"[bold]{report['title']}[/bold]  ({report['event']}, {report['event_status']})")
    console.print(
        f"{report['invitees']} invitees · response rate {report['response_rate']:.1%} · "
        f"{report['attended']} attended"
    )
    statuses = Table(title="Replies", title_justify="left")
    for status in Status.ALL:
        statuses.add_column(status.replace("_", " "), justify="right")
    statuses.add_row(*(str(report["status"][s]) for s in Status.ALL))
    console.print(statuses)
    for title, key in (("By organization", "by_organization"), ("By role", "by_role")):
        table = Table(title=title, title_justify="left")
        table.add_column(title.split()[-1])
        for status in Status.ALL:
            table.add_column(status.replace("_", " "), justify="right")
        for name, counts in report[key].items():
            table.add_row(name, *(str(counts.get(s, 0) or "") for s in Status.ALL))
        console.print(table)
    delivery = Table(title="Delivery", title_justify="left")
    for state in report["delivery"]:
        delivery.add_column(state, justify="right")
    delivery.add_row(*(str(n) for n in report["delivery"].values()))
    console.print(delivery)


def invitee_rows(session: Session, slug: str) -> list[dict[str, str]]:
    """One dict per invitation of the event, with the reply and attendance."""
    event = session.exec(select(Event).where(Event.slug == slug)).first()
    if event is None:
        raise NotFound(f"no event with slug {slug!r}")
    rows = session.exec(
        select(Invitation, Contact, Organization)
        .join(Contact, col(Contact.id) == Invitation.contact_id)
        .outerjoin(Organization, col(Organization.id) == Invitation.organization_id)
        .where(Invitation.event_id == event.id)
        .order_by(col(Invitation.last_name), col(Invitation.full_name))
    ).all()
    emails = {invitation.id: contact.email for invitation, contact, _ in rows}
    result = []
    for invitation, contact, organization in rows:
        result.append(
            {
                "email": contact.email,
                "honorific": invitation.honorific,
                "first_name": invitation.first_name,
                "last_name": invitation.last_name,
                "name": invitation.full_name,
                "position": invitation.position,
                "organization": organization.name if organization else "",
                "role": invitation.role,
                "language": invitation.language,
                "status": invitation.status,
                "guests": str(invitation.guests),
                "notes": invitation.notes,
                "represented_by": emails.get(invitation.represented_by_id, ""),
                "representative_of": emails.get(invitation.representative_of_id, ""),
                "invited_at": _iso(invitation.invited_at),
                "responded_at": _iso(invitation.responded_at),
                "attended_at": _iso(invitation.attended_at),
            }
        )
    return result


def write_invitees_csv(session: Session, slug: str, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=INVITEE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in invitee_rows(session, slug):
        writer.writerow({key: neutralise(value) for key, value in row.items()})


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""
