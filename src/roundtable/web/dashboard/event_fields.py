"""The event file as form fields: one list of fields drives the page, the reading and the errors.

The form posts plain text; :func:`mapping_from_form` turns it into the event file's
mapping (docs/interfaces.md, "Event file") and ``events.spec.parse_event_mapping``
checks it with the file's own rules and messages, so a field's error is the file's.
A new key of the file is one more :class:`FormField` here; the translations are one
group of fields per language (``translations.fr.title``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from babel import Locale

from roundtable.errors import Problem
from roundtable.events.spec import TRANSLATED_KEYS, TRANSLATION_LANGUAGES


class Kind(StrEnum):
    """How a field is typed in the form and read back into the mapping."""

    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    NUMBER = "number"
    DATETIME = "datetime-local"
    ZONE = "zone"
    LINES = "lines"
    MARKDOWN = "markdown"
    #: Markdown in a textarea, without the description's preview
    PROSE = "prose"
    #: ``fr = Ouverture`` lines: an agenda item's title by language
    TRANSLATIONS = "translations"


@dataclass(frozen=True)
class FormField:
    """One key of the event file as a form field (``organizer.email`` names a table's key)."""

    key: str
    label: str
    kind: Kind = Kind.TEXT
    hint: str = ""
    required: bool = False

    @property
    def name(self) -> str:
        """The form field's name: the dotted key, as problems name it."""
        return self.key


@dataclass(frozen=True)
class FieldGroup:
    legend: str
    fields: tuple[FormField, ...]
    #: shown folded until opened (or filled in): five languages open would make a phone's
    #: form several screens long
    folded: bool = False


GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup(
        "The event",
        (
            FormField(
                "slug",
                "Short name in links",
                hint="lower-case letters, digits and -",
                required=True,
            ),
            FormField("title", "Title", required=True),
            FormField("format", "Format", hint="e.g. High-Level Roundtable"),
            FormField("description", "Description", Kind.MARKDOWN, hint="Markdown"),
            FormField(
                "access",
                "Access to the venue",
                Kind.PROSE,
                hint="Markdown; shown in confirmations and reminders",
            ),
        ),
    ),
    FieldGroup(
        "When",
        (
            FormField("timezone", "Time zone of the venue", Kind.ZONE, required=True),
            FormField("starts", "Starts (venue time)", Kind.DATETIME, required=True),
            FormField("ends", "Ends (venue time)", Kind.DATETIME, required=True),
            FormField("rsvp_deadline", "Reply by (venue time)", Kind.DATETIME),
        ),
    ),
    FieldGroup(
        "Where",
        (
            FormField("venue", "Venue"),
            FormField("room", "Room"),
            FormField("address", "Address"),
            FormField("webcast_url", "Webcast link", Kind.URL),
        ),
    ),
    FieldGroup(
        "Seats",
        (
            FormField("capacity", "Capacity", Kind.NUMBER, hint="blank: no limit"),
            FormField("max_guests", "Guests per invitee", Kind.NUMBER),
        ),
    ),
    FieldGroup(
        "Mailings",
        (
            FormField(
                "reminders", "Reminders before the start", Kind.LINES, hint="one a line, e.g. 7d"
            ),
            FormField("nudge", "Nudge the silent after", Kind.TEXT, hint="e.g. 5d"),
            FormField("followup_after", "Follow-up after the end", Kind.TEXT, hint="e.g. 2d"),
        ),
    ),
    FieldGroup(
        "People",
        (
            FormField("organizer.name", "Organizer", required=True),
            FormField("organizer.email", "Organizer's address", Kind.EMAIL, required=True),
            FormField("co_organizers", "Co-organizers", Kind.LINES, hint="one a line"),
            FormField("contact.name", "Contact person"),
            FormField("contact.office", "Contact's office"),
            FormField("contact.phone", "Contact's phone"),
            FormField("contact.email", "Contact's address", Kind.EMAIL),
        ),
    ),
)

