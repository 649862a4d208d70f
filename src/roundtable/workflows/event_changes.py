"""Loading an event file and acting on what changed: updates, rescheduled reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from roundtable.db import write_session
from roundtable.events.model import Event
from roundtable.events.service import LoadResult, load_event
from roundtable.events.spec import parse_event_file
from roundtable.invitations.model import Status
from roundtable.invitations.service import lock_event
from roundtable.mail.kinds import UpdateContext, event_changes
from roundtable.mail.mailings import queue_mailing
from roundtable.mail.model import MessageKind
from roundtable.schedule.service import resync_schedule
from roundtable.workflows.replies import promote_waiting

#: who hears of a change of time or place: everyone invited who has not declined
UPDATE_RECIPIENTS = (Status.INVITED, Status.ACCEPTED, Status.TENTATIVE, Status.WAITLISTED)


@dataclass(frozen=True)
class EventFileOutcome:
    slug: str
    created: bool
    changed_fields: tuple[str, ...]
    sequence: int
    updates_queued: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.slug,
            "created": self.created,
            "changed": list(self.changed_fields),
            "sequence": self.sequence,
            "updates_queued": self.updates_queued,
        }


def apply_event_file(path: Path, *, now: datetime, note: str = "") -> EventFileOutcome:
    """Validate the file, then create or update the event and its mail in one transaction.

    ``note`` is the organizers' paragraph for the update mail, if this load sends one.
    """
    spec = parse_event_file(path)
    with write_session() as session:
        result = load_event(session, spec, now)
        updates = react_to_change(session, result, now, note=note)
        event = result.event
        return EventFileOutcome(
            slug=event.slug,
            created=result.created,
            changed_fields=tuple(result.changed_fields),
            sequence=event.sequence,
            updates_queued=updates,
        )


def react_to_change(session: Session, result: LoadResult, now: datetime, *, note: str = "") -> int:
    """Queue the update mail for a change of time or place, reschedule reminders, and
    promote waiting invitees when the room grew."""
    event = result.event
    if result.created:
        return 0
    if "capacity" in result.changed_fields or "max_guests" in result.changed_fields:
        assert event.id is not None
        promote_waiting(session, lock_event(session, event.id), now=now)
    queued = 0
    if result.schedule_changed:
        queued = _queue_updates(session, event, result, now, note)
    if result.schedule_changed or result.rules_changed:
        resync_schedule(session, event, now)
    return queued


def _queue_updates(
    session: Session, event: Event, result: LoadResult, now: datetime, note: str
) -> int:
    """Updates that say what changed: the previous values are kept with the mailing."""
    current = {name: getattr(event, name) for name in result.previous}
    context = UpdateContext(
        sequence=event.sequence,
        changes=event_changes(result.previous, {**current, **_time_of(event)}),
        note=note.strip(),
    )
    queued = queue_mailing(
        session,
        event,
        statuses=UPDATE_RECIPIENTS,
        kind=MessageKind.UPDATE,
        mailing=f"update:{event.sequence}",
        due_at=now,
        context=context.to_json(),
    )
    return len(queued)


def _time_of(event: Event) -> dict[str, object]:
    return {"starts_at": event.starts_at, "ends_at": event.ends_at, "timezone": event.timezone}
