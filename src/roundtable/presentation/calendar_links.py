"""Links that open Google Calendar and Outlook on the web with the event filled in.

They carry the event, never the invitee's link: the token must not travel to a
third party in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from roundtable.events.model import Event
from roundtable.presentation.event import EventWords, event_words, location_of
from roundtable.presentation.markdown import markdown_to_text

#: Calendar services put the details in their URL; keep it well under URL length limits.
MAX_CALENDAR_DETAILS = 1000


@dataclass(frozen=True)
class CalendarLinks:
    """Where "Add to calendar" leads, besides the page's own ``invite.ics``."""

    google: str
    outlook: str


def calendar_links(event: Event, language: str) -> CalendarLinks:
    """Links that open Google Calendar and Outlook on the web with the event filled in.

    They carry the event, never the invitee's link: the token must not travel to
    a third party in a URL.
    """
    location = location_of(event)
    words = event_words(event, language)
    details = _calendar_details(event, words)
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": words.title,
            "dates": f"{_compact_utc(event.starts_at)}/{_compact_utc(event.ends_at)}",
            "details": details,
            "location": location,
            "ctz": event.timezone,
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": words.title,
            "startdt": _iso_utc(event.starts_at),
            "enddt": _iso_utc(event.ends_at),
            "body": details,
            "location": location,
        }
    )
    return CalendarLinks(google=google, outlook=outlook)


def _calendar_details(event: Event, words: EventWords) -> str:
    parts = [words.format, markdown_to_text(words.description)]
    if event.webcast_url:
        parts.append(f"Webcast: {event.webcast_url}")
    text = "\n\n".join(part for part in parts if part)
    if len(text) > MAX_CALENDAR_DETAILS:
        text = text[: MAX_CALENDAR_DETAILS - 1].rstrip() + "…"
    return text


def _compact_utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _iso_utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
