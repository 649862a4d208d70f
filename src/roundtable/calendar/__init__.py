"""iCalendar files for invitations, updates and cancellations, and reading them back."""

from roundtable.calendar.invite import (
    METHODS,
    PARTSTAT_OF_STATUS,
    PARTSTATS,
    PRODID,
    Attendee,
    Method,
    PartStat,
    build_calendar,
)
from roundtable.calendar.parse import ParsedAttendee, ParsedInvite, parse_calendar
from roundtable.calendar.timezones import vtimezone

__all__ = [
    "METHODS",
    "PARTSTATS",
    "PARTSTAT_OF_STATUS",
    "PRODID",
    "Attendee",
    "Method",
    "ParsedAttendee",
    "ParsedInvite",
    "PartStat",
    "build_calendar",
    "parse_calendar",
    "vtimezone",
]
