"""Putting imported invitees on an event's list: contacts, organizations, invitations.

The rows come checked from :mod:`roundtable.invitations.invitee_file`; this module only
writes them. Contacts are shared across events and matched by address;
organizations by name. Everything is loaded in a few bulk queries, not one per
row, and written only where something changed, so that importing the same file
twice changes nothing, not even a timestamp.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import insert, update
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
    """What an import did, counted per invitee and per table."""

    #: invitees put on the event's list by this import
    created: int = 0
    #: invitees already on the list whose details or role the import changed
    updated: int = 0
    #: invitees already on the list, exactly as the file describes them
    unchanged: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    organizations_created: int = 0
    #: invitations whose role the import changed (their status is never touched)
    invitations_updated: int = 0
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
    """Upsert the rows' contacts and organizations and put them on ``event``'s list.

    Runs in the caller's transaction and does not commit. A new invitation is
    ``not_invited``; an existing one keeps its status, and its role changes only
    when the row states a different one. Each address may appear once in ``rows``
    (the parser guarantees it).
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
    organizations = _organizations(session, {row.organization for row in rows}, result)
    contact_ids, changed_contacts = _upsert_contacts(session, rows, organizations, now, result)
    invitations = _invitations_by_contact(session, event.id, list(contact_ids.values()))
    new_invitations: list[dict[str, object]] = []
    for row in rows:
        invitation = invitations.get(contact_ids[row.email])
        if invitation is None:
            new_invitations.append(_new_invitation(event.id, contact_ids[row.email], row, now))
            continue
        role_changed = "role" in row.given and invitation.role != row.role
        if role_changed:
            invitation.role = row.role
            invitation.updated_at = now
            result.invitations_updated += 1
        if role_changed or row.email in changed_contacts:
            result.updated += 1
        else:
            result.unchanged += 1
    _insert_many(session, Invitation, new_invitations)
    result.created = len(new_invitations)
    session.flush()
    _copy_organizations(session, list(contact_ids.values()))
    return result


def _copy_organizations(session: Session, contact_ids: Sequence[int]) -> None:
    """Give these contacts' invitations, to every event, the contact's organization.

    The invitation carries a copy so that reports group by it without a join; a
    row is written only where the copy differs.
    """
    contacts_organization = (
        select(Contact.organization_id)
        .where(col(Contact.id) == col(Invitation.contact_id))
        .scalar_subquery()
    )
    for chunk in _chunks(contact_ids):
        session.execute(
            update(Invitation)
            .where(
                col(Invitation.contact_id).in_(chunk),
                col(Invitation.organization_id).is_distinct_from(contacts_organization),
            )
            .values(organization_id=contacts_organization)
        )


def _upsert_contacts(
    session: Session,
    rows: Sequence[InviteeRow],
    organizations: dict[str, Organization],
    now: datetime,
    result: ImportResult,
) -> tuple[dict[str, int], set[str]]:
    """Every row's contact id by address, and the addresses whose contact changed."""
    contacts = _contacts_by_email(session, [row.email for row in rows])
    changed: set[str] = set()
    for row in rows:
        known = contacts.get(row.email)
        if known is not None and _apply_row(known, row, organizations, now):
            changed.add(row.email)
    new_rows = [row for row in rows if row.email not in contacts]
    _insert_contacts(session, new_rows, organizations, now)
    session.flush()
    result.contacts_updated = len(changed)
    result.contacts_created = len(new_rows)
    ids = {email: contact.id for email, contact in contacts.items() if contact.id}
    ids.update(_contact_ids(session, [row.email for row in new_rows]))
    return ids, changed


def _insert_contacts(
    session: Session, rows: list[InviteeRow], organizations: dict[str, Organization], now: datetime
) -> None:
    """Insert the new contacts in bulk: building one ORM object per row is the slow part."""
    values: list[dict[str, object]] = []
    for row in rows:
        organization = organizations.get(row.organization)
        values.append(
            {
                "email": row.email,
                "honorific": row.honorific,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "full_name": row.full_name,
                "position": row.position,
                "organization_id": organization.id if organization else None,
                "language": row.language,
                "timezone": row.timezone,
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert_many(session, Contact, values)


def _new_invitation(
    event_id: int, contact_id: int, row: InviteeRow, now: datetime
) -> dict[str, object]:
    return {
        "event_id": event_id,
        "contact_id": contact_id,
        "role": row.role,
        "status": Status.NOT_INVITED,
        "created_at": now,
        "updated_at": now,
    }


def _insert_many(session: Session, table: type[SQLModel], values: list[dict[str, object]]) -> None:
    for chunk in _chunks(values):
        session.execute(insert(table), chunk)


def _apply_row(
    contact: Contact, row: InviteeRow, organizations: dict[str, Organization], now: datetime
) -> bool:
    """Bring a known contact in line with the row; ``True`` when anything changed.

    Only what the row states is applied: a blank optional cell keeps the stored
    value, and a row with just ``name`` keeps the first and last names when the
    full name is unchanged.
    """
    wanted: dict[str, object] = {}
    if row.first_name or row.last_name or contact.full_name != row.full_name:
        wanted.update(first_name=row.first_name, last_name=row.last_name, full_name=row.full_name)
    for column in ("honorific", "position", "language", "timezone"):
        if column in row.given:
            wanted[column] = getattr(row, column)
    if "organization" in row.given:
        wanted["organization_id"] = organizations[row.organization].id
    changes = {name: value for name, value in wanted.items() if getattr(contact, name) != value}
    for name, value in changes.items():
        setattr(contact, name, value)
    if changes:
        contact.updated_at = now
    return bool(changes)


def _organizations(
    session: Session, names: set[str], result: ImportResult
) -> dict[str, Organization]:
    """The organizations with these names, creating the ones not yet known."""
    names = {name for name in names if name}
    known: dict[str, Organization] = {}
    for chunk in _chunks(sorted(names)):
        query = select(Organization).where(col(Organization.name).in_(chunk))
        known.update((organization.name, organization) for organization in session.exec(query))
    for name in sorted(names - known.keys()):
        known[name] = Organization(name=name)
        session.add(known[name])
        result.organizations_created += 1
    session.flush()
    return known


def _contacts_by_email(session: Session, emails: list[str]) -> dict[str, Contact]:
    contacts: dict[str, Contact] = {}
    for chunk in _chunks(emails):
        query = select(Contact).where(col(Contact.email).in_(chunk))
        contacts.update((contact.email, contact) for contact in session.exec(query))
    return contacts


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
