"""The translation catalogs: complete, current, and safe to format.

The strings are extracted from the mail templates, from context.py, from the
invitee's web pages and from the reply rules' messages exactly as ``pybabel
extract`` would, so a sentence added to a template without a translation, or a
translation left behind by a removed sentence, fails here.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

import roundtable.invitations.rsvp
import roundtable.mail.context
import roundtable.presentation.event
import roundtable.workflows.replies
import roundtable.workflows.representatives
from roundtable.mail.context import SALUTATION_NAMES
from roundtable.mail.render import templates_dir
from roundtable.presentation import i18n
from roundtable.web import rsvp

CATALOG_LANGUAGES = ("fr", "es", "ar", "zh", "ru")
PLURAL_FORMS = {"fr": 2, "es": 2, "ar": 6, "zh": 1, "ru": 3}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

Key = tuple[str | None, str]


@cache
def source_messages() -> dict[Key, str | tuple[str, ...]]:
    """Every translatable string of the mail, keyed by (context, msgid)."""
    found: dict[Key, str | tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(templates_dir()),
        method_map=[("**.j2", "jinja2.ext:babel_extract")],
        options_map={
            "**.j2": {
                "trimmed": "true",
                "extensions": "jinja2.ext.i18n,roundtable.mail.render.SharedBlocks",
            }
        },
    ):
        found[_key(message, context)] = message
    for module in (roundtable.mail.context, roundtable.presentation.event):
        for _line, message, _comments, context in extract_from_file("python", module.__file__):
            found[_key(message, context)] = message
    return {**found, **page_messages(), **reply_messages()}


@cache
def page_messages() -> dict[Key, str | tuple[str, ...]]:
    """Every translatable string of the invitee's web pages (``web/templates/web/*.html``).

    Parsed with the block options of the pages' own environment, and not silently:
    a template that does not parse fails here instead of yielding no strings.
    """
    environment = rsvp._environment("en")
    options = {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": str(environment.trim_blocks),
        "lstrip_blocks": str(environment.lstrip_blocks),
        "silent": "false",
    }
    return {
        _key(message, context): message
        for _file, _line, message, _comments, context in extract_from_dir(
            str(rsvp.TEMPLATES_DIR / "web"),
            method_map=[("*.html", "jinja2.ext:babel_extract")],
            options_map={"*.html": options},
        )
    }


@cache
def reply_messages() -> dict[Key, str | tuple[str, ...]]:
    """The reply form's problems (``rsvp.py`` and the reply workflows), marked with ``N_``."""
    return {
        _key(message, context): message
        for source in (
            roundtable.invitations.rsvp.__file__,
            roundtable.workflows.replies.__file__,
            roundtable.workflows.representatives.__file__,
        )
        for _line, message, _comments, context in extract_from_file(
            "python", source, keywords={"N_": None}
        )
    }


def _key(message: object, context: str | None) -> Key:
    return context, _texts(message)[0]


def _texts(value: object) -> tuple[str, ...]:
    """A catalog field (a string, or a tuple or list of plural forms) as a tuple."""
    if isinstance(value, list | tuple):
        return tuple(str(text) for text in value)
    return (str(value or ""),)


def catalog(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=i18n.BABEL_LOCALES[language])


def test_the_extraction_finds_the_strings_of_templates_and_code() -> None:
    keys = source_messages()
    assert (None, "Accept") in keys
    assert ("excellency-female", "Excellency,") in keys
    assert (None, "You are invited to speak on the panel.") in keys
    assert (None, "Give your representative's name.") in keys  # invitations/rsvp.py
    assert len(keys) > 80


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_every_string_is_translated(language: str) -> None:
    entries = {_key(m.id, m.context): m for m in catalog(language) if m.id}
    missing = [key for key in source_messages() if key not in entries]
    assert not missing, f"{language}: untranslated {missing}"
    empty = [key for key, m in entries.items() if not all(_texts(m.string))]
    assert not empty, f"{language}: empty translations {empty}"


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_no_translation_is_left_over_from_a_removed_string(language: str) -> None:
    stale = [
        _key(m.id, m.context)
        for m in catalog(language)
        if m.id and _key(m.id, m.context) not in source_messages()
    ]
    assert not stale, f"{language}: translations of strings no longer used: {stale}"


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_translations_use_only_the_placeholders_the_source_provides(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        provided = {name for text in _texts(message.id) for name in _PLACEHOLDER.findall(text)}
        if message.context:  # salutations: every name is given, whatever English shows
            provided |= set(SALUTATION_NAMES)
        for text in _texts(message.string):
            assert set(_PLACEHOLDER.findall(text)) <= provided, (language, message.id, text)
            assert "%" not in _PLACEHOLDER.sub("", text), (language, text)


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_plurals_have_the_forms_of_the_language(language: str) -> None:
    loaded = catalog(language)
    assert loaded.num_plurals == PLURAL_FORMS[language]
    for message in loaded:
        if message.pluralizable:
            assert len(_texts(message.string)) == PLURAL_FORMS[language]


@pytest.mark.parametrize(
    ("language", "guests", "sentence"),
    [
        ("en", 1, "accompanied by 1 guest."),
        ("en", 3, "accompanied by 3 guests."),
        ("ru", 2, "Вас будут сопровождать 2 гостя."),
        ("ru", 5, "Вас будут сопровождать 5 гостей."),
        ("ru", 21, "Вас будет сопровождать 21 гость."),
        ("ar", 2, "سيرافقكم ضيفان."),
        ("fr", 1, "1 invité vous accompagnera."),
    ],
)
def test_plural_sentences_agree_with_the_number(language: str, guests: int, sentence: str) -> None:
    message = "We have noted that you will be accompanied by %(count)s guest."
    plural = "We have noted that you will be accompanied by %(count)s guests."
    translated = i18n.translations(language).ngettext(message, plural, guests)
    assert sentence in translated % {"count": guests}
