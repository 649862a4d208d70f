"""The invitee file parser: every mistake located by file, line and column; valid rows exact."""

from __future__ import annotations

import csv
import io
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roundtable.errors import Problem
from roundtable.invitations.invitee_file import (
    COLUMNS,
    MAX_LENGTHS,
    InviteeRow,
    ParsedFile,
    parse_invitee_bytes,
    parse_invitee_file,
)
from roundtable.invitations.model import InviteeRole
from roundtable.people.model import LANGUAGES
from roundtable.people.names import join_name

HEADER = "email,first_name,last_name,honorific,organization,role,language,timezone"


def parse(text: str) -> ParsedFile:
    return parse_invitee_bytes(text.encode("utf-8"), "invitees.csv")


def only_row(text: str) -> InviteeRow:
    parsed = parse(text)
    assert parsed.problems == []
    [row] = parsed.rows
    return row


def only_problem(text: str) -> Problem:
    parsed = parse(text)
    [problem] = parsed.problems
    return problem


# -- valid files ----------------------------------------------------------------------------------


def test_a_full_row_is_read_with_defaults_and_normalised_values() -> None:
    parsed = parse(
        f"{HEADER}\n"
        "  Maria.Rossi@IOM.Example.org ,Maria,Rossi,Dr.,IOM,Panelist,FR,america/new_york\n"
        "lee@example.org,Lee,,,,,,\n"
    )
    assert parsed.problems == []
    assert parsed.readable
    assert parsed.rows == [
        InviteeRow(
            line=2,
            email="maria.rossi@iom.example.org",
            honorific="Dr.",
            first_name="Maria",
            last_name="Rossi",
            full_name="Maria Rossi",
            organization="IOM",
            role="panellist",
            language="fr",
            timezone="America/New_York",
            given=frozenset({"honorific", "organization", "role", "language", "timezone"}),
        ),
        InviteeRow(line=3, email="lee@example.org", first_name="Lee", full_name="Lee"),
    ]
    assert parsed.rows[1].role == "participant"
    assert parsed.rows[1].language == "en"
    assert parsed.rows[1].timezone is None


def test_header_names_ignore_case_spaces_and_a_byte_order_mark() -> None:
    data = "\ufeff EMAIL , First Name,Last-Name\r\nana@example.org,Ana,Silva\r\n".encode()
    [row] = parse_invitee_bytes(data, "x.csv").rows
    assert (row.email, row.full_name) == ("ana@example.org", "Ana Silva")


def test_name_column_alone_or_beside_first_and_last_which_win() -> None:
    parsed = parse(
        "email,name,first_name,last_name\n"
        "a@example.org,H.E. Ms. Amina Mohammed,,\n"
        "b@example.org,Bob B.,Robert,Brown\n"
    )
    assert [(r.first_name, r.last_name, r.full_name) for r in parsed.rows] == [
        ("", "", "H.E. Ms. Amina Mohammed"),
        ("Robert", "Brown", "Robert Brown"),
    ]


def test_quoted_commas_and_quotes_are_kept() -> None:
    row = only_row(
        "email,name,organization,position\n"
        'r@example.org,"Rossi, Maria","Ministry of Foreign Affairs, Italy","Head of ""Unit"""\n'
    )
    assert row.full_name == "Rossi, Maria"
    assert row.organization == "Ministry of Foreign Affairs, Italy"
    assert row.position == 'Head of "Unit"'


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("محمد", "بن سلمان"),
        ("小龙", "李"),
        ("Анна", "Каренина"),
        ("François", "Müller-Lüdenscheidt"),
        ("Nguyễn", "Thị Minh Khai"),
    ],
)
def test_names_in_any_script_are_kept_exactly(first: str, last: str) -> None:
    row = only_row(f"email,first_name,last_name,language\nx@example.org,{first},{last},ar\n")
    assert (row.first_name, row.last_name, row.full_name) == (first, last, join_name(first, last))


def test_east_asian_names_are_written_family_name_first() -> None:
    row = only_row("email,first_name,last_name\nx@example.org,建国,王\n")
    assert row.full_name == "王建国"
    assert join_name("Amina", "Haddad") == "Amina Haddad"
    assert join_name("Jian", "王") == "Jian 王", "mixed scripts keep the western order"


def test_formulas_and_html_are_kept_as_text() -> None:
    row = only_row(
        "email,name,position,organization\n"
        "x@example.org,<b>Eve</b> <script>x()</script>,\"=cmd|' /C calc'!A0\",+1-2@SUM\n"
    )
    assert row.full_name == "<b>Eve</b> <script>x()</script>"
    assert row.position == "=cmd|' /C calc'!A0"
    assert row.organization == "+1-2@SUM"


