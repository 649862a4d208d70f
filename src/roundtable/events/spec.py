"""The event file (docs/interfaces.md, "Event file"): TOML in, a checked ``EventSpec`` out.

Pure: no database.

Every problem in a file is collected and raised together in one ``InputError``; each
names the file, the line where the key is written, and the field as a dotted key
(``organizer.email``, ``agenda[2].time``: positions in lists count from 1, as people count).

Times in the file are wall-clock times at the venue, in the event's ``timezone``; here
they become aware UTC instants. A time the venue's clocks skip (the hour lost when
daylight saving time begins) is an error. A time they show twice (the hour repeated when
it ends) means the first occurrence, while daylight saving time is still on.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from roundtable.errors import InputError, Problem
from roundtable.events.durations import parse_duration
from roundtable.events.toml_lines import KeyLines, KeyPath
from roundtable.people.emails import email_problem

TOP_LEVEL_KEYS = (
    "slug",
    "title",
    "format",
    "starts",
    "ends",
    "timezone",
    "venue",
    "room",
    "address",
    "webcast_url",
    "capacity",
    "max_guests",
    "rsvp_deadline",
    "reminders",
    "nudge",
    "followup_after",
    "description",
    "co_organizers",
    "organizer",
    "contact",
    "agenda",
)
ORGANIZER_KEYS = ("name", "email")
CONTACT_KEYS = ("name", "office", "phone", "email")
AGENDA_KEYS = ("time", "title", "speakers", "description")

#: the longest each one-line text may be: the column sizes of ``events.model``
MAX_LENGTHS = {
    "title": 500,
    "format": 200,
    "timezone": 64,
    "venue": 300,
    "room": 200,
    "address": 500,
    "webcast_url": 500,
    "organizer.name": 200,
    "organizer.email": 320,
    "contact.name": 200,
    "contact.office": 200,
    "contact.phone": 100,
    "contact.email": 320,
    "agenda.title": 500,
}
#: co-organizers and speakers are stored as JSON lists; this keeps each entry to a line
MAX_LIST_ENTRY_LENGTH = 300

SLUG = re.compile(r"[a-z0-9-]+")
MAX_SLUG_LENGTH = 100
MAX_FILE_BYTES = 1_000_000
MAX_CAPACITY = 1_000_000
MAX_GUESTS = 100
#: years outside this range are typos, and near the ends of ``datetime`` they overflow
FIRST_YEAR, LAST_YEAR = 1970, 2100

_LOCAL_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
)
_UTC_OFFSET = re.compile(r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)", re.IGNORECASE)
_AGENDA_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
#: stands in for a time that could not be read, in a spec that is then thrown away
_NO_TIME = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
#: what a multi-line text (a description) may hold beyond printable characters
_MULTILINE_WHITESPACE = "\n\t\u2028\u2029"
#: names in the zone database that are files there but not time zones
_NOT_ZONES = frozenset({"localtime", "posixrules"})


@dataclass(frozen=True)
class OrganizerSpec:
    """Who sends: the From of every message and the iCalendar ORGANIZER."""

    name: str
    email: str


@dataclass(frozen=True)
class ContactSpec:
    """Whom invitees may ask "for further information"; every part may be left out."""

    name: str = ""
    office: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class AgendaSpec:
    """One line of the programme; ``time`` is ``HH:MM`` at the venue, or empty."""

    time: str
    title: str
    speakers: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class EventSpec:
    """An event file, checked and converted: instants in UTC, durations in seconds."""

    slug: str
    title: str
    starts: datetime
    ends: datetime
    timezone: str
    organizer: OrganizerSpec
    format: str = ""
    venue: str = ""
    room: str = ""
    address: str = ""
    webcast_url: str = ""
    capacity: int | None = None
    #: accompanying guests an invitee may bring (an extension: docs/interfaces.md, "Event file")
    max_guests: int = 0
    rsvp_deadline: datetime | None = None
    #: seconds before the start, largest (earliest reminder) first, no repeats
    reminders: tuple[int, ...] = ()
    #: seconds before the RSVP deadline
    nudge: int | None = None
    #: seconds after the end
    followup_after: int | None = None
    description: str = ""
    co_organizers: tuple[str, ...] = ()
    contact: ContactSpec = ContactSpec()
    agenda: tuple[AgendaSpec, ...] = ()
    #: the file it came from, for messages about it
    source: str = ""


def parse_event_file(path: Path) -> EventSpec:
    """Read and check an event file; ``InputError`` lists every problem in it."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError([Problem("no such file", source=source)]) from None
    except OSError as error:
        raise InputError([Problem(f"cannot be read ({error.strerror})", source=source)]) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Problem(f"is larger than {MAX_FILE_BYTES} bytes", source=source)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError([Problem("is not UTF-8 text", source=source, line=line)]) from None
    return parse_event_text(text, source)


