"""A stored event as its file again: the mapping the reader takes, and that mapping as TOML.

The reverse of :mod:`roundtable.events.spec` (docs/interfaces.md, "Event file"): the
API answers an event as this mapping, the dashboard's form starts from it, and the
export writes it as TOML. Reading the written text again gives the same event,
which the tests check; so the file stays a faithful import/export format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from roundtable.events.durations import format_duration
from roundtable.events.model import AgendaItem, Event

#: keys written as TOML tables after the plain keys; ``agenda`` is an array of tables
TABLES = ("organizer", "contact")
#: written last, one ``[translations.xx]`` table per language
LAST = ("agenda", "translations")


def event_mapping(event: Event, agenda: list[AgendaItem]) -> dict[str, Any]:
    """The event file's mapping for ``event`` as stored; empty values are left out."""
    zone = ZoneInfo(event.timezone)

    def local(instant: datetime | None) -> str | None:
        if instant is None:
            return None
        return instant.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")

    def duration(seconds: int | None) -> str | None:
        return format_duration(seconds) if seconds else None

    contact = _present(
        {
            "name": event.contact_name,
            "office": event.contact_office,
            "phone": event.contact_phone,
            "email": event.contact_email,
        }
    )
    items = [
        _present(
            {
                "time": item.time,
                "title": item.title,
                "speakers": list(item.speakers),
                "description": item.description,
                "translations": dict(item.translations),
            }
        )
        for item in agenda
    ]
    return _present(
        {
            "slug": event.slug,
            "title": event.title,
            "format": event.format,
            "starts": local(event.starts_at) or "",
            "ends": local(event.ends_at) or "",
            "timezone": event.timezone,
            "venue": event.venue,
            "room": event.room,
            "address": event.address,
            "webcast_url": event.webcast_url,
            "capacity": event.capacity,
            "max_guests": event.max_guests or None,
            "rsvp_deadline": local(event.rsvp_deadline),
            "reminders": [format_duration(s) for s in event.reminder_offsets],
            "nudge": duration(event.nudge_offset),
            "followup_after": duration(event.followup_offset),
            "description": event.description,
            "access": event.access,
            "co_organizers": list(event.co_organizers),
            "organizer": {"name": event.organizer_name, "email": event.organizer_email},
            "contact": contact,
            "agenda": items,
            "translations": {lang: dict(words) for lang, words in event.translations.items()},
        },
        keep=("starts", "ends"),
    )


def _present(values: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The entries that say something: no ``None``, empty text, list or table."""
    empty: tuple[object, ...] = (None, "", [], {})
    return {k: v for k, v in values.items() if k in keep or v not in empty}


def event_toml(data: Mapping[str, Any]) -> str:
    """The event file for a mapping of the reader's keys: plain keys, tables, then agenda."""
    lines: list[str] = []
    for key, value in data.items():
        if key not in (*TABLES, *LAST):
            lines.append(f"{key} = {toml_value(value)}")
    for name in TABLES:
        if name in data:
            lines.extend(["", f"[{name}]"])
            lines.extend(f"{key} = {toml_value(value)}" for key, value in data[name].items())
    for item in data.get("agenda", []):
        lines.extend(["", "[[agenda]]"])
        lines.extend(f"{key} = {toml_value(value)}" for key, value in item.items())
    for language, words in data.get("translations", {}).items():
        lines.extend(["", f"[translations.{language}]"])
        lines.extend(f"{key} = {toml_value(value)}" for key, value in words.items())
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A TOML value for a string, integer, boolean or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table: an agenda item's translations
        pairs = (f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{ " + ", ".join(pairs) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key as TOML reads it back: bare when it can be, quoted otherwise."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped.

    Text of several lines becomes a multi-line string, so that a person editing
    the file reads it as written. Control characters and lone surrogates are
    written as ``\\u`` escapes of four hex digits, so that the event parser sees them
    and refuses them with its own message.
    """
    multiline = "\n" in text
    out = []
    for char in text:
        code = ord(char)
        if multiline and char in "\n\t":
            out.append(char)
        elif char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    if multiline:
        return '"""\n' + "".join(out) + '"""'
    return '"' + "".join(out) + '"'
