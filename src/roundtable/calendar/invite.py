"""Building the iCalendar file that goes with an invitation, an update or a cancellation.

Pure: the event, its agenda, the invitee and the current instant come in,
bytes come out. One VEVENT per file, with the event's stable UID and its
SEQUENCE, so that calendar programs update the entry they already have
instead of adding a second one.

Methods (RFC 5546):

- ``REQUEST``: the invitation, an update, a confirmation after an RSVP, and
  the invitee's own ``invite.ics`` download. The download uses REQUEST too, with
  the invitee's current PARTSTAT, so that it is the same calendar entry as the
  one the mail carried and later updates apply to it.
- ``CANCEL``: the event was cancelled, or the invitee declined and their copy
  should leave their calendar.
- ``PUBLISH``: a plain, public copy of the event with no ATTENDEE line (RFC 5546
  forbids attendees in PUBLISH), for a page anyone may download.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, vCalAddress, vText
from icalendar import Event as VEvent

from roundtable.calendar.timezones import vtimezone_text
from roundtable.events.model import AgendaItem, Event
from roundtable.invitations.model import Invitation, InviteeRole, Status
from roundtable.people.model import Contact
from roundtable.presentation import i18n
from roundtable.presentation.event import (
    agenda_title,
    calendar_words,
    contact_person,
    event_words,
    location_of,
)

PRODID = "-//Roundtable//Roundtable//EN"

Method = Literal["REQUEST", "CANCEL", "PUBLISH"]
PartStat = Literal["NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"]
METHODS: tuple[str, ...] = get_args(Method)
PARTSTATS: tuple[str, ...] = get_args(PartStat)

ALARM_BEFORE = timedelta(hours=1)
"""When the calendar program reminds the invitee; the reminder mails cover the days before."""

ICAL_ROLES: dict[str, str] = {
    InviteeRole.PARTICIPANT: "REQ-PARTICIPANT",
    InviteeRole.SPEAKER: "REQ-PARTICIPANT",
    InviteeRole.PANELLIST: "REQ-PARTICIPANT",
    InviteeRole.MODERATOR: "CHAIR",
    InviteeRole.OBSERVER: "OPT-PARTICIPANT",
}

PARTSTAT_OF_STATUS: dict[str, PartStat] = {
    Status.NOT_INVITED: "NEEDS-ACTION",
    Status.INVITED: "NEEDS-ACTION",
    Status.ACCEPTED: "ACCEPTED",
    Status.TENTATIVE: "TENTATIVE",
    Status.WAITLISTED: "TENTATIVE",
    Status.DECLINED: "DECLINED",
    Status.CANCELLED: "DECLINED",
}
"""How an invitation's state shows in a calendar; a waiting-list place is not yet a seat."""

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Attendee:
    """The one invitee a calendar file is addressed to."""

    email: str
    name: str
    role: str = InviteeRole.PARTICIPANT
    partstat: PartStat = "NEEDS-ACTION"
    rsvp: bool = True

    def __post_init__(self) -> None:
        if not self.email or _LINE_BREAKS.search(self.email):
            raise ValueError(f"attendee email {self.email!r} is not a single address")
        if self.role not in InviteeRole.ALL:
            roles = ", ".join(InviteeRole.ALL)
            roles = ", ".join(InviteeRole.ALL)
            raise ValueError(f"attendee role {self.role!r} is not one of {roles}")
        if self.partstat not in PARTSTATS:
            raise ValueError(f"PARTSTAT {self.partstat!r} is not one of {', '.join(PARTSTATS)}")

    @classmethod
    def of(cls, contact: Contact, invitation: Invitation) -> Attendee:
        """The attendee for an invitation as it stands; a reply is asked for until one is given."""
        partstat = PARTSTAT_OF_STATUS[invitation.status]
        return cls(
            email=contact.email,
            name=invitation.display_name,
            role=invitation.role,
            partstat=partstat,
            rsvp=partstat == "NEEDS-ACTION",
        )


