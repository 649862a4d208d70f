"""Reading the invitee file: CSV bytes in, valid rows and located problems out.

The file is described in docs/interfaces.md, "Invitee file".

Pure: no database and no clock, so every rule can be read and tested here. The
parser never stops at the first mistake: it reports every problem with the file
name, the physical line where the record starts (the header is line 1) and the
column, so that an organizer can fix a spreadsheet in one pass.

Values are kept as written, apart from surrounding spaces and Unicode normalisation
(NFC): a name that looks like
HTML or a spreadsheet formula is somebody's text, and the templates and the
export make it harmless where it is shown.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from roundtable.errors import Problem
from roundtable.invitations.model import Invitation, InviteeRole
from roundtable.people.emails import email_problem, normalise_email
from roundtable.people.model import LANGUAGES, Organization
from roundtable.people.names import join_name

DEFAULT_ROLE = InviteeRole.PARTICIPANT
DEFAULT_LANGUAGE = "en"
ROLE_ALIASES = {"panelist": InviteeRole.PANELLIST}

NAME_COLUMNS = ("name", "first_name", "last_name")
#: Columns whose blank cell means "not stated": an invitee already on the list keeps what it has.
OPTIONAL_COLUMNS = ("honorific", "position", "organization", "role", "language", "timezone")
COLUMNS = ("email", *NAME_COLUMNS, *OPTIONAL_COLUMNS)


def _column_length(table_column: object) -> int:
    length = getattr(getattr(table_column, "type", None), "length", None)
    assert isinstance(length, int), f"{table_column} has no length"
    return length


#: The longest value each column may hold: whatever the database column holds.
MAX_LENGTHS = {
    "honorific": _column_length(Invitation.__table__.c.honorific),  # type: ignore[attr-defined]
    "first_name": _column_length(Invitation.__table__.c.first_name),  # type: ignore[attr-defined]
    "last_name": _column_length(Invitation.__table__.c.last_name),  # type: ignore[attr-defined]
    "name": _column_length(Invitation.__table__.c.full_name),  # type: ignore[attr-defined]
    "position": _column_length(Invitation.__table__.c.position),  # type: ignore[attr-defined]
    "organization": _column_length(Organization.__table__.c.name),  # type: ignore[attr-defined]
}
MAX_FULL_NAME = MAX_LENGTHS["name"]

#: Characters that end a line for an editor (and for us) besides the ASCII ones.
_UNICODE_LINE_BREAKS = ("\u2028", "\u2029")
_LINE_ENDING = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, kw_only=True)
class InviteeRow:
    """One valid invitee as the file gives it, with the line it starts on."""

    line: int
    email: str
    honorific: str = ""
    first_name: str = ""
    last_name: str = ""
    full_name: str
    position: str = ""
    organization: str = ""
    role: str = DEFAULT_ROLE
    language: str = DEFAULT_LANGUAGE
    timezone: str | None = None
    #: The optional columns this row fills in. A blank cell states nothing, so an
    #: import never erases what an earlier file put on the event's list.
    given: frozenset[str] = frozenset()

    def differences(self, other: InviteeRow) -> list[str]:
        """The columns in which two rows for the same address disagree."""
        ignored = {"line", "given", "full_name"}
        names = [f.name for f in fields(self) if f.name not in ignored]
        differing = [name for name in names if getattr(self, name) != getattr(other, name)]
        if self.full_name != other.full_name and not {"first_name", "last_name"} & set(differing):
            differing.append("name")
        return differing


@dataclass(frozen=True)
class ParsedFile:
    """What the file holds: the rows that can be imported and everything wrong with the rest."""

    rows: list[InviteeRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: False when the file as a whole cannot be read (encoding, header, CSV syntax):
    #: skipping invalid rows cannot help then.
    readable: bool = True


def parse_invitee_file(path: Path) -> ParsedFile:
    """Read and check the invitee file at ``path``; problems name it as it was given."""
    return parse_invitee_bytes(Path(path).read_bytes(), str(path))


def parse_invitee_bytes(data: bytes, source: str) -> ParsedFile:
    """Check invitee file contents; ``source`` names the file in every problem."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return ParsedFile(problems=[_not_utf8(data, error, source)], readable=False)
    return _Parser(source).parse(text)


