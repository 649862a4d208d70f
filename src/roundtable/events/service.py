"""Storing a checked event file: create the event, or update it and say what changed.

What changed decides what happens next (``workflows.event_changes``): a new time or
place is a real change that raises the iCalendar SEQUENCE and sends updates
(docs/architecture.md, "Calendar"); new mailing rules reschedule reminders;
anything else is only stored. Loading the same
file twice changes nothing, not even ``updated_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlmodel import Session, col, select

from roundtable.errors import InputError, NotFound, Problem
from roundtable.events.model import AgendaItem, Event
from roundtable.events.spec import AgendaSpec, EventSpec

#: a change to any of these changes the event in invitees' calendars (SEQUENCE + 1, an update)
SCHEDULE_FIELDS = (
    "starts_at",
    "ends_at",
    "timezone",
    "venue",
    "room",
    "address",
    "title",
    "webcast_url",
)
#: a change to any of these moves the scheduled mailings
RULE_FIELDS = ("reminder_offsets", "nudge_offset", "followup_offset", "rsvp_deadline")
#: named in ``changed_fields`` when the programme differs; it is not a column of Event
AGENDA = "agenda"


@dataclass(frozen=True)
class LoadResult:
    """The stored event and what loading the file did to it."""

    event: Event
    created: bool
    #: names of the Event fields whose value changed, plus ``"agenda"`` when the programme did
    changed_fields: tuple[str, ...]
    schedule_changed: bool
    rules_changed: bool
    #: the value each changed Event field had before this load, so an update can say old → new
    previous: dict[str, Any] = field(default_factory=dict)


def load_event(session: Session, spec: EventSpec, now: datetime) -> LoadResult:
    """Create the event of ``spec``, or update the event with its slug, in ``session``."""
    event = session.exec(select(Event).where(Event.slug == spec.slug).with_for_update()).first()
    if event is None:
        return _create(session, spec, now)
    if event.is_cancelled:
        raise InputError(
            [
                Problem(
                    f"event {spec.slug!r} was cancelled; it can no longer be changed",
                    source=spec.source,
                    field="slug",
                )
            ]
        )
    return _update(session, event, spec, now)


def get_event(session: Session, slug: str) -> Event:
    """The event with ``slug``; ``NotFound`` when there is none."""
    event = session.exec(select(Event).where(Event.slug == slug)).first()
    if event is None:
        raise NotFound(f"no event with slug {slug!r}")
    return event


def get_live_event(session: Session, slug: str) -> Event:
    """The event with ``slug``, refused (``InputError``) once it has been cancelled."""
    event = get_event(session, slug)
    if event.is_cancelled:
        raise InputError([Problem(f"event {slug!r} was cancelled", field="slug")])
    return event


def agenda_of(session: Session, event: Event) -> list[AgendaItem]:
    """The event's programme, in the order the file gave it."""
    statement = (
        select(AgendaItem).where(AgendaItem.event_id == event.id).order_by(col(AgendaItem.position))
    )
    return list(session.exec(statement).all())


def event_values(spec: EventSpec) -> dict[str, Any]:
    """The Event columns that an event file sets, by model field name."""
    return {
        "slug": spec.slug,
        "title": spec.title,
        "format": spec.format,
        "description": spec.description,
        "access": spec.access,
        "translations": {lang: dict(words) for lang, words in spec.translations.items()},
        "starts_at": spec.starts,
        "ends_at": spec.ends,
        "timezone": spec.timezone,
        "venue": spec.venue,
        "room": spec.room,
        "address": spec.address,
        "webcast_url": spec.webcast_url,
        "capacity": spec.capacity,
        "max_guests": spec.max_guests,
        "rsvp_deadline": spec.rsvp_deadline,
        "reminder_offsets": list(spec.reminders),
        "nudge_offset": spec.nudge,
        "followup_offset": spec.followup_after,
        "co_organizers": list(spec.co_organizers),
        "organizer_name": spec.organizer.name,
        "organizer_email": spec.organizer.email,
        "contact_name": spec.contact.name,
        "contact_office": spec.contact.office,
        "contact_phone": spec.contact.phone,
        "contact_email": spec.contact.email,
    }


def schedule_changes(event: Event, spec: EventSpec) -> tuple[str, ...]:
    """The fields of time or place that ``spec`` would change: what sends updates."""
    values = event_values(spec)
    return tuple(name for name in SCHEDULE_FIELDS if getattr(event, name) != values[name])


def _create(session: Session, spec: EventSpec, now: datetime) -> LoadResult:
    event = Event(uid=f"{uuid4()}@roundtable", created_at=now, updated_at=now, **event_values(spec))
    session.add(event)
    session.flush()
    _add_agenda(session, event, spec.agenda)
    return LoadResult(
        event=event, created=True, changed_fields=(), schedule_changed=False, rules_changed=False
    )


def _update(session: Session, event: Event, spec: EventSpec, now: datetime) -> LoadResult:
    values = event_values(spec)
    changed = [name for name, value in values.items() if getattr(event, name) != value]
    previous = {name: getattr(event, name) for name in changed}
    for name in changed:
        setattr(event, name, values[name])
    if _agenda_rows(agenda_of(session, event)) != spec.agenda:
        _replace_agenda(session, event, spec.agenda)
        changed.append(AGENDA)
    schedule_changed = any(name in SCHEDULE_FIELDS for name in changed)
    if schedule_changed:
        event.sequence += 1
    if changed:
        event.updated_at = now
        session.add(event)
        session.flush()
    return LoadResult(
        event=event,
        created=False,
        changed_fields=tuple(changed),
        schedule_changed=schedule_changed,
        rules_changed=any(name in RULE_FIELDS for name in changed),
        previous=previous,
    )


def _agenda_rows(items: list[AgendaItem]) -> tuple[AgendaSpec, ...]:
    return tuple(
        AgendaSpec(
            time=item.time,
            title=item.title,
            speakers=tuple(item.speakers),
            description=item.description,
            translations=dict(item.translations),
        )
        for item in items
    )


def _replace_agenda(session: Session, event: Event, agenda: tuple[AgendaSpec, ...]) -> None:
    for item in agenda_of(session, event):
        session.delete(item)
    # the old rows must be gone before new ones take their (event, position) places
    session.flush()
    _add_agenda(session, event, agenda)


def _add_agenda(session: Session, event: Event, agenda: tuple[AgendaSpec, ...]) -> None:
    assert event.id is not None
    session.add_all(
        AgendaItem(
            event_id=event.id,
            position=position,
            time=item.time,
            title=item.title,
            speakers=list(item.speakers),
            description=item.description,
            translations=dict(item.translations),
        )
        for position, item in enumerate(agenda, start=1)
    )
    session.flush()