#: what each translated key is called in the form, and how it is typed
_TRANSLATED = {
    "title": ("Title", Kind.TEXT),
    "format": ("Format", Kind.TEXT),
    "description": ("Description", Kind.PROSE),
    "access": ("Access to the venue", Kind.PROSE),
}
GROUPS += tuple(
    FieldGroup(
        f"In {Locale.parse(language).english_name}: what is left blank reads as above",
        tuple(
            FormField(f"translations.{language}.{key}", _TRANSLATED[key][0], _TRANSLATED[key][1])
            for key in TRANSLATED_KEYS
        ),
        folded=True,
    )
    for language in TRANSLATION_LANGUAGES
)

FIELDS = tuple(field for group in GROUPS for field in group.fields)
#: the file's top-level keys the form edits; a stored event's other keys are kept as they are
FORM_KEYS = frozenset({field.key.split(".")[0] for field in FIELDS} | {"agenda"})

AGENDA_FIELDS = (
    FormField("time", "Time", hint="e.g. 13:15"),
    FormField("title", "Item", required=True),
    FormField("speakers", "Speakers", Kind.LINES, hint="one a line"),
    FormField("description", "Notes"),
    FormField("translations", "Item in other languages", Kind.TRANSLATIONS, hint="fr = …"),
)

_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The zone picker's choices: every IANA zone, sorted."""
    return tuple(sorted(available_timezones()))


def _typed(field: FormField, text: str) -> Any:
    """The form's text as the file would hold it; what cannot be read is left as text,
    so that the file's reader names the mistake in its own words."""
    if field.kind == Kind.LINES:
        return [line.strip() for line in text.splitlines() if line.strip()]
    if field.kind == Kind.TRANSLATIONS:
        pairs = (line.partition("=") for line in text.splitlines() if line.strip())
        return {language.strip(): title.strip() for language, _, title in pairs}
    if field.kind == Kind.NUMBER and _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    if field.kind == Kind.DATETIME and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text):
        return f"{text}:00"
    return text


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def mapping_from_form(form: Any, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The event file's mapping from the posted fields; blank fields are left out.

    Keys of the ``stored`` event that no field edits come through unchanged, so that
    saving the form never drops a part of the file the form does not show.
    """
    mapping: dict[str, Any] = {k: v for k, v in (stored or {}).items() if k not in FORM_KEYS}
    for field in FIELDS:
        text = _text(form, field.name)
        if not text:
            continue
        *tables, key = field.key.split(".")
        place = mapping
        for table in tables:
            place = place.setdefault(table, {})
        place[key] = _typed(field, text)
    agenda = [row for row in agenda_from_form(form) if row]
    if agenda:
        mapping["agenda"] = agenda
    return mapping


def agenda_from_form(form: Any) -> list[dict[str, Any]]:
    """The agenda rows in the order the page shows them (the fields repeat, one set a row)."""
    columns = {f.key: form.getlist(f"agenda.{f.key}") for f in AGENDA_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for index in range(count):
        row: dict[str, Any] = {}
        for field in AGENDA_FIELDS:
            values = columns[field.key]
            text = values[index] if index < len(values) and isinstance(values[index], str) else ""
            text = text.replace("\r\n", "\n").strip()
            if text:
                row[field.key] = _typed(field, text)
        rows.append(row)
    return rows


def form_values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The fields' texts for a mapping of the file, and its agenda rows as texts."""
    values: dict[str, Any] = {}
    for field in FIELDS:
        *tables, key = field.key.split(".")
        source: Mapping[str, Any] = mapping
        for table in tables:
            source = source.get(table, {})
        values[field.name] = _as_text(field, source.get(key))
    values["agenda"] = [
        {f.key: _as_text(f, row.get(f.key)) for f in AGENDA_FIELDS}
        for row in mapping.get("agenda", [])
    ]
    return values


def _as_text(field: FormField, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{language} = {title}" for language, title in value.items())
    text = str(value)
    if field.kind == Kind.DATETIME and len(text) == 19 and text.endswith(":00"):
        return text[:16]
    return text


def problems_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    """Each problem's message under the form field it names (``agenda[2].title`` as is)."""
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field or "", []).append(problem.message)
    return by_field
