"""Staff actions on an event: create, change, send the invitations, import invitees, publish."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.events.service import load_event, schedule_changes
from roundtable.events.spec import EventSpec
from roundtable.invitations.invitee_file import (
    ParsedFile,
    parse_invitee_bytes,
    parse_invitee_mappings,
)
from roundtable.invitations.invitee_import import ImportResult, import_invitees
from roundtable.invitations.model import Invitation
from roundtable.people.model import Contact
from roundtable.staff.model import EventGrant
from roundtable.staff.permissions import Role, StaffMember, event_for, require_event_creator
from roundtable.workflows import Conflict
from roundtable.workflows.event_changes import UPDATE_RECIPIENTS, EventFileOutcome, react_to_change
from roundtable.workflows.recommendations import PublishResult, publish_recommendations_in
from roundtable.workflows.sending import send_invitations_in


def create_event(member: StaffMember, spec: EventSpec, *, now: datetime) -> EventFileOutcome:
    """Store a new event; an organizer who creates one is granted it. Never overwrites."""
    require_event_creator(member)
    try:
        with write_session() as session:
            if session.exec(select(Event.id).where(Event.slug == spec.slug)).first() is not None:
                raise Conflict(f"an event with slug {spec.slug!r} exists already")
            result = load_event(session, spec, now)
            event = result.event
            assert event.id is not None
            if member.role == Role.ORGANIZER:
                session.add(EventGrant(staff_id=member.id, event_id=event.id))
            return EventFileOutcome(
                slug=event.slug,
                created=True,
                changed_fields=(),
                sequence=event.sequence,
                updates_queued=0,
            )
    except IntegrityError:  # another request created the same slug at the same moment
        raise Conflict(f"an event with slug {spec.slug!r} exists already") from None


def update_event(
    member: StaffMember, slug: str, spec: EventSpec, *, now: datetime, note: str = ""
) -> EventFileOutcome:
    """Apply a changed event description to the event ``slug``, as ``events load`` does.

    ``note`` is the organizers' paragraph for the update mail, if the change sends one.
    """
    with write_session() as session:
        event_for(session, member, slug, manage=True, lock=True)
        if spec.slug != slug:
            raise InputError(
                [
                    Problem(
                        f"the slug cannot change from {slug!r} to {spec.slug!r}: it is in every "
                        "link already sent",
                        source=spec.source,
                        field="slug",
                    )
                ]
            )
        result = load_event(session, spec, now)
        updates = react_to_change(session, result, now, note=note)
        return EventFileOutcome(
            slug=result.event.slug,
            created=False,
            changed_fields=tuple(result.changed_fields),
            sequence=result.event.sequence,
            updates_queued=updates,
        )


@dataclass(frozen=True)
class UpdatePreview:
    """What saving a changed event would send, shown before it is saved."""

    #: the fields of time or place that change; empty when no update would be sent
    changed: tuple[str, ...]
    #: who would get the update, as "Name <address>", by name
    recipients: tuple[str, ...]


def preview_update(member: StaffMember, slug: str, spec: EventSpec) -> UpdatePreview:
    """Who would hear of this change, read before anything is written."""
    with read_session() as session:
        event = event_for(session, member, slug, manage=True)
        changed = schedule_changes(event, spec)
        if not changed or spec.slug != slug:
            return UpdatePreview(changed=(), recipients=())
        rows = session.exec(
            select(Invitation.full_name, Contact.email)
            .join(Contact, col(Contact.id) == Invitation.contact_id)
            .where(
                Invitation.event_id == event.id,
                col(Invitation.status).in_(UPDATE_RECIPIENTS),
            )
            .order_by(col(Invitation.last_name), col(Invitation.full_name))
        ).all()
    return UpdatePreview(
        changed=changed, recipients=tuple(f"{name} <{email}>" for name, email in rows)
    )


def send_invitations(member: StaffMember, slug: str, *, now: datetime) -> int:
    """Queue an invitation for everyone on the list who has none yet; return how many."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        return send_invitations_in(session, event, now=now)


def import_invitee_data(
    member: StaffMember,
    slug: str,
    data: bytes,
    *,
    skip_invalid: bool,
    source: str,
    now: datetime | None = None,
) -> ImportResult:
    """Check an invitee file's contents and put its invitees on the list: all, or nothing.

    The member's right comes first: what they sent is read only once they may change
    the event.
    """
    return _import_parsed(
        member, slug, lambda: parse_invitee_bytes(data, source), skip_invalid=skip_invalid, now=now
    )


def import_invitee_records(
    member: StaffMember,
    slug: str,
    records: Sequence[Mapping[str, str | None]],
    *,
    skip_invalid: bool,
    source: str,
    now: datetime | None = None,
) -> ImportResult:
    """As :func:`import_invitee_data`, for invitees given as mappings of the file's columns."""
    return _import_parsed(
        member,
        slug,
        lambda: parse_invitee_mappings(records, source),
        skip_invalid=skip_invalid,
        now=now,
    )


def _import_parsed(
    member: StaffMember,
    slug: str,
    parse: Callable[[], ParsedFile],
    *,
    skip_invalid: bool,
    now: datetime | None,
) -> ImportResult:
    """Check the member's right, then the rows, then write them: all, or with ``skip_invalid``
    the valid ones."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        parsed = parse()
        if parsed.problems and (not skip_invalid or not parsed.readable):
            raise InputError(parsed.problems)
        result = import_invitees(session, event, parsed.rows, now=now)
    result.skipped = list(parsed.problems)
    return result


def publish_recommendations(
    member: StaffMember, slug: str, text: str, *, now: datetime
) -> PublishResult:
    """Store the recommendations and schedule the follow-up mailing."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        return publish_recommendations_in(session, event, text, now=now)
