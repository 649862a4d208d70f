"""The contract's example event file, and small helpers to vary it and read its problems."""

from __future__ import annotations

import re

import pytest

from roundtable.errors import InputError, Problem
from roundtable.events.spec import EventSpec, parse_event_text

SOURCE = "roundtables/inter-ethnic-city.toml"

SAMPLE = '''\
slug = "inter-ethnic-city"                # [a-z0-9-]+, unique
title = "The Inter-Ethnic City: Management and Policies for a Better Integration of Migrants"
format = "High-Level Roundtable"
starts = "2026-09-24T13:15:00"            # local time at the venue
ends = "2026-09-24T15:00:00"
timezone = "America/New_York"             # IANA name
venue = "United Nations Headquarters"
room = "Conference Room 6"
address = "405 East 42nd Street, New York, NY 10017, United States"
webcast_url = "https://webtv.un.org/"
capacity = 80                             # optional; beyond it, acceptances go to a waiting list
rsvp_deadline = "2026-09-20T18:00:00"     # optional, local time
reminders = ["7d", "1d"]                  # before the start, to those who accepted or may attend
nudge = "3d"                              # optional: before the RSVP deadline
followup_after = "2d"                     # after the end, once recommendations are published
description = """
Cities are where migrants arrive, work and raise their children.

This roundtable asks how city governments can **manage diversity**:
title = "this line is part of the description, not a key"
[[agenda]]
"""
co_organizers = [
  "International Organization for Migration (IOM)",
  "United Nations Alliance of Civilizations (UNAoC)",
]

[organizer]                               # the From: of every message and the iCal ORGANIZER
name = "IOM New York"
email = "events@iom.example.org"

[contact]                                 # "for further information, please contact"
name = "Maria Rossi"
office = "IOM New York"
phone = "+1 212 681 7000 ext. 212"
email = "mrossi@iom.example.org"


[[agenda]]
time = "13:15"
title = "Opening remarks"
speakers = ["Director General, IOM"]

[[agenda]]
time = "13:30"
title = "Panel: cities that welcome"
speakers = ["Mayor of Montréal", "Deputy Mayor of Milan"]
description = """Moderated by the High Representative for the UNAoC."""

[[agenda]]
time = "14:45"
title = "Closing remarks"
'''

_TOP_LEVEL_KEY = re.compile(r"([a-z_]+) = ")


def sample(**changes: str | None) -> str:
    """The sample with top-level keys given new raw TOML values, or removed when ``None``.

    A key the sample lacks is added just before ``[organizer]``.
    """
    remaining = dict(changes)
    out: list[str] = []
    in_tables = False
    closing: str | None = None  # the line that ends the multi-line value being copied
    dropping = False  # whether that value is being replaced
    for line in SAMPLE.split("\n"):
        if closing is not None:
            closing = None if line == closing else closing
            if not dropping:
                out.append(line)
            continue
        in_tables = in_tables or line.startswith("[")
        key = _TOP_LEVEL_KEY.match(line)
        if not in_tables and key:
            closing = '"""' if line.endswith('= """') else ("]" if line.endswith("= [") else None)
            dropping = key[1] in remaining
            if dropping:
                value = remaining.pop(key[1])
                if value is not None:
                    out.append(f"{key[1]} = {value}")
                continue
        if line.startswith("[organizer]"):
            out.extend(
                f"{name} = {value}" for name, value in remaining.items() if value is not None
            )
            remaining.clear()
        out.append(line)
    return "\n".join(out)


def line_of(text: str, prefix: str, *, after: str = "") -> int:
    """The number of the first line that starts with ``prefix``, after one that starts with
    ``after`` when it is given."""
    seen_after = not after
    for number, line in enumerate(text.split("\n"), start=1):
        if seen_after and line.startswith(prefix):
            return number
        seen_after = seen_after or line.startswith(after)
    raise AssertionError(f"no line starts with {prefix!r}")


#: the sample up to its first [[agenda]] block (its description shows one too, as text)
WITHOUT_AGENDA = SAMPLE[: SAMPLE.index("\n\n\n[[agenda]]")] + "\n"


def without_table(text: str, header: str) -> str:
    """``text`` without the table whose header line starts with ``header``."""
    lines = text.split("\n")
    start = next(number for number, line in enumerate(lines) if line.startswith(header))
    end = lines.index("", start)
    return "\n".join(lines[:start] + lines[end + 1 :])


def parse(text: str) -> EventSpec:
    return parse_event_text(text, SOURCE)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        parse(text)
    assert caught.value.problems, "an InputError must carry at least one problem"
    return caught.value.problems


def only_problem(text: str) -> Problem:
    found = problems_of(text)
    assert len(found) == 1, "\n".join(str(problem) for problem in found)
    return found[0]
