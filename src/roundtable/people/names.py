"""Writing a person's name the way their own script writes it."""

from __future__ import annotations

import unicodedata

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