def build_calendar(
    event: Event,
    agenda: Sequence[AgendaItem],
    *,
    method: str,
    attendee: Attendee | None,
    now: datetime,
    rsvp_url: str | None = None,
    with_alarm: bool = True,
    language: str = "en",
) -> bytes:
    """The whole ``text/calendar`` document, CRLF line endings, lines folded at 75 octets.

    ``now`` becomes DTSTAMP. A cancellation (``CANCEL``, or any method for a
    cancelled event) is ``STATUS:CANCELLED``, carries no alarm and no reply link.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    for name, instant in (("now", now), ("starts_at", event.starts_at), ("ends_at", event.ends_at)):
        if instant.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime, got {instant!r}")
    cancelled = method == "CANCEL" or event.is_cancelled
    facts = _Frame.of(event, method, cancelled=cancelled, with_alarm=with_alarm, language=language)
    frame = _frame(facts)
    reply_url = None if cancelled else rsvp_url
    own = VEvent()
    own.add("DTSTAMP", now.astimezone(UTC).replace(microsecond=0))
    description = describe(event, agenda, reply_url, cancelled=cancelled, language=language)
    if description:
        own.add("DESCRIPTION", _Text(description))
    url = reply_url or event.webcast_url
    if url:
        own.add("URL", url)
    if attendee is not None and method != "PUBLISH":
        own.add("ATTENDEE", _attendee(attendee))
    lines = {name: own.content_line(name, value).to_ical() + b"\r\n" for name, value in own.items()}
    return b"".join(piece if isinstance(piece, bytes) else lines.get(piece, b"") for piece in frame)


#: the properties that differ from one invitee's copy to the next: the rest is the frame
_OWN_PROPERTIES = ("DTSTAMP", "DESCRIPTION", "URL", "ATTENDEE")


@dataclass(frozen=True)
class _Frame:
    """What a calendar file shares with every other invitee's copy of the same message."""

    method: str
    cancelled: bool
    with_alarm: bool
    uid: str
    sequence: int
    starts: datetime
    ends: datetime
    timezone: str
    #: the year on the venue's clock, which the VTIMEZONE describes
    year: int
    title: str
    location: str
    organizer: tuple[str, str]

    @classmethod
    def of(
        cls, event: Event, method: str, *, cancelled: bool, with_alarm: bool, language: str
    ) -> _Frame:
        """The shared part for readers of ``language``: the SUMMARY is the reader's title."""
        zone = ZoneInfo(event.timezone)
        return cls(
            method=method,
            cancelled=cancelled,
            with_alarm=with_alarm and not cancelled,
            uid=event.uid,
            sequence=event.sequence,
            starts=_wall_clock(event.starts_at, zone),
            ends=_wall_clock(event.ends_at, zone),
            timezone=event.timezone,
            year=event.starts_at.astimezone(zone).year,
            title=event_words(event, language).title,
            location=location_of(event),
            organizer=(event.organizer_email, event.organizer_name),
        )


@lru_cache(maxsize=64)
def _frame(facts: _Frame) -> tuple[bytes | str, ...]:
    """The calendar with a named gap where each invitee's own properties go.

    A mailing writes the same calendar for thousands of invitees but for four
    properties; the rest is serialised once. The gaps are marked by placeholder
    lines, which no text can forge (see :class:`_Placeholder`).
    """
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", facts.method)

    vevent = VEvent()
    vevent.add("UID", _Text(facts.uid))
    vevent.add("SEQUENCE", facts.sequence)
    vevent.add("DTSTART", facts.starts)
    vevent.add("DTEND", facts.ends)
    vevent.add("SUMMARY", _Text(facts.title))
    if facts.location:
        vevent.add("LOCATION", _Text(facts.location))
    vevent.add("ORGANIZER", _address(*facts.organizer))
    for name in _OWN_PROPERTIES:
        vevent.add(name, _Placeholder(_placeholder(name)))
    vevent.add("STATUS", "CANCELLED" if facts.cancelled else "CONFIRMED")
    vevent.add("TRANSP", "OPAQUE")
    vevent.add("CLASS", "PUBLIC")
    if facts.with_alarm:
        vevent.add_component(_alarm(facts.title))
    calendar.add_component(vevent)
    # The VTIMEZONE comes before the event, as written out once for the zone and year.
    timezone = vtimezone_text(facts.timezone, facts.year)
    head, event_start, rest = bytes(calendar.to_ical()).partition(b"BEGIN:VEVENT\r\n")
    pieces: list[bytes | str] = []
    lines: list[bytes] = []
    # A folded line continues after CRLF and a space, so no piece of one is a placeholder.
    for line in (head + timezone + event_start + rest).split(b"\r\n")[:-1]:
        gap = _PLACEHOLDERS.get(line)
        if gap is None:
            lines.append(line + b"\r\n")
        else:
            pieces += [b"".join(lines), gap]
            lines = []
    return (*pieces, b"".join(lines))


