"""Writing a person's name the way their own script writes it."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

_FAMILY_NAME_FIRST_SCRIPTS = ("CJK UNIFIED IDEOGRAPH", "HANGUL", "HIRAGANA", "KATAKANA")


def _is_east_asian(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(
        unicodedata.name(c, "").startswith(_FAMILY_NAME_FIRST_SCRIPTS) for c in letters
    )


def join_name(first: str, last: str) -> str:
    """``first last``; Chinese, Japanese and Korean names family name first, unspaced (王建国)."""
    if first and last and _is_east_asian(first) and _is_east_asian(last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


class NameFault(StrEnum):
    """Why a string cannot be stored as a person's name."""

    #: a line break or another control character: a name is one line of text
    LINE_BREAK = "line_break"
    #: longer than a name can be
    TOO_LONG = "too_long"
    #: a link, an address, an encoded word or angle brackets: text that is not a name
    NOT_A_NAME = "not_a_name"


#: Line breaks, C0/C1 controls, and the bidirectional overrides that reorder what is shown.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: What a link or a mail address looks like inside a name.
_NOT_A_NAME = re.compile(
    r"://|www\.|@|=\?|[<>]|\b[\w-]+\.(?:com|net|org|info|biz|xyz|top|io|co|me|ly|ru|cn|app|link|click)\b",
    re.IGNORECASE,
)
#: A sane length for a representative's name typed on the RSVP page.
MAX_TYPED_NAME = 100


def name_fault(name: str, *, max_length: int, typed: bool = False) -> NameFault | None:
    """What is wrong with ``name`` as a person's name; ``None`` when it will do.

    Every name must be one line (it is written into mail headers and salutations).
    A name ``typed`` by someone who is not staff (a representative named on the
    RSVP page) must also read as a name: no link, ``@``, ``=?`` or angle brackets.
    """
    if _CONTROL.search(name):
        return NameFault.LINE_BREAK
    if len(name) > max_length:
        return NameFault.TOO_LONG
    if typed and _NOT_A_NAME.search(name):
        return NameFault.NOT_A_NAME
    return None