def test_empty_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    parsed = parse("\nemail,name\n\na@example.org,A\n,\n\nb@example.org,B\n")
    assert [(r.line, r.email) for r in parsed.rows] == [(4, "a@example.org"), (7, "b@example.org")]


def test_a_header_without_rows_is_an_empty_list() -> None:
    assert parse("email,name\n") == ParsedFile(rows=[], problems=[])


def test_semicolon_separated_files_from_european_excel_are_read() -> None:
    row = only_row("email;name;organization\r\nx@example.org;Rossi, Maria;IOM\r\n")
    assert (row.full_name, row.organization) == ("Rossi, Maria", "IOM")


def test_international_domain_becomes_idna() -> None:
    row = only_row("email,name\nanna@bücher.example,Anna\n")
    assert row.email == "anna@xn--bcher-kva.example"


def test_identical_repeats_of_an_address_are_one_invitee() -> None:
    parsed = parse(
        "email,name,role\n"
        "Ana@Example.org,Ana,speaker\n"
        "ana@example.org,Ana,Speaker\n"
        "b@example.org,B,\n"
        "ANA@EXAMPLE.ORG,Ana,speaker\n"
    )
    assert parsed.problems == []
    assert [(r.line, r.email) for r in parsed.rows] == [
        (2, "ana@example.org"),
        (4, "b@example.org"),
    ]


def test_letters_typed_decomposed_are_stored_composed() -> None:
    composed, decomposed = "Zoé Lefèvre", unicodedata.normalize("NFD", "Zoé Lefèvre")
    parsed = parse(f"email,name\nzoe@example.org,{decomposed}\nzoe@example.org,{composed}\n")
    assert parsed.problems == []
    assert [row.full_name for row in parsed.rows] == [composed]


def test_a_field_beyond_what_csv_reads_is_a_problem_not_a_crash() -> None:
    parsed = parse(f"email,name\na@example.org,A\nb@example.org,{'x' * 200_000}\n")
    assert not parsed.readable
    [problem] = parsed.problems
    assert problem.line == 3
    assert "cannot be read as CSV" in problem.message


def test_a_file_is_read_from_its_path(tmp_path: Path) -> None:
    path = tmp_path / "invitees.csv"
    path.write_bytes(b"email,name\nbad,Ana\n")
    [problem] = parse_invitee_file(path).problems
    assert problem.source == str(path)


# -- problems -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("not-an-address,Ana,", "email", "exactly one @"),
        ("ana@localhost,Ana,", "email", "domain"),
        ('"Ana <ana@example.org>",Ana,', "email", "spaces"),
        ("ana@example.org;b@example.org,Ana,", "email", "@"),
        (",Ana,", "email", "required"),
        ("ana@example.org,,", "name", "name is required"),
        ("ana@example.org,Ana,chairperson", "role", "unknown role 'chairperson'"),
        ('"ana@example.org","Ana\nMaria",', "name", "line break"),
        ('ana@example.org,"Ana\rMaria",', "name", "line break"),
        ("ana@example.org,Ana\tMaria,", "name", "tab"),
        ("ana@example.org,Ana\x00,", "name", "NUL"),
        ("ana@example.org,Ana\x1b[31m,", "name", "U+001B"),
        ("ana@example.org,Ana\u2028Maria,", "name", "line break"),
        ("ana@example.org," + "A" * (MAX_LENGTHS["name"] + 1) + ",", "name", "at most 400"),
    ],
)
def test_a_bad_value_is_one_problem_naming_line_and_column(
    row: str, field: str, words: str
) -> None:
    parsed = parse(f"email,name,role\nok@example.org,Ok,\n{row}\nlast@example.org,Last,\n")
    assert [r.email for r in parsed.rows] == ["ok@example.org", "last@example.org"]
    [problem] = parsed.problems
    assert (problem.source, problem.line, problem.field) == ("invitees.csv", 3, field)
    assert words in problem.message
    assert str(problem).startswith(f"invitees.csv:3: {field}: ")


def test_unknown_language_and_zone_are_named_with_what_is_allowed() -> None:
    parsed = parse("email,name,language,timezone\nx@example.org,X,de,Europe/Parris\n")
    language, zone = parsed.problems
    assert (language.line, language.field) == (2, "language")
    assert "unknown language 'de'" in language.message
    assert ", ".join(LANGUAGES) in language.message
    assert (zone.line, zone.field) == (2, "timezone")
    assert "Europe/Parris" in zone.message
    assert parsed.rows == []


