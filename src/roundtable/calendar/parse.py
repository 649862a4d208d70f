"""Reading a calendar file back: what a recipient's calendar program would understand from it.

Used by tests and checks to judge what we send. Times are resolved with the
file's own VTIMEZONE, not with the system's zone of the same name, so that a
wrong VTIMEZONE shows up as a wrong instant instead of passing unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

from icalendar import Calendar
from icalendar import Event as VEvent


class ParsedAttendee(NamedTuple):
    email: str
    partstat: str
    role: str
    rsvp: bool


@dataclass(frozen=True)
class ParsedInvite:
    """The parts of a one-event calendar that invitees' calendar programs act on."""

    method: str
    uid: str
    sequence: int
    dtstart: datetime
    """Aware, in UTC."""
    dtend: datetime
    """Aware, in UTC."""
    attendees: tuple[ParsedAttendee, ...]
    organizer_email: str
    status: str
    has_alarm: bool
    summary: str
    location: str
    tzids: tuple[str, ...]
    """The TZIDs of the VTIMEZONEs the file carries."""


def parse_calendar(data: bytes) -> ParsedInvite:
    """Parse a VCALENDAR holding exactly one VEVENT; raise ValueError for anything else."""
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    if len(events) != 1:
        raise ValueError(f"expected one VEVENT, found {len(events)}")
    vevent = events[0]
    zones = {
        str(component["TZID"]): component.to_tz(lookup_tzid=False)
        for component in calendar.walk("VTIMEZONE")
    }
    dtstart = _instant(vevent, "DTSTART", zones)
    if "DTEND" in vevent:
        dtend = _instant(vevent, "DTEND", zones)
    elif "DURATION" in vevent:
        dtend = dtstart + vevent.decoded("DURATION")
    else:
        dtend = dtstart
    attendees = vevent.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    return ParsedInvite(
        method=str(calendar.get("METHOD", "")),
        uid=str(vevent.get("UID", "")),
        sequence=int(vevent.get("SEQUENCE", 0)),
        dtstart=dtstart,
        dtend=dtend,
        attendees=tuple(_attendee(address) for address in attendees),
        organizer_email=_email(vevent["ORGANIZER"]) if "ORGANIZER" in vevent else "",
        status=str(vevent.get("STATUS", "")),
        has_alarm=bool(vevent.walk("VALARM")),
        summary=str(vevent.get("SUMMARY", "")),
        location=str(vevent.get("LOCATION", "")),
        tzids=tuple(zones),
    )


def _instant(vevent: VEvent, name: str, zones: dict[str, tzinfo]) -> datetime:
    """The property's value as an aware UTC instant, its TZID read from the file's VTIMEZONE."""
    prop = vevent[name]
    value = prop.dt
    if not isinstance(value, datetime):
        kind = "a date" if isinstance(value, date) else type(value).__name__
        raise ValueError(f"{name} is {kind}, not a date-time")
    tzid = prop.params.get("TZID")
    if tzid is not None and str(tzid) in zones:
        value = value.replace(tzinfo=zones[str(tzid)])
    if value.tzinfo is None:
        raise ValueError(f"{name} is a floating time, tied to no time zone")
    return value.astimezone(UTC)


def _email(address: Any) -> str:
    text = str(address)
    return text[len("mailto:") :] if text.lower().startswith("mailto:") else text


def _attendee(address: Any) -> ParsedAttendee:
    params = address.params
    return ParsedAttendee(
        email=_email(address),
        partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
        role=str(params.get("ROLE", "REQ-PARTICIPANT")).upper(),
        rsvp=str(params.get("RSVP", "FALSE")).upper() == "TRUE",
    )
