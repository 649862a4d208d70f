"""Reading one value of an event description: typed, checked, every problem written down.

The event file (``events.spec``) and the API both describe an event as a mapping;
:class:`FieldReader` takes each value out of it, checks it against the limits below
(the column sizes of ``events.model``) and notes a problem that names the field and,
for a file, its line, so that one pass reports everything that is wrong.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from roundtable.errors import Problem
from roundtable.events.durations import parse_duration
from roundtable.events.toml_lines import KeyLines, KeyPath
from roundtable.people.emails import email_problem

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
MAX_CAPACITY = 1_000_000
MAX_GUESTS = 100
#: years outside this range are typos, and near the ends of ``datetime`` they overflow
FIRST_YEAR, LAST_YEAR = 1970, 2100

_LOCAL_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
)
_UTC_OFFSET = re.compile(r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)", re.IGNORECASE)
_AGENDA_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
#: what a multi-line text (a description) may hold beyond printable characters
_MULTILINE_WHITESPACE = "\n\t\u2028\u2029"
#: names in the zone database that are files there but not time zones
_NOT_ZONES = frozenset({"localtime", "posixrules"})


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


class FieldReader:
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
            self.problem(path, f"must be a [{field_name(path)}] table, not {kind_of(value)}")
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
            self.problem(path, f"must be text in quotes, not {kind_of(value)}")
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
                self.problem((*path, position), f"must be text in quotes, not {kind_of(value)}")
        return tuple(entries)

    def _list(self, table: Mapping[str, Any], path: KeyPath, of_what: str) -> list[Any]:
        value = table.get(str(path[-1]))
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list of {of_what}, not {kind_of(value)}")
            return []
        return value

    def slug(self, table: Mapping[str, Any]) -> str | None:
        path: KeyPath = ("slug",)
        value = table.get("slug")
        if value is None:
            self.problem(path, "is required")
            return None
        if not isinstance(value, str):
            self.problem(path, f"must be text in quotes, not {kind_of(value)}")
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
            self.problem(path, f"must be a whole number, not {kind_of(value)}")
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
            self.problem(path, f'must be a duration in quotes, like "2d", not {kind_of(value)}')
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
            f'"2026-09-24T13:15:00", not {kind_of(value)}'
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
        category = unicodedata.category(char)
        if category == "Cc":
            return f"the control character U+{ord(char):04X}"
        if category == "Cs":  # only JSON escapes can carry one; no text encoding can
            return f"a lone surrogate U+{ord(char):04X}, which is not a character"
    return None


def _length_key(path: KeyPath) -> str:
    """``("agenda", 2, "title")`` → ``agenda.title``, the key of ``MAX_LENGTHS``.

    A translation is held to the limit of what it translates: ``translations.fr.title``
    to ``title``'s, an agenda item's ``translations.fr`` to ``agenda.title``'s.
    """
    parts = [part for part in path if isinstance(part, str)]
    if "translations" in parts:
        at = parts.index("translations")
        parts = parts[:at] + (parts[at + 2 :] or ["title"])
    return ".".join(parts)


def kind_of(value: Any) -> str:
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
