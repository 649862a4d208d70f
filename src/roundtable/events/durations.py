"""Durations as organizers write them in event files: ``90m``, ``2h``, ``7d``.

A duration is a positive whole number followed by one unit: ``m`` (minutes),
``h`` (hours) or ``d`` (days). Nothing fancier (``1d12h``, ``1.5h``) is accepted:
the event file is read by people, and one form is easier to check by eye.
"""

from __future__ import annotations

import re

SECONDS_PER_UNIT = {"d": 86_400, "h": 3_600, "m": 60}

#: longer offsets than a year are a typo, and would overflow date arithmetic if huge
MAX_SECONDS = 366 * 86_400

#: more digits than this is too long in any unit; int() need not read them all
_MAX_DIGITS = 12

_DURATION = re.compile(r"([0-9]+)([A-Za-z]*)")


def parse_duration(text: str) -> int:
    """The number of seconds ``text`` stands for; ``ValueError`` saying why when it is not one."""
    written = text.strip()
    match = _DURATION.fullmatch(written)
    if match is None:
        raise ValueError(
            f"{written!r} is not a duration: write a whole number followed by m, h or d "
            "(for example 90m, 2h, 7d)"
        )
    number, unit = match.groups()
    if unit not in SECONDS_PER_UNIT:
        raise ValueError(
            f"{written!r} has an unknown unit {unit!r}: use m (minutes), h (hours) or d (days)"
            if unit
            else f"{written!r} has no unit: add m (minutes), h (hours) or d (days)"
        )
    significant = number.lstrip("0")
    if not significant:
        raise ValueError(f"{written!r} is not a positive duration")
    if len(significant) > _MAX_DIGITS or int(significant) * SECONDS_PER_UNIT[unit] > MAX_SECONDS:
        raise ValueError(f"{written!r} is longer than {format_duration(MAX_SECONDS)}")
    return int(significant) * SECONDS_PER_UNIT[unit]


def format_duration(seconds: int) -> str:
    """The shortest way to write ``seconds`` as a duration (86400 → ``1d``, 5400 → ``90m``)."""
    if seconds <= 0:
        raise ValueError(f"{seconds} seconds is not a positive duration")
    for unit, size in SECONDS_PER_UNIT.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise ValueError(f"{seconds} seconds is not a whole number of minutes")