def parse_event_text(text: str, source: str) -> EventSpec:
    """Check the TOML ``text`` of an event file named ``source`` (used in messages only)."""
    document = _load_toml(text, source)
    reader = _Reader(source, KeyLines(text))
    spec = _read_event(reader, document)
    if spec is None:
        raise InputError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    return spec


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant at which clocks in ``zone`` show the naive ``local`` time.

    ``ValueError`` when they never show it (skipped when daylight saving time begins).
    When they show it twice (repeated when it ends), the first occurrence is meant.
    """
    instant = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    shown = instant.astimezone(zone).replace(tzinfo=None)
    if shown != local:
        raise ValueError(
            f"{local.isoformat()} does not exist in {zone.key}: the clocks skip that time "
            f"when daylight saving time begins (did you mean {shown.isoformat()}?)"
        )
    return instant


def field_name(path: KeyPath) -> str:
    """``("agenda", 2, "time")`` → ``agenda[2].time``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


# -- reading the whole file -----------------------------------------------------------------


def _load_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line, where = None, ""
        if position is not None:
            message = message[: position.start()]
            if position[1] is None:
                line, where = text.count("\n") + 1, " at the end of the file"
            else:
                line, where = int(position[1]), f" at column {position[2]}"
        problem = Problem(f"is not valid TOML: {message}{where}", source=source, line=line)
        raise InputError([problem]) from None
    except RecursionError:
        problem = Problem("is not valid here: lists or tables nested too deeply", source=source)
        raise InputError([problem]) from None


def _read_event(reader: _Reader, document: dict[str, Any]) -> EventSpec | None:
    """The event in ``document``, or ``None`` when something it needs is missing or wrong."""
    reader.unknown_keys(document, TOP_LEVEL_KEYS, ())
    slug = reader.slug(document)
    title = reader.text(document, ("title",), required=True)
    zone = reader.zone(document, ("timezone",))
    starts = reader.local_datetime(document, ("starts",), zone, required=True)
    ends = reader.local_datetime(document, ("ends",), zone, required=True)
    rsvp_deadline = reader.local_datetime(document, ("rsvp_deadline",), zone)
    nudge = reader.duration(document, ("nudge",))
    organizer = _read_organizer(reader, document)
    if starts is not None and ends is not None and ends <= starts:
        reader.problem(("ends",), f"must be after starts ({document['starts']})")
    if starts is not None and rsvp_deadline is not None and rsvp_deadline > starts:
        reader.problem(("rsvp_deadline",), f"must not be after starts ({document['starts']})")
    if nudge is not None and "rsvp_deadline" not in document:
        reader.problem(("nudge",), "needs an rsvp_deadline: the nudge is sent before it")
    spec = EventSpec(
        slug=slug or "",
        title=title,
        starts=starts or _NO_TIME,
        ends=ends or _NO_TIME,
        timezone=zone.key if zone else "",
        organizer=organizer or OrganizerSpec("", ""),
        format=reader.text(document, ("format",)),
        venue=reader.text(document, ("venue",)),
        room=reader.text(document, ("room",)),
        address=reader.text(document, ("address",)),
        webcast_url=reader.web_address(document, ("webcast_url",)),
        capacity=reader.integer(document, ("capacity",), minimum=1, maximum=MAX_CAPACITY),
        max_guests=reader.integer(document, ("max_guests",), minimum=0, maximum=MAX_GUESTS) or 0,
        rsvp_deadline=rsvp_deadline,
        reminders=reader.reminders(document, ("reminders",)),
        nudge=nudge,
        followup_after=reader.duration(document, ("followup_after",)),
        description=reader.text(document, ("description",), multiline=True),
        co_organizers=reader.text_list(document, ("co_organizers",)),
        contact=_read_contact(reader, document),
        agenda=_read_agenda(reader, document),
        source=reader.source,
    )
    return None if reader.problems else spec


