"""A calendar answer (iTIP ``REPLY`` or ``COUNTER``, RFC 5546) as the clients send it.

Outlook puts it inline as ``text/calendar; method=REPLY`` in an alternative part,
Gmail adds it again as ``invite.ics``, Apple Mail and Thunderbird attach it only;
all carry one VEVENT with the UID we sent and one ATTENDEE with a PARTSTAT.
"""

from __future__ import annotations

from dataclasses import dataclass

from icalendar import Calendar

#: a calendar part larger than this is no reply (a calendar bomb, or a whole calendar)
MAX_CALENDAR = 200_000
MAX_COMPONENTS = 20
MAX_COMMENT = 1000


@dataclass(frozen=True)
class CalendarAnswer:
    """The one attendee's answer to one event."""

    method: str
    uid: str
    sequence: int
    attendee: str
    attendee_name: str
    partstat: str
    delegated_to: str = ""
    comment: str = ""
    #: Google Calendar's ``X-NUM-GUESTS``: the guests the attendee brings
    guests: int = 0


def calendar_answer(data: bytes) -> CalendarAnswer | None:
    """The answer a calendar part carries; ``None`` when it is not a REPLY or COUNTER.

    Raises ``ValueError`` for a part that claims to be one and cannot be read.
    """
    if len(data) > MAX_CALENDAR:
        raise ValueError("calendar part too large")
    calendar = Calendar.from_ical(data)
    method = str(calendar.get("METHOD", "")).strip().upper()
    if method not in ("REPLY", "COUNTER"):
        return None
    components = calendar.walk()
    if len(components) > MAX_COMPONENTS:
        raise ValueError("too many calendar components")
    events = [component for component in components if component.name == "VEVENT"]
    if not events:
        raise ValueError(f"{method} without a VEVENT")
    vevent = events[0]
    attendees = vevent.get("ATTENDEE")
    if attendees is None:
        raise ValueError(f"{method} without an ATTENDEE")
    attendee = attendees[0] if isinstance(attendees, list) else attendees
    params = attendee.params
    uid = str(vevent.get("UID", "")).strip()
    if not uid:
        raise ValueError(f"{method} without a UID")
    comment = vevent.get("COMMENT", "")
    if isinstance(comment, list):
        comment = " ".join(str(item) for item in comment)
    return CalendarAnswer(
        method=method,
        uid=uid[:255],
        sequence=_int(vevent.get("SEQUENCE", 0)),
        attendee=_address(attendee),
        attendee_name=" ".join(str(params.get("CN", "")).split())[:200],
        partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).strip().upper(),
        delegated_to=_address(params.get("DELEGATED-TO", "")),
        comment=" ".join(str(comment).split())[:MAX_COMMENT],
        guests=min(_int(params.get("X-NUM-GUESTS", 0)), 999),
    )


def _address(value: object) -> str:
    """``mailto:Ann@Example.org`` (or ``"mailto:…"``, or a list of one) as ``ann@example.org``."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    text = str(value).strip().strip('"')
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower()[:320]


def _int(value: object) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0
