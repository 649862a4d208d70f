"""Publishing an event's recommendations and scheduling the follow-up mailing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from roundtable.db import write_session
from roundtable.errors import InputError, Problem, read_text_input
from roundtable.events.model import Event
from roundtable.events.service import get_live_event
from roundtable.invitations.model import Status
from roundtable.mail.mailings import queue_mailing
from roundtable.mail.model import MessageKind
from roundtable.schedule.rules import followup_due

#: the follow-up is decided per invitee at send time (attended? declined?); these may get one
FOLLOWUP_CANDIDATES = (
    Status.INVITED,
    Status.ACCEPTED,
    Status.TENTATIVE,
    Status.WAITLISTED,
    Status.DECLINED,
)
MAX_BYTES = 200_000


@dataclass(frozen=True)
class PublishResult:
    followups_scheduled: int
    due_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"followups_scheduled": self.followups_scheduled, "due_at": self.due_at.isoformat()}


def read_recommendations(path: Path) -> str:
    """The Markdown text of a file, checked: UTF-8, not empty, not huge."""
    text = read_text_input(path, max_bytes=MAX_BYTES)
    return checked_recommendations(text, str(path))


def checked_recommendations(text: str, source: str) -> str:
    """The text, refused when it is empty, huge, or carries characters no page can show."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BYTES:
        raise InputError([Problem(f"is larger than {MAX_BYTES} bytes", source=source)])
    if "\x00" in text:
        raise InputError([Problem("contains a NUL character", source=source)])
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise InputError([Problem("is not valid Unicode text", source=source)])
    if not text.strip():
        raise InputError([Problem("is empty", source=source)])
    return text.replace("\r\n", "\n")


def publish_recommendations(slug: str, path: Path, *, now: datetime) -> PublishResult:
    """Store the recommendations of a Markdown file and schedule the follow-up mailing."""
    return publish_recommendations_text(slug, read_recommendations(path), now=now, source=str(path))


def publish_recommendations_text(
    slug: str, text: str, *, now: datetime, source: str = "recommendations"
) -> PublishResult:
    """Store the recommendations and queue one follow-up row per possible recipient."""
    text = checked_recommendations(text, source)
    with write_session() as session:
        return publish_recommendations_in(session, get_live_event(session, slug), text, now=now)


def publish_recommendations_in(
    session: Session, event: Event, text: str, *, now: datetime, source: str = "recommendations"
) -> PublishResult:
    """:func:`publish_recommendations_text` inside the caller's transaction."""
    if event.is_cancelled:
        raise InputError([Problem(f"event {event.slug!r} was cancelled", field="slug")])
    text = checked_recommendations(text, source)
    event.recommendations = text
    event.recommendations_published_at = now
    event.updated_at = now
    session.add(event)
    queued = schedule_followups(session, event, now)
    return PublishResult(followups_scheduled=len(queued), due_at=followup_due(event, now))


def schedule_followups(session: Session, event: Event, now: datetime) -> list[int]:
    """One follow-up row per possible recipient; who gets which variant is decided at send."""
    return queue_mailing(
        session,
        event,
        statuses=FOLLOWUP_CANDIDATES,
        kind=MessageKind.FOLLOWUP,
        mailing="followup",
        due_at=followup_due(event, now),
    )