def _read_organizer(reader: _Reader, document: dict[str, Any]) -> OrganizerSpec | None:
    table = reader.table(document, ("organizer",), ORGANIZER_KEYS, required=True)
    if table is None:
        return None
    return OrganizerSpec(
        name=reader.text(table, ("organizer", "name"), required=True),
        email=reader.email(table, ("organizer", "email"), required=True),
    )


def _read_contact(reader: _Reader, document: dict[str, Any]) -> ContactSpec:
    table = reader.table(document, ("contact",), CONTACT_KEYS)
    if table is None:
        return ContactSpec()
    return ContactSpec(
        name=reader.text(table, ("contact", "name")),
        office=reader.text(table, ("contact", "office")),
        phone=reader.text(table, ("contact", "phone")),
        email=reader.email(table, ("contact", "email")),
    )


def _read_agenda(reader: _Reader, document: dict[str, Any]) -> tuple[AgendaSpec, ...]:
    blocks = document.get("agenda")
    if blocks is None:
        return ()
    if not isinstance(blocks, list) or not all(isinstance(block, dict) for block in blocks):
        reader.problem(
            ("agenda",),
            "must be a list of [[agenda]] tables, each with "
            + ", ".join(AGENDA_KEYS)
            + f", not {_kind_of(blocks)}",
        )
        return ()
    items = []
    for position, block in enumerate(blocks, start=1):
        path: KeyPath = ("agenda", position)
        reader.unknown_keys(block, AGENDA_KEYS, path)
        items.append(
            AgendaSpec(
                time=reader.agenda_time(block, (*path, "time")),
                title=reader.text(block, (*path, "title"), required=True),
                speakers=reader.text_list(block, (*path, "speakers")),
                description=reader.text(block, (*path, "description"), multiline=True),
            )
        )
    return tuple(items)


# -- reading one value ------------------------------------------------------------------------


