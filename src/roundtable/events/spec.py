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

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roundtable.errors import InputError, Problem
from roundtable.events.spec_translations import (
    TRANSLATED_KEYS,
    TRANSLATION_LANGUAGES,
    read_agenda_translations,
    read_event_translations,
)
from roundtable.events.spec_values import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_CAPACITY,
    MAX_GUESTS,
    MAX_LENGTHS,
    MAX_LIST_ENTRY_LENGTH,
    MAX_SLUG_LENGTH,
    SLUG,
    FieldReader,
    field_name,
    kind_of,
    local_to_utc,
)
from roundtable.events.toml_lines import KeyLines, KeyPath

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_CAPACITY",
    "MAX_FILE_BYTES",
    "MAX_GUESTS",
    "MAX_LENGTHS",
    "MAX_LIST_ENTRY_LENGTH",
    "MAX_SLUG_LENGTH",
    "SLUG",
    "TRANSLATED_KEYS",
    "TRANSLATION_LANGUAGES",
    "AgendaSpec",
    "ContactSpec",
    "EventSpec",
    "OrganizerSpec",
    "field_name",
    "local_to_utc",
    "parse_event_bytes",
    "parse_event_file",
    "parse_event_mapping",
    "parse_event_text",
]

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
    "access",
    "co_organizers",
    "organizer",
    "contact",
    "agenda",
    "translations",
)
ORGANIZER_KEYS = ("name", "email")
CONTACT_KEYS = ("name", "office", "phone", "email")
AGENDA_KEYS = ("time", "title", "speakers", "description", "translations")

MAX_FILE_BYTES = 1_000_000
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
#: stands in for a time that could not be read, in a spec that is then thrown away
_NO_TIME = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)


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
    #: the title in other languages, by language code
    translations: Mapping[str, str] = field(default_factory=dict)


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
    #: how to enter the venue (Markdown): passes, gate, identification
    access: str = ""
    co_organizers: tuple[str, ...] = ()
    contact: ContactSpec = ContactSpec()
    agenda: tuple[AgendaSpec, ...] = ()
    #: the event's own words in other languages: ``{"fr": {"title": …, "access": …}}``
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
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
    return parse_event_bytes(data, source)


def parse_event_bytes(data: bytes, source: str) -> EventSpec:
    """Check an event file's contents (an upload); ``source`` names it in every problem."""
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
    return _checked(_load_toml(text, source), FieldReader(source, KeyLines(text)))


def parse_event_mapping(document: dict[str, Any], source: str) -> EventSpec:
    """Check an event described as a mapping (the API's JSON), with the file's own rules.

    The keys and values are those of the file; problems name the field but no line.
    """
    return _checked(document, FieldReader(source, KeyLines("")))


def _checked(document: dict[str, Any], reader: FieldReader) -> EventSpec:
    spec = _read_event(reader, document)
    if spec is None:
        raise InputError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    return spec


# -- reading the whole file -----------------------------------------------------------------


def load_toml(text: str, source: str) -> dict[str, Any]:
    """A TOML text's document, or an :class:`InputError` naming the file and the line."""
    return _load_toml(text, source)


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


def _read_event(reader: FieldReader, document: dict[str, Any]) -> EventSpec | None:
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
        access=reader.text(document, ("access",), multiline=True),
        co_organizers=reader.text_list(document, ("co_organizers",)),
        contact=_read_contact(reader, document),
        agenda=_read_agenda(reader, document),
        translations=read_event_translations(reader, document),
        source=reader.source,
    )
    return None if reader.problems else spec


def _read_organizer(reader: FieldReader, document: dict[str, Any]) -> OrganizerSpec | None:
    table = reader.table(document, ("organizer",), ORGANIZER_KEYS, required=True)
    if table is None:
        return None
    return OrganizerSpec(
        name=reader.text(table, ("organizer", "name"), required=True),
        email=reader.email(table, ("organizer", "email"), required=True),
    )


def _read_contact(reader: FieldReader, document: dict[str, Any]) -> ContactSpec:
    table = reader.table(document, ("contact",), CONTACT_KEYS)
    if table is None:
        return ContactSpec()
    return ContactSpec(
        name=reader.text(table, ("contact", "name")),
        office=reader.text(table, ("contact", "office")),
        phone=reader.text(table, ("contact", "phone")),
        email=reader.email(table, ("contact", "email")),
    )


def _read_agenda(reader: FieldReader, document: dict[str, Any]) -> tuple[AgendaSpec, ...]:
    blocks = document.get("agenda")
    if blocks is None:
        return ()
    if not isinstance(blocks, list) or not all(isinstance(block, dict) for block in blocks):
        reader.problem(
            ("agenda",),
            "must be a list of [[agenda]] tables, each with "
            + ", ".join(AGENDA_KEYS)
            + f", not {kind_of(blocks)}",
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
                translations=read_agenda_translations(reader, block, path),
            )
        )
    return tuple(items)