def parse_invitee_mappings(
    records: Sequence[Mapping[str, str | None]], source: str, *, name: str = "invitees"
) -> ParsedFile:
    """Check invitees given as mappings of the file's columns (the API's JSON), row by row.

    The same checks and messages as a file's rows; a problem names the record as
    ``invitees[3].email`` in ``source`` instead of a line. A row's ``line`` is its index.
    """
    return _MappingParser(source, name).parse_records(records)


def _not_utf8(data: bytes, error: UnicodeDecodeError, source: str) -> Problem:
    before = data[: error.start].decode("utf-8")
    line = len(_LINE_ENDING.findall(before)) + 1
    byte = data[error.start]
    return Problem(
        f"the file is not UTF-8 (byte 0x{byte:02X} cannot be read); "
        "save it as “CSV UTF-8” and import it again",
        source=source,
        line=line,
    )


def _column_key(label: str) -> str:
    """Header names are matched ignoring case, outer spaces, and spaces or hyphens inside."""
    return re.sub(r"[\s-]+", "_", label.strip().lower())


def _delimiter(text: str) -> str:
    """Commas, unless the header row has none and uses semicolons or tabs (European Excel)."""
    header = _LINE_ENDING.split(text.lstrip("\r\n"), maxsplit=1)[0]
    for candidate in (",", ";", "\t"):
        if candidate in header:
            return candidate
    return ","


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def canonical_timezone(value: str) -> str | None:
    """The IANA name as spelled by the time zone database, or ``None`` if it is unknown."""
    known = _zones_by_lower_name().get(value.lower())
    if known is not None:
        return known
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):
        return None
    return value


def _control_character(value: str) -> str | None:
    """A description of the first control character in ``value``, or ``None``."""
    for char in value:
        if char in "\r\n" or char in _UNICODE_LINE_BREAKS:
            return "a line break (a quoted value spans lines); keep each value on one line"
        if char == "\t":
            return "a tab character; remove it"
        if char == "\x00":
            return "a NUL character; remove it"
        if unicodedata.category(char) == "Cc":
            return f"a control character (U+{ord(char):04X}); remove it"
    return None


def _one_of(values: Iterable[str]) -> str:
    return ", ".join(values)


