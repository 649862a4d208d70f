"""The event's own words in other languages: ``[translations.fr]`` and agenda ``translations``.

Read with the file's rules (docs/interfaces.md, "Event file"): a translation is held
to the limits of what it translates; an unknown language or key is named with its
line, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from roundtable.events.spec_values import FieldReader, kind_of
from roundtable.events.toml_lines import KeyPath
from roundtable.people.model import LANGUAGES

#: what an event's translation may give; the rest (names, places, links) is not translated
TRANSLATED_KEYS = ("title", "format", "description", "access")
#: the language an event's own words are written in (the mail's default too)
EVENT_LANGUAGE = "en"
#: the languages the event's words may be translated into
TRANSLATION_LANGUAGES = tuple(language for language in LANGUAGES if language != EVENT_LANGUAGE)
_MULTILINE = ("description", "access")


def read_event_translations(
    reader: FieldReader, document: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """``{"fr": {"title": …}}`` from the ``[translations.xx]`` tables; empty values left out."""
    path: KeyPath = ("translations",)
    tables = _languages(reader, document, path)
    found: dict[str, dict[str, str]] = {}
    for language, table in tables.items():
        where: KeyPath = (*path, language)
        if not isinstance(table, dict):
            reader.problem(
                where, f"must be a [translations.{language}] table, not {kind_of(table)}"
            )
            continue
        reader.unknown_keys(table, TRANSLATED_KEYS, where)
        words = {
            key: reader.text(table, (*where, key), multiline=key in _MULTILINE)
            for key in TRANSLATED_KEYS
        }
        words = {key: text for key, text in words.items() if text}
        if words:
            found[language] = words
    return found


def read_agenda_translations(
    reader: FieldReader, block: Mapping[str, Any], path: KeyPath
) -> dict[str, str]:
    """An agenda item's title by language: ``translations = { fr = "…" }``."""
    where: KeyPath = (*path, "translations")
    languages = _languages(reader, block, where)
    titles = {language: reader.text(languages, (*where, language)) for language in languages}
    return {language: title for language, title in titles.items() if title}


def _languages(reader: FieldReader, table: Mapping[str, Any], path: KeyPath) -> dict[str, Any]:
    """The table at ``path`` keyed by known language codes; problems for the rest."""
    value = table.get(str(path[-1]))
    if value is None:
        return {}
    if not isinstance(value, dict):
        wanted = "a table keyed by language, like fr or es"
        reader.problem(path, f"must be {wanted}, not {kind_of(value)}")
        return {}
    languages = ", ".join(TRANSLATION_LANGUAGES)
    known = {key: entry for key, entry in value.items() if key in TRANSLATION_LANGUAGES}
    for key in value:
        if key not in known:
            reader.problem(
                (*path, key),
                f"is not a language to translate into; use one of {languages}"
                + (" (the event's own words are in English)" if key == EVENT_LANGUAGE else ""),
            )
    return known
