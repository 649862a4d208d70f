"""Putting imported invitees on an event's list: contacts, organizations, invitations.

The rows come checked from :mod:`roundtable.invitations.invitee_file`; this module only
writes them. A contact is an address shared across events, matched by address;
what the row says about the person (name, position, organization, language, time
zone) goes on this event's invitation only, so an import never changes what
another event shows. The contact rows are written the same way whether or not
an address is known, and the counts speak only of this event's list: nothing
tells an organizer that an address is on another event's list (README, "Contacts
and events"). Organizations are matched by name. Everything is loaded in a few
bulk queries, not one per row, and written only where something changed, so
that importing the same file twice changes nothing, not even a timestamp.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from roundtable.db import write_session
from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import Event
from roundtable.invitations.invitee_file import InviteeRow, parse_invitee_bytes, parse_invitee_file
from roundtable.invitations.model import Invitation, Status
from roundtable.people.model import Contact, Organization
from roundtable.types import utcnow

#: How many values go into one ``IN (…)`` list: well below every backend's limit.
CHUNK = 500

T = TypeVar("T")


@dataclass
class ImportResult:
    """What an import did to this event's list, and nothing about any other event's."""

    #: invitees added to this event's list by this import
    created: int = 0
    #: invitees already on this event's list whose details or role the import changed
    #: (their status is never touched)
    updated: int = 0
    #: invitees already on this event's list, exactly as the file describes them
    unchanged: int = 0
    #: the rows left out with ``skip_invalid``, and why
    skipped: list[Problem] = field(default_factory=list)


def import_invitee_file(
    file: Path | str | bytes,
    event_slug: str,
    *,
    skip_invalid: bool,
    source: str = "upload",
    now: datetime | None = None,
) -> ImportResult:
    """Check the invitee file and import it into the event, in one transaction.

    ``file`` is a path, or the file's contents (then ``source`` names it in
    problems). With any problem and not ``skip_invalid``, raises :class:`InputError`
    listing every problem, and nothing is written. With ``skip_invalid``, the valid
    rows are imported and the problems come back in :attr:`ImportResult.skipped`;
    a file that cannot be read at all (encoding, header) is still an error.
    """
    if isinstance(file, bytes):
        parsed = parse_invitee_bytes(file, source)
    else:
        parsed = parse_invitee_file(Path(file))
    if parsed.problems and (not skip_invalid or not parsed.readable):
        raise InputError(parsed.problems)
    with write_session() as session:
        event = session.exec(select(Event).where(Event.slug == event_slug)).first()
        if event is None:
            raise NotFound(f"no event with slug {event_slug!r}")
        result = import_invitees(session, event, parsed.rows, now=now)
    result.skipped = list(parsed.problems)
    return result


def import_invitees(
    session: Session,
    event: Event,
    rows: Sequence[InviteeRow],
    *,
    now: datetime | None = None,
) -> ImportResult:
    """Put the rows on ``event``'s list with the details they give, for this event only.

    Runs in the caller's transaction and does not commit. A new invitation is
    ``not_invited``; an existing one keeps its status, and its details and role
    change only where the row states something different. Each address may appear
    once in ``rows`` (the parser guarantees it).
    """
    if event.is_cancelled:
        raise InputError(
            [Problem(f"event {event.slug!r} was cancelled; invitees cannot be added", field="slug")]
        )
    assert event.id is not None, "the event must be stored before invitees are added"
    emails = [row.email for row in rows]
    if len(set(emails)) != len(emails):
        raise ValueError("each address may appear only once in the rows of one import")
    now = now or utcnow()
    result = ImportResult()
    organizations = organizations_named(session, {row.organization for row in rows})
    contact_ids = _contact_ids_for(session, emails, now)
    invitations = _invitations_by_contact(session, event.id, list(contact_ids.values()))
    new_invitations: list[dict[str, object]] = []
    for row in rows:
        invitation = invitations.get(contact_ids[row.email])
        if invitation is None:
            new_invitations.append(
                _new_invitation(event.id, contact_ids[row.email], row, organizations, now)
            )
        elif apply_row(invitation, row, organizations, now):
            result.updated += 1
        else:
            result.unchanged += 1
    _insert_many(session, Invitation, new_invitations)
    result.created = len(new_invitations)
    session.flush()
    return result


def _contact_ids_for(session: Session, emails: list[str], now: datetime) -> dict[str, int]:
    """Every address's contact id, adding the addresses not yet known.

    Every address goes through the same ``INSERT … ON CONFLICT DO NOTHING``, known
    or not, so neither the statements nor their number depend on what other
    events hold.
    """
    values: list[dict[str, object]] = [
        {"email": email, "created_at": now, "updated_at": now} for email in emails
    ]
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in _chunks(values):
        session.execute(upsert(Contact).on_conflict_do_nothing(index_elements=["email"]), chunk)
    session.flush()
    return _contact_ids(session, emails)


def _details(row: InviteeRow) -> dict[str, object]:
    return {
        "honorific": row.honorific,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "full_name": row.full_name,
        "position": row.position,
        "language": row.language,
        "timezone": row.timezone,
    }


def _new_invitation(
    event_id: int,
    contact_id: int,
    row: InviteeRow,
    organizations: dict[str, Organization],
    now: datetime,
) -> dict[str, object]:
    organization = organizations.get(row.organization)
    return {
        "event_id": event_id,
        "contact_id": contact_id,
        **_details(row),
        "organization_id": organization.id if organization else None,
        "role": row.role,
        "status": Status.NOT_INVITED,
        "created_at": now,
        "updated_at": now,
    }


def _insert_many(session: Session, table: type[SQLModel], values: list[dict[str, object]]) -> None:
    for chunk in _chunks(values):
        session.execute(insert(table), chunk)


def apply_row(
    invitation: Invitation, row: InviteeRow, organizations: dict[str, Organization], now: datetime
) -> bool:
    """Bring this event's invitation in line with the row; ``True`` when anything changed.

    Only what the row states is applied: a blank optional cell keeps the stored
    value, and a row with just ``name`` keeps the first and last names when the
    full name is unchanged.
    """
    wanted: dict[str, object] = {}
    if row.first_name or row.last_name or invitation.full_name != row.full_name:
        wanted.update(first_name=row.first_name, last_name=row.last_name, full_name=row.full_name)
    for column in ("honorific", "position", "language", "timezone", "role"):
        if column in row.given:
            wanted[column] = getattr(row, column)
    if "organization" in row.given:
        wanted["organization_id"] = organizations[row.organization].id
    changes = {name: value for name, value in wanted.items() if getattr(invitation, name) != value}
    for name, value in changes.items():
        setattr(invitation, name, value)
    if changes:
        invitation.updated_at = now
    return bool(changes)


def organizations_named(session: Session, names: set[str]) -> dict[str, Organization]:
    """The organizations with these names, creating the ones not yet known."""
    names = {name for name in names if name}
    known: dict[str, Organization] = {}
    for chunk in _chunks(sorted(names)):
        query = select(Organization).where(col(Organization.name).in_(chunk))
        known.update((organization.name, organization) for organization in session.exec(query))
    for name in sorted(names - known.keys()):
        known[name] = Organization(name=name)
        session.add(known[name])
    session.flush()
    return known


def _contact_ids(session: Session, emails: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(emails):
        query = select(Contact.email, Contact.id).where(col(Contact.email).in_(chunk))
        ids.update((email, contact_id) for email, contact_id in session.exec(query) if contact_id)
    return ids


def _invitations_by_contact(
    session: Session, event_id: int, contact_ids: list[int]
) -> dict[int, Invitation]:
    invitations: dict[int, Invitation] = {}
    for chunk in _chunks(contact_ids):
        query = select(Invitation).where(
            Invitation.event_id == event_id, col(Invitation.contact_id).in_(chunk)
        )
        invitations.update(
            (invitation.contact_id, invitation) for invitation in session.exec(query)
        )
    return invitations


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