def _placeholder(name: str) -> str:
    return f"roundtable;own;{name.lower()}"


class _Placeholder(vText):
    """A gap's marker, written as it is: with semicolons, which every text escapes.

    Text written into the frame (a title, a place, the alarm's DESCRIPTION) has
    each ``;`` escaped as ``\\;``, so no event, however named, can produce a line
    that reads as a gap.
    """

    def to_ical(self) -> bytes:
        return str(self).encode("ascii")


_PLACEHOLDERS = {f"{name}:{_placeholder(name)}".encode("ascii"): name for name in _OWN_PROPERTIES}


def describe(
    event: Event,
    agenda: Sequence[AgendaItem],
    rsvp_url: str | None,
    *,
    cancelled: bool = False,
    language: str = "en",
) -> str:
    """The plain-text DESCRIPTION: reply link, programme, webcast and whom to ask.

    Outlook ignores it (the mail body repeats all of it), but Google,
    Apple and Thunderbird show it with the entry.
    """
    words = calendar_words(language)
    own = partial(i18n.isolate, language)  # a value a run of its own for a right-to-left reader
    paragraphs = []
    if cancelled:
        paragraphs.append(words.cancelled)
    elif rsvp_url:
        paragraphs.append(f"{words.reply} {own(rsvp_url)}")
    items = sorted(agenda, key=lambda item: item.position)
    lines = [own(_agenda_line(item, language)) for item in items]
    if lines:
        paragraphs.append("\n".join([words.programme, *lines]))
    if event.webcast_url:
        paragraphs.append(f"{words.webcast} {own(event.webcast_url)}")
    paragraphs.append(f"{words.contact} {own(contact_person(event).one_line)}")
    return i18n.typeset(language, "\n\n".join(paragraphs))


def _wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant on the venue's clock, or in UTC when that clock cannot say it.

    In the hour repeated when daylight saving time ends, a wall-clock time
    names two instants and readers take the first (RFC 5545, 3.3.5); an
    instant in the second pass is written in UTC so that it is read right.
    """
    local = instant.astimezone(zone)
    return instant.astimezone(UTC) if local.fold else local


def _agenda_line(item: AgendaItem, language: str) -> str:
    title = agenda_title(item, language)
    line = f"{item.time} {title}" if item.time else title
    if item.speakers:
        line += " — " + ", ".join(item.speakers)
    return line


class _Text(vText):
    """A TEXT value escaped as RFC 5545 says.

    icalendar's own escaping turns a literal backslash followed by ``N`` into
    a line break and lets a lone CR through, which ends the line early; here
    backslashes are escaped first, every kind of line break becomes ``\\n`` and
    other control characters (which TEXT may not hold) are dropped.
    """

    def to_ical(self) -> bytes:
        text = _CONTROL_CHARACTERS.sub("", _LINE_BREAKS.sub("\n", str(self)))
        escaped = (
            text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )
        return escaped.encode(self.encoding)


def _parameter_text(value: str) -> str:
    """A value fit for a parameter such as CN: one line, no double quote (RFC 5545 forbids it)."""
    one_line = _LINE_BREAKS.sub(" ", value)
    return _CONTROL_CHARACTERS.sub("", one_line).replace('"', "'").strip()


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    common_name = _parameter_text(name)
    if common_name:
        address.params["CN"] = common_name
    return address


def _attendee(attendee: Attendee) -> vCalAddress:
    address = _address(attendee.email, attendee.name)
    address.params["CUTYPE"] = "INDIVIDUAL"
    address.params["ROLE"] = ICAL_ROLES[attendee.role]
    address.params["PARTSTAT"] = attendee.partstat
    address.params["RSVP"] = "TRUE" if attendee.rsvp else "FALSE"
    return address


def _alarm(title: str) -> Alarm:
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", -ALARM_BEFORE)
    alarm.add("DESCRIPTION", _Text(title))
    return alarm