class _Reader:
    """Takes typed values out of the parsed document, writing down every problem on the way.

    Each method reads the key ``path[-1]`` of ``table``; ``path`` locates it in the file.
    On a problem it notes it and returns an empty value, so that reading goes on.
    """

    def __init__(self, source: str, lines: KeyLines) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(
            Problem(message, self.source, self.lines.line_of(path), field_name(path))
        )

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str], path: KeyPath) -> None:
        for key in table:
            if key in allowed:
                continue
            guess = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            self.problem(
                (*path, key), f"is not a known key{hint}; the keys here are: {', '.join(allowed)}"
            )

    def table(
        self,
        table: Mapping[str, Any],
        path: KeyPath,
        allowed: Sequence[str],
        *,
        required: bool = False,
    ) -> dict[str, Any] | None:
        value = table.get(str(path[-1]))
        if value is None:
            if required:
                self.problem(
                    path, f"is required: add a [{field_name(path)}] table with {_and(allowed)}"
                )
            return None
        if not isinstance(value, dict):
            self.problem(path, f"must be a [{field_name(path)}] table, not {_kind_of(value)}")
            return None
        self.unknown_keys(value, allowed, path)
        return value

    def text(
        self,
        table: Mapping[str, Any],
        path: KeyPath,
        *,
        required: bool = False,
        multiline: bool = False,
    ) -> str:
        value = table.get(str(path[-1]))
        if value is None:
            if required:
                self.problem(path, "is required")
            return ""
        if not isinstance(value, str):
            self.problem(path, f"must be text in quotes, not {_kind_of(value)}")
            return ""
        return self._checked_text(value, path, required=required, multiline=multiline)

    def _checked_text(self, value: str, path: KeyPath, *, required: bool, multiline: bool) -> str:
        """``value`` stripped, or ``""`` after noting why it will not do."""
        text = _with_unix_newlines(value).strip() if multiline else value.strip()
        limit = MAX_LENGTHS.get(_length_key(path), MAX_LIST_ENTRY_LENGTH)
        unwanted = _unwanted_character(text, multiline=multiline)
        if unwanted is not None:
            self.problem(path, f"contains {unwanted}")
        elif required and not text:
            self.problem(path, "must not be empty")
        elif not multiline and len(text) > limit:
            self.problem(path, f"is {len(text)} characters long; at most {limit} fit")
        else:
            return text
        return ""

    def text_list(self, table: Mapping[str, Any], path: KeyPath) -> tuple[str, ...]:
        values = self._list(table, path, 'texts in quotes, like ["First", "Second"]')
        entries = []
        for position, value in enumerate(values, start=1):
            if isinstance(value, str):
                entries.append(
                    self._checked_text(value, (*path, position), required=True, multiline=False)
                )
            else:
                self.problem((*path, position), f"must be text in quotes, not {_kind_of(value)}")
        return tuple(entries)

    def _list(self, table: Mapping[str, Any], path: KeyPath, of_what: str) -> list[Any]:
        value = table.get(str(path[-1]))
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list of {of_what}, not {_kind_of(value)}")
            return []
        return value

    def slug(self, table: Mapping[str, Any]) -> str | None:
        path: KeyPath = ("slug",)
        value = table.get("slug")
        if value is None:
            self.problem(path, "is required")
            return None
        if not isinstance(value, str):
            self.problem(path, f"must be text in quotes, not {_kind_of(value)}")
            return None
        slug = value.strip()
        if not SLUG.fullmatch(slug):
            self.problem(
                path,
                f"{_shown(slug)} is not a valid slug: use lower-case letters, digits and hyphens "
                "(a-z, 0-9, -), like inter-ethnic-city",
            )
            return None
        if len(slug) > MAX_SLUG_LENGTH:
            self.problem(path, f"is {len(slug)} characters long; at most {MAX_SLUG_LENGTH} fit")
            return None
        return slug

    def email(self, table: Mapping[str, Any], path: KeyPath, *, required: bool = False) -> str:
        address = self.text(table, path, required=required)
        if address:
            reason = email_problem(address)
            if reason is not None:
                self.problem(path, reason)
        return address

    def web_address(self, table: Mapping[str, Any], path: KeyPath) -> str:
        address = self.text(table, path)
        if address and not _is_web_address(address):
            self.problem(
                path,
                f"{_shown(address)} is not a web address: it must start with https:// or http://",
            )
        return address

    def integer(
        self, table: Mapping[str, Any], path: KeyPath, *, minimum: int, maximum: int
    ) -> int | None:
        value = table.get(str(path[-1]))
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, not {_kind_of(value)}")
            return None
        if not minimum <= value <= maximum:
            wanted = "a positive whole number" if minimum == 1 else f"a whole number from {minimum}"
            self.problem(path, f"must be {wanted} up to {maximum}, not {value}")
            return None
        return value

    def duration(self, table: Mapping[str, Any], path: KeyPath) -> int | None:
        value = table.get(str(path[-1]))
        if value is None:
            return None
        return self._duration(value, path)

    def _duration(self, value: Any, path: KeyPath) -> int | None:
        if not isinstance(value, str):
            self.problem(path, f'must be a duration in quotes, like "2d", not {_kind_of(value)}')
            return None
        try:
            return parse_duration(value)
        except ValueError as error:
            self.problem(path, str(error))
            return None

    def reminders(self, table: Mapping[str, Any], path: KeyPath) -> tuple[int, ...]:
        """Seconds before the start, earliest reminder first; the order written does not matter."""
        offsets: list[int] = []
        values = self._list(table, path, 'durations in quotes, like ["7d", "1d"]')
        for position, value in enumerate(values, start=1):
            offset = self._duration(value, (*path, position))
            if offset is not None and offset in offsets:
                self.problem((*path, position), f"{_shown(value)} repeats an earlier reminder")
            elif offset is not None:
                offsets.append(offset)
        return tuple(sorted(offsets, reverse=True))

    def zone(self, table: Mapping[str, Any], path: KeyPath) -> ZoneInfo | None:
        name = self.text(table, path, required=True)
        if not name:
            return None
        if name not in _zone_names():
            guess = difflib.get_close_matches(name, sorted(_zone_names()), n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else "use a name like Europe/Zurich"
            self.problem(path, f"{_shown(name)} is not a time zone of the IANA database ({hint})")
            return None
        return ZoneInfo(name)

    def local_datetime(
        self,
        table: Mapping[str, Any],
        path: KeyPath,
        zone: ZoneInfo | None,
        *,
        required: bool = False,
    ) -> datetime | None:
        """The instant of a wall-clock time at the venue; ``None`` also when the zone is unknown."""
        value = table.get(str(path[-1]))
        if value is None:
            if required:
                self.problem(path, "is required")
            return None
        try:
            local = _local_datetime(value)
            if zone is None:
                return None
            return local_to_utc(local, zone)
        except ValueError as error:
            self.problem(path, str(error))
            return None

    def agenda_time(self, table: Mapping[str, Any], path: KeyPath) -> str:
        value = table.get(str(path[-1]))
        if value is None:
            return ""
        if isinstance(value, time) and not value.second and not value.microsecond:
            return value.strftime("%H:%M")
        if isinstance(value, str) and _AGENDA_TIME.fullmatch(value.strip()):
            return value.strip()
        self.problem(
            path, f"{_shown(value)} is not a time of day: write HH:MM (24-hour), like 09:30"
        )
        return ""


# -- small pure helpers -----------------------------------------------------------------------


def _local_datetime(value: Any) -> datetime:
    """A naive wall-clock datetime from TOML, or ``ValueError`` saying what is wrong with it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(_OFFSET_GIVEN.format(shown=value.isoformat()))
        if value.microsecond:
            raise ValueError(f"{value.isoformat()} has fractions of a second; write whole seconds")
        local = value
    elif isinstance(value, date):
        raise ValueError(
            f"{value.isoformat()} needs a time of day too, like {value.isoformat()}T13:15:00"
        )
    elif isinstance(value, str):
        local = _parse_local_datetime(value.strip())
    else:
        raise ValueError(
            "must be a local date and time in quotes, like "
            f'"2026-09-24T13:15:00", not {_kind_of(value)}'
        )
    if not FIRST_YEAR <= local.year <= LAST_YEAR:
        raise ValueError(
            f"{local.isoformat()} is not between the years {FIRST_YEAR} and {LAST_YEAR}"
        )
    return local


_OFFSET_GIVEN = (
    "{shown} carries a UTC offset; write the local time at the venue without Z or +hh:mm "
    "(the time zone comes from timezone)"
)


def _parse_local_datetime(text: str) -> datetime:
    match = _LOCAL_DATETIME.fullmatch(text)
    if match is None:
        start = _LOCAL_DATETIME.match(text)
        if start is not None and _UTC_OFFSET.fullmatch(text[start.end() :]):
            raise ValueError(_OFFSET_GIVEN.format(shown=text))
        raise ValueError(
            f"{_shown(text)} is not a date and time: "
            "write YYYY-MM-DDTHH:MM:SS, like 2026-09-24T13:15:00"
        )
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise ValueError(f"{text} is not a real date and time ({error})") from None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def _is_web_address(address: str) -> bool:
    if any(char.isspace() for char in address):
        return False
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def _with_unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unwanted_character(text: str, *, multiline: bool) -> str | None:
    """How to name the first character that has no place in this text, if there is one."""
    for char in text:
        if multiline and char in _MULTILINE_WHITESPACE:
            continue
        if char in _LINE_BREAKS:
            return "a line break; it must fit on one line"
        if char == "\x00":
            return "a NUL character"
        if unicodedata.category(char) == "Cc":
            return f"the control character U+{ord(char):04X}"
    return None


def _length_key(path: KeyPath) -> str:
    """``("agenda", 2, "title")`` → ``agenda.title``, the key of ``MAX_LENGTHS``."""
    return ".".join(str(part) for part in path if isinstance(part, str))


def _kind_of(value: Any) -> str:
    """What a TOML value is, in words for someone who wrote the wrong kind."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"text ({_shown(value)})"


def _shown(value: Any) -> str:
    """A value quoted for a message, cut short when long."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _and(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)
