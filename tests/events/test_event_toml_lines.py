"""Finding the line of each key in TOML text, which tomllib does not report."""

from __future__ import annotations

import tomllib

from roundtable.events.toml_lines import KeyLines
from tests.events.event_files import SAMPLE, line_of


def lines_of(text: str) -> KeyLines:
    tomllib.loads(text)  # the scanner only ever sees valid TOML
    return KeyLines(text)


def test_the_sample_keys_are_found_where_they_are_written() -> None:
    lines = lines_of(SAMPLE)
    assert lines.line_of(("slug",)) == 1
    assert lines.line_of(("title",)) == 2, "a key-like line inside the description is text"
    assert lines.line_of(("co_organizers",)) == line_of(SAMPLE, "co_organizers =")
    assert lines.line_of(("organizer", "email")) == line_of(SAMPLE, "email =", after="[organizer]")
    assert lines.line_of(("contact", "email")) == line_of(SAMPLE, "email =", after="[contact]")


def test_each_agenda_block_is_counted_from_one() -> None:
    lines = lines_of(SAMPLE)
    first_block = line_of(SAMPLE, "[[agenda]]", after="[contact]")
    assert lines.line_of(("agenda", 1)) == first_block
    assert lines.line_of(("agenda", 1, "time")) == first_block + 1
    assert lines.line_of(("agenda", 2, "title")) == line_of(
        SAMPLE, "title =", after='time = "13:30"'
    )
    assert lines.line_of(("agenda", 3, "time")) == line_of(SAMPLE, 'time = "14:45"')


def test_an_unwritten_key_falls_back_to_its_nearest_written_parent() -> None:
    lines = lines_of(SAMPLE)
    assert lines.line_of(("organizer", "phone")) == line_of(SAMPLE, "[organizer]")
    assert lines.line_of(("reminders", 2)) == line_of(SAMPLE, "reminders =")
    assert lines.line_of(("agenda", 2, "speakers", 2)) == line_of(SAMPLE, 'speakers = ["Mayor')
    third_block = line_of(SAMPLE, "[[agenda]]", after='description = """Moderated')
    assert lines.line_of(("agenda", 3, "speakers")) == third_block
    assert lines.line_of(("unwritten",)) is None


def test_dotted_and_quoted_keys_name_the_same_paths_as_tables() -> None:
    text = 'organizer . email = "a@b.org"\n"organizer".name = "IOM"\n\'slug\' = "x"\n'
    lines = lines_of(text)
    assert lines.line_of(("organizer", "email")) == 1
    assert lines.line_of(("organizer", "name")) == 2
    assert lines.line_of(("slug",)) == 3


def test_strings_comments_and_brackets_do_not_end_a_multiline_list_early() -> None:
    text = "\n".join(
        [
            "speakers = [",
            '  "a ] b",  # a comment with ] and "',
            r'  "escaped \" ] quote",',
            "  '''literal",
            "title = 'inside a literal string'",
            "  ]''',",
            "]",
            'title = "real"',
        ]
    )
    assert lines_of(text).line_of(("title",)) == 8


def test_a_multiline_string_may_end_with_extra_quotes() -> None:
    text = 'description = """ends with a quote""""\ntitle = "real"\n'
    assert lines_of(text).line_of(("title",)) == 2
    text = 'description = """\nescaped \\""" still inside\ntitle = "fake"\n"""\ntitle = "real"\n'
    assert lines_of(text).line_of(("title",)) == 5


def test_a_subtable_of_an_agenda_block_belongs_to_the_latest_block() -> None:
    text = '[[agenda]]\ntitle = "a"\n[[agenda]]\ntitle = "b"\n[agenda.room]\nname = "6"\n'
    lines = lines_of(text)
    assert lines.line_of(("agenda", 2, "room", "name")) == 6
    assert lines.line_of(("agenda", 1, "room")) == 1


def test_lines_are_counted_as_tomllib_counts_them() -> None:
    # str.splitlines would also break at the raw U+2028 inside the string
    text = 'slug = "x"\r\ndescription = "a\u2028b"\r\n\r\ntitle = "t"\r\n'
    assert lines_of(text).line_of(("title",)) == 4
