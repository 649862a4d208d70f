"""Which scheduled mailings an event has, and when each is due. Pure: time is passed in.

Scheduled mail (reminders, the nudge, follow-ups) is held as outbox rows with a
``due_at``, computed from the event's rules when invitations go out and
recomputed whenever the event moves (docs/architecture.md, "Scheduling"). Who
actually receives one is decided at send time, from the invitation's state then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from roundtable.events.model import Event
from roundtable.mail.model import MessageKind

#: a reminder or nudge found this long past its due time is marked missed, not sent late
MISSED_AFTER = timedelta(hours=6)

SCHEDULED_KINDS = (MessageKind.REMINDER, MessageKind.NUDGE)


@dataclass(frozen=True)
class Mailing:
    """One scheduled mailing of an event: its kind, unique key and due instant."""

    kind: str
    key: str
    due_at: datetime


def reminder_key(offset_seconds: int, sequence: int) -> str:
    """Reminders are per event version: if the event moves, the new time is reminded again."""
    return f"reminder:{offset_seconds}@{sequence}"


def scheduled_mailings(event: Event) -> list[Mailing]:
    """Every reminder and the nudge that the event's rules ask for, due or not."""
    mailings = [
        Mailing(
            MessageKind.REMINDER,
            reminder_key(offset, event.sequence),
            event.starts_at - timedelta(seconds=offset),
        )
        for offset in sorted(set(event.reminder_offsets), reverse=True)
    ]
    if event.nudge_offset is not None and event.rsvp_deadline is not None:
        mailings.append(
            Mailing(
                MessageKind.NUDGE,
                "nudge",
                event.rsvp_deadline - timedelta(seconds=event.nudge_offset),
            )
        )
    return mailings


def future_mailings(event: Event, now: datetime) -> list[Mailing]:
    """The scheduled mailings still ahead: those already past are not created at all."""
    return [mailing for mailing in scheduled_mailings(event) if mailing.due_at > now]


def followup_due(event: Event, now: datetime) -> datetime:
    """When the follow-up goes out: ``followup_after`` the end, or now if that has passed."""
    due = event.ends_at + timedelta(seconds=event.followup_offset or 0)
    return max(due, now)