def test_every_problem_of_a_row_is_reported() -> None:
    parsed = parse("email,name,role,language\nnope,,boss,xx\n")
    assert [(p.line, p.field) for p in parsed.problems] == [
        (2, "email"),
        (2, "name"),
        (2, "role"),
        (2, "language"),
    ]


def test_a_quoted_value_spanning_lines_is_reported_where_it_starts() -> None:
    parsed = parse('email,name\na@example.org,"Ana\n\nMaria"\nb@example.org,B\nc@example.org,\n')
    assert [(p.line, p.field) for p in parsed.problems] == [(2, "name"), (6, "name")]
    assert [(r.line, r.email) for r in parsed.rows] == [(5, "b@example.org")]


def test_an_unterminated_quote_is_reported_at_its_line() -> None:
    parsed = parse('email,name\na@example.org,A\nb@example.org,"B\nc@example.org,C\n')
    [problem] = parsed.problems
    assert (problem.line, problem.field) == (3, "name")
    assert [r.email for r in parsed.rows] == ["a@example.org"]


def test_first_and_last_name_too_long_together() -> None:
    first = "F" * MAX_LENGTHS["first_name"]
    last = "L" * MAX_LENGTHS["last_name"]
    problem = only_problem(f"email,first_name,last_name\nx@example.org,{first},{last}\n")
    assert (problem.line, problem.field) == (2, "last_name")
    assert "at most 400" in problem.message


@pytest.mark.parametrize("column", ["honorific", "position", "organization", "first_name"])
def test_each_column_has_the_databases_length_limit(column: str) -> None:
    limit = MAX_LENGTHS[column]
    header = f"email,name,{column}" if column != "first_name" else "email,first_name"
    fits = (
        f"x@example.org,X,{'é' * limit}"
        if column != "first_name"
        else f"x@example.org,{'é' * limit}"
    )
    assert parse(f"{header}\n{fits}\n").problems == []
    problem = only_problem(f"{header}\n{fits}é\n")
    assert (problem.line, problem.field) == (2, column)
    assert f"at most {limit}" in problem.message


def test_a_value_under_no_column_is_a_problem_but_empty_trailing_cells_are_not() -> None:
    parsed = parse("email,name,\na@example.org,A,,,\nb@example.org,B,,surprise\n")
    [problem] = parsed.problems
    assert (problem.line, problem.field) == (3, "column 4")
    assert [r.email for r in parsed.rows] == ["a@example.org"]


def test_conflicting_repeats_of_an_address_name_both_lines_and_import_neither() -> None:
    parsed = parse(
        "email,name,role\n"
        "ana@example.org,Ana,speaker\n"
        "b@example.org,B,\n"
        "ANA@example.org,Ana,moderator\n"
    )
    [problem] = parsed.problems
    assert (problem.line, problem.field) == (4, "email")
    assert "ana@example.org is also on line 2" in problem.message
    assert "role" in problem.message
    assert [r.email for r in parsed.rows] == ["b@example.org"]


def test_a_repeat_with_a_different_name_is_a_conflict() -> None:
    parsed = parse("email,name\nana@example.org,Ana\nana@example.org,Anna\n")
    [problem] = parsed.problems
    assert "different name" in problem.message
    assert parsed.rows == []


def test_unknown_columns_are_named_with_the_allowed_ones() -> None:
    parsed = parse("email,name,Phone,title\na@example.org,A,1,Dr\n")
    assert not parsed.readable
    assert parsed.rows == []
    assert [(p.line, p.field) for p in parsed.problems] == [(1, "Phone"), (1, "title")]
    assert "unknown column 'Phone'" in parsed.problems[0].message
    assert ", ".join(COLUMNS) in parsed.problems[0].message


def test_a_column_given_twice_is_an_error() -> None:
    [problem] = parse("email,name,Email\n").problems
    assert (problem.line, problem.field) == (1, "Email")
    assert "appears twice (columns 1 and 3)" in problem.message


@pytest.mark.parametrize(
    ("header", "field"),
    [("name,organization", "email"), ("email,organization", "name")],
)
def test_email_and_a_name_column_are_required(header: str, field: str) -> None:
    problem = only_problem(f"{header}\nx@example.org,IOM\n")
    assert (problem.line, problem.field) == (1, field)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_file_needs_a_header(data: bytes) -> None:
    parsed = parse_invitee_bytes(data, "x.csv")
    [problem] = parsed.problems
    assert "header" in problem.message
    assert not parsed.readable


def test_a_file_that_is_not_utf8_is_one_problem_at_the_first_bad_byte() -> None:
    data = "email,name\r\na@example.org,Ana\r\nb@example.org,José\r\nc@example.org,Renée\r\n"
    parsed = parse_invitee_bytes(data.encode("latin-1"), "legacy.csv")
    assert parsed.rows == []
    assert not parsed.readable
    [problem] = parsed.problems
    assert (problem.source, problem.line) == ("legacy.csv", 3)
    assert "not UTF-8" in problem.message
    assert "0xE9" in problem.message