class _Parser:
    """Walks the records of one file, keeping what it needs to locate each problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        #: column index → canonical column name (``None`` for a column without a name)
        self.columns: list[str | None] = []
        #: canonical column name → the header as the file spells it
        self.labels: dict[str, str] = {}

    #: what one record is called in messages
    unit = "line"

    def problem(self, message: str, line: int, column: str | None = None) -> None:
        label = self.labels.get(column, column) if column else None
        self.problems.append(Problem(message, source=self.source, line=line, field=label))

    def place(self, line: int) -> str:
        """Where a record is, as a message names it."""
        return f"line {line}"

    def parse(self, text: str) -> ParsedFile:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        rows: list[InviteeRow] = []
        header_read = False
        start = 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in record):
                    continue
                if not header_read:
                    header_read = True
                    if not self.read_header(record, line):
                        return ParsedFile(problems=self.problems, readable=False)
                    continue
                row = self.read_row(record, line)
                if row is not None:
                    rows.append(row)
        except csv.Error as error:
            self.problem(f"the file cannot be read as CSV: {error}", start)
            return ParsedFile(problems=self.problems, readable=False)
        if not header_read:
            self.problem("the file is empty; it needs a header row naming its columns", 1)
            return ParsedFile(problems=self.problems, readable=False)
        rows = self.without_repeated_addresses(rows)
        problems = sorted(self.problems, key=lambda p: p.line or 0)
        return ParsedFile(rows=rows, problems=problems)

    # -- the header ---------------------------------------------------------------------------

    def read_header(self, record: list[str], line: int) -> bool:
        """Learn the columns; ``False`` when the header is wrong (and problems say why)."""
        ok = True
        first_seen: dict[str, int] = {}
        for index, cell in enumerate(record):
            label = cell.strip()
            key = _column_key(cell)
            if not key:
                self.columns.append(None)
                continue
            self.columns.append(key)
            if key not in COLUMNS:
                self.problems.append(
                    Problem(
                        f"unknown column {label!r}; the columns are: {_one_of(COLUMNS)}",
                        source=self.source,
                        line=line,
                        field=label,
                    )
                )
                ok = False
            elif key in first_seen:
                self.problems.append(
                    Problem(
                        f"column {label!r} appears twice (columns {first_seen[key] + 1} "
                        f"and {index + 1})",
                        source=self.source,
                        line=line,
                        field=label,
                    )
                )
                ok = False
            else:
                first_seen[key] = index
                self.labels[key] = label
        if "email" not in first_seen:
            self.problem("the header has no email column; it is required", line, "email")
            ok = False
        if not any(name in first_seen for name in NAME_COLUMNS):
            self.problem(
                "the header needs a name column, or first_name and last_name", line, "name"
            )
            ok = False
        return ok

    # -- one record ----------------------------------------------------------------------------

    def read_row(self, record: list[str], line: int) -> InviteeRow | None:
        """The record as an invitee, or ``None`` after reporting what is wrong with it."""
        before = len(self.problems)
        named: list[tuple[str, str]] = []
        for index, raw in enumerate(record):
            column = self.columns[index] if index < len(self.columns) else None
            if column is not None:
                named.append((column, raw))
            elif raw.strip():
                where = "is beyond the header" if index >= len(self.columns) else "has no name"
                self.problem(
                    f"holds a value but the column {where}; "
                    "name the column in the header or remove the value",
                    line,
                    f"column {index + 1}",
                )
        cells = self.read_cells(named, line)
        if len(self.problems) > before:
            return None
        return self.checked_row(cells, line)

    def read_cells(self, named: Iterable[tuple[str, str]], line: int) -> dict[str, str]:
        """The cells as clean text (trimmed, NFC, within length), reporting the others."""
        cells: dict[str, str] = {}
        for column, raw in named:
            control = _control_character(raw)
            if control:
                self.problem(f"contains {control}", line, column)
                continue
            # NFC: the same letters typed on a Mac (decomposed) or elsewhere compare equal.
            value = unicodedata.normalize("NFC", raw.strip())
            limit = MAX_LENGTHS.get(column)
            if limit is not None and len(value) > limit:
                self.problem(
                    f"is {len(value)} characters long; at most {limit} are allowed", line, column
                )
                continue
            cells[column] = value
        return cells

    def checked_row(self, cells: dict[str, str], line: int) -> InviteeRow | None:
        before = len(self.problems)
        email = self.checked_email(cells.get("email", ""), line)
        first, last, full = self.checked_name(cells, line)
        role = self.checked_choice(cells, "role", line)
        language = self.checked_choice(cells, "language", line)
        timezone = self.checked_timezone(cells.get("timezone", ""), line)
        if len(self.problems) > before or email is None:
            return None
        given = frozenset(column for column in OPTIONAL_COLUMNS if cells.get(column))
        return InviteeRow(
            line=line,
            email=email,
            honorific=cells.get("honorific", ""),
            first_name=first,
            last_name=last,
            full_name=full,
            position=cells.get("position", ""),
            organization=cells.get("organization", ""),
            role=role or DEFAULT_ROLE,
            language=language or DEFAULT_LANGUAGE,
            timezone=timezone,
            given=given,
        )

    def checked_email(self, value: str, line: int) -> str | None:
        if not value:
            self.problem("an email address is required", line, "email")
            return None
        normalised = normalise_email(value)
        if normalised is None:
            reason = email_problem(value) or f"{value!r} is not an email address"
            self.problem(reason, line, "email")
        return normalised

    def checked_name(self, cells: dict[str, str], line: int) -> tuple[str, str, str]:
        """First, last and full name: first and last when given, else ``name``."""
        first, last = cells.get("first_name", ""), cells.get("last_name", "")
        if first or last:
            full = join_name(first, last)
            if len(full) > MAX_FULL_NAME:
                self.problem(
                    f"first_name and last_name together are {len(full)} characters long; "
                    f"at most {MAX_FULL_NAME} are allowed",
                    line,
                    "last_name" if last else "first_name",
                )
            return first, last, full
        name = cells.get("name", "")
        if not name:
            column = "name" if "name" in self.labels else "first_name"
            self.problem(
                "a name is required: fill in name, or first_name and last_name", line, column
            )
        return "", "", name

    def checked_choice(self, cells: dict[str, str], column: str, line: int) -> str | None:
        """A role or language from its list, ignoring case; ``None`` when the cell is blank."""
        value = cells.get(column, "")
        if not value:
            return None
        choice = value.lower()
        if column == "role":
            choice = ROLE_ALIASES.get(choice, choice)
        allowed = InviteeRole.ALL if column == "role" else LANGUAGES
        if choice not in allowed:
            self.problem(
                f"unknown {column} {value!r}; use one of: {_one_of(allowed)}", line, column
            )
            return None
        return choice

    def checked_timezone(self, value: str, line: int) -> str | None:
        if not value:
            return None
        zone = canonical_timezone(value)
        if zone is None:
            self.problem(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Paris",
                line,
                "timezone",
            )
        return zone

    # -- the file as a whole -----------------------------------------------------------------

    def without_repeated_addresses(self, rows: list[InviteeRow]) -> list[InviteeRow]:
        """One row per address: exact repeats are dropped, conflicting ones reported.

        When two rows for one address disagree we cannot know which is right, so
        neither is imported and the problem names both lines.
        """
        first_rows: dict[str, InviteeRow] = {}
        conflicting: set[str] = set()
        for row in rows:
            first = first_rows.setdefault(row.email, row)
            if first is row:
                continue
            differing = first.differences(row)
            if differing:
                conflicting.add(row.email)
                self.problem(
                    f"{row.email} is also on {self.place(first.line)} with a different "
                    f"{', '.join(differing)}; neither {self.unit} is imported: make them agree "
                    "or remove one",
                    row.line,
                    "email",
                )
        return [row for email, row in first_rows.items() if email not in conflicting]


class _MappingParser(_Parser):
    """The file's checks on records that are already mappings: no header, no CSV syntax."""

    unit = "row"

    def __init__(self, source: str, name: str) -> None:
        super().__init__(source)
        self.name = name
        self.labels = {column: column for column in COLUMNS}

    def problem(self, message: str, line: int, column: str | None = None) -> None:
        where = f"{self.place(line)}.{column}" if column else self.place(line)
        self.problems.append(Problem(message, source=self.source, field=where))

    def place(self, line: int) -> str:
        return f"{self.name}[{line}]"

    def parse_records(self, records: Sequence[Mapping[str, str | None]]) -> ParsedFile:
        rows: list[InviteeRow] = []
        for index, record in enumerate(records):
            unknown = [key for key in record if key not in COLUMNS]
            for key in unknown:
                self.problem(f"unknown field; the fields are: {_one_of(COLUMNS)}", index, key)
            before = len(self.problems)
            named = [(key, value) for key, value in record.items() if key in COLUMNS and value]
            cells = self.read_cells(named, index)
            if len(self.problems) > before:
                continue
            row = self.checked_row(cells, index)
            if row is not None and not unknown:
                rows.append(row)
        return ParsedFile(rows=self.without_repeated_addresses(rows), problems=self.problems)
