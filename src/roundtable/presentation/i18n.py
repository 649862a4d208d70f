"""Translations for mail, pages and calendars: the gettext catalogs, read once per language.

Catalogs live as ``.po`` files in ``roundtable/locales/<lang>/LC_MESSAGES/`` and are
compiled in memory on first use, so there is no build step to forget. A string a
catalog does not translate comes out in English, which is what gettext does.
"""

from __future__ import annotations

import gettext
import re
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup, escape

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"

#: Babel locale for each language we write in. English is British English, as at the
#: United Nations: "Thursday, 23 September 2027", 24-hour times.
BABEL_LOCALES = {
    "en": "en_GB",
    "fr": "fr",
    "es": "es",
    "ar": "ar",
    "zh": "zh_Hans",
    "ru": "ru",
}


def supported_language(language: str | None) -> str:
    """The language we can write in for ``language`` ("fr-CA" → "fr"); English otherwise."""
    primary = (language or "").replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in BABEL_LOCALES else DEFAULT_LANGUAGE


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations for ``language``; English source strings when it has none."""
    language = supported_language(language)
    path = catalog_path(language)
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=BABEL_LOCALES[language], domain=DOMAIN)
    if language == "fr":
        _mark_elisions(catalog)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


@cache
def babel_locale(language: str) -> Locale:
    """The Babel locale used to format dates, times and lists for ``language``."""
    return Locale.parse(BABEL_LOCALES[supported_language(language)])


@cache
def text_direction(language: str) -> Literal["ltr", "rtl"]:
    """``rtl`` for Arabic: the HTML part sets ``dir`` from it (asked many times a message)."""
    return "rtl" if babel_locale(language).text_direction == "rtl" else "ltr"


# French elides "de" and "que" before a vowel ("au nom d’IOM", not "de IOM"). The catalogs
# cannot: the word that follows is a value ("de %(hosts)s") known only once the sentence
# is finished. So a French catalog's "de %(x)s" is read as "de", a no-break space, "%(x)s"
# (which reads correctly even where nothing elides it), and :func:`typeset` elides that
# pair, and only that, before a vowel (a plain space otherwise): a name such as
# "João de Almeida" is left alone.
_ELIDING = re.compile(r"\b([Dd]e|[Qq]ue) (?=%\()")
_FRENCH_ELISION = re.compile(
    "\\b([Dd]e|[Qq]ue)\u00a0(<bdi>|\u2068)?([AEIOUÂÊÎÔÛÉÈÀaeiouâêîôûéèà])?"
)


def _mark_elisions(catalog: Catalog) -> None:
    for message in catalog:
        if isinstance(message.string, str):
            message.string = _ELIDING.sub("\\1\u00a0", message.string)
        elif message.string:
            message.string = tuple(_ELIDING.sub("\\1\u00a0", form) for form in message.string)


def _elide(match: re.Match[str]) -> str:
    word, isolate, vowel = match.group(1), match.group(2) or "", match.group(3)
    return f"{word[:-1]}’{isolate}{vowel}" if vowel else f"{word} {isolate}"


def typeset(language: str, text: str) -> str:
    """``text`` as the reader's typography wants it, once its values are in place."""
    if supported_language(language) == "fr":
        return _FRENCH_ELISION.sub(_elide, text)
    return text


#: how each language joins a label to its value: French puts a no-break space before the colon,
#: Chinese writes the full-width colon with no space after it
_LABEL_COLONS = {"fr": "\u00a0: ", "zh": "："}


def label(language: str, text: str) -> str:
    """``text`` as the label of a value ("Venue: ", "Lieu : ", "地点："), ready for the value."""
    return f"{text}{_LABEL_COLONS.get(supported_language(language), ': ')}"


# Bidi isolation (docs/architecture.md): a value in another script than the reader's (an
# address, a phone number, a link, an organization's name) keeps its own order inside a
# right-to-left sentence only when isolated from it. HTML isolates with <bdi> (its own
# direction, from its first strong character); plain text and calendar text with the
# Unicode isolates, which only a right-to-left reader needs.
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolate(language: str, value: object) -> str:
    """``value`` as a run of its own in plain text for a reader of ``language``."""
    text = "" if value is None else str(value)
    if not text or text_direction(language) == "ltr":
        return text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def bdi(value: object) -> Markup | str:
    """``value`` (escaped unless already markup) in ``<bdi>``: isolated in any page."""
    if value is None or value == "":
        return ""
    # escape() is what Markup.format applies to a value, without the formatter's cost;
    # one Markup of the whole, not one per concatenation.
    return Markup(f"<bdi>{escape(value)}</bdi>")  # noqa: S704 (the value is escaped)