def test_utf16_from_excel_is_refused_on_line_one() -> None:
    parsed = parse_invitee_bytes("email,name\n".encode("utf-16"), "x.csv")
    [problem] = parsed.problems
    assert problem.line == 1
    assert "not UTF-8" in problem.message


# -- properties -----------------------------------------------------------------------------------


def _assert_clean(parsed: ParsedFile) -> None:
    for problem in parsed.problems:
        assert problem.source == "fuzz.csv"
        assert problem.line is not None and problem.line >= 1
        assert problem.message
    emails = [row.email for row in parsed.rows]
    assert len(emails) == len(set(emails))
    for row in parsed.rows:
        assert row.full_name
        assert row.role in InviteeRole.ALL
        assert row.language in LANGUAGES


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_rows_or_problems_never_an_exception(data: bytes) -> None:
    _assert_clean(parse_invitee_bytes(data, "fuzz.csv"))


_cells = st.text(alphabet=st.sampled_from(',"\r\n\t ;\x00ab@.=+é中'), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*COLUMNS, "other", ""]), min_size=1, max_size=6),
    st.lists(st.lists(_cells | st.text(max_size=12), max_size=7), max_size=6),
)
def test_random_records_give_rows_or_problems_never_an_exception(
    header: list[str], records: list[list[str]]
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(records)
    _assert_clean(parse_invitee_bytes(buffer.getvalue().encode("utf-8"), "fuzz.csv"))


def _one_line_text(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text as a spreadsheet cell holds it: any script, no control characters, no outer spaces."""
    characters = st.characters(
        exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x85"
    )
    return (
        st.text(characters, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda value: len(value) >= min_size)
    )


_local_part = st.text(string.ascii_letters + string.digits + "_+-", min_size=1, max_size=20)
_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
_domain = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_label, min_size=1, max_size=2),
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)


@st.composite
def invitee_rows(draw: st.DrawFn) -> dict[str, str]:
    return {
        "email": f"{draw(_local_part)}@{draw(_domain)}",
        "first_name": draw(_one_line_text(40, min_size=1)),
        "last_name": draw(_one_line_text(40)),
        "honorific": draw(_one_line_text(10)),
        "position": draw(_one_line_text(60)),
        "organization": draw(_one_line_text(60)),
        "role": draw(st.sampled_from(InviteeRole.ALL)),
        "language": draw(st.sampled_from(LANGUAGES)),
        "timezone": draw(st.sampled_from(["", "Europe/Paris", "Asia/Kolkata", "UTC"])),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(invitee_rows(), max_size=8, unique_by=lambda row: row["email"].lower()))
def test_valid_rows_round_trip(rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["email", "name"])
    writer.writeheader()
    writer.writerows(rows)
    parsed = parse_invitee_bytes(buffer.getvalue().encode("utf-8"), "generated.csv")
    assert parsed.problems == []
    assert [row.line for row in parsed.rows] == list(range(2, len(rows) + 2))
    for written, read in zip(rows, parsed.rows, strict=True):
        assert read.email == written["email"].lower()
        assert read.full_name == f"{read.first_name} {read.last_name}".strip()
        for column in ("first_name", "last_name", "honorific", "position", "organization"):
            assert getattr(read, column) == unicodedata.normalize("NFC", written[column])
        assert (read.role, read.language) == (written["role"], written["language"])
        assert read.timezone == (written["timezone"] or None)


def test_mappings_are_checked_like_rows_and_named_by_index() -> None:
    from roundtable.invitations.invitee_file import parse_invitee_mappings

    parsed = parse_invitee_mappings(
        [
            {"email": "a@example.org", "name": "A", "role": "Panelist"},
            {"email": "not an address", "name": "B"},
            {"email": "c@example.org", "language": "xx", "colour": "red"},
            {"email": "A@example.org", "name": "A", "role": "speaker"},
        ],
        "request body",
    )

    where = {(p.field, p.source, p.line) for p in parsed.problems}
    assert ("invitees[1].email", "request body", None) in where
    assert ("invitees[2].language", "request body", None) in where
    assert ("invitees[2].name", "request body", None) in where
    assert ("invitees[2].colour", "request body", None) in where
    conflict = [p for p in parsed.problems if p.field == "invitees[3].email"]
    assert conflict and "is also on invitees[0] with a different role" in conflict[0].message
    assert "neither row is imported" in conflict[0].message
    assert parsed.rows == []
