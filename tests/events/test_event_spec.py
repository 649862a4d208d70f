"""Reading event files: what a good file becomes, and how each mistake is reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roundtable.errors import InputError
from roundtable.events.spec import (
    AgendaSpec,
    ContactSpec,
    OrganizerSpec,
    field_name,
    local_to_utc,
    parse_event_file,
)
from tests.events.event_files import (
    SAMPLE,
    SOURCE,
    WITHOUT_AGENDA,
    line_of,
    only_problem,
    parse,
    problems_of,
    sample,
    without_table,
)

DAY = 86_400

# -- a good file -------------------------------------------------------------------------------


def test_the_contract_example_is_read_into_utc_instants_and_seconds() -> None:
    spec = parse(SAMPLE)

    assert spec.slug == "inter-ethnic-city"
    assert spec.title.startswith("The Inter-Ethnic City: Management")
    assert spec.format == "High-Level Roundtable"
    assert spec.timezone == "America/New_York"
    # New York is on daylight saving time (UTC-4) in September
    assert spec.starts == datetime(2026, 9, 24, 17, 15, tzinfo=UTC)
    assert spec.ends == datetime(2026, 9, 24, 19, 0, tzinfo=UTC)
    assert spec.rsvp_deadline == datetime(2026, 9, 20, 22, 0, tzinfo=UTC)
    assert (spec.venue, spec.room) == ("United Nations Headquarters", "Conference Room 6")
    assert spec.address == "405 East 42nd Street, New York, NY 10017, United States"
    assert spec.webcast_url == "https://webtv.un.org/"
    assert (spec.capacity, spec.max_guests) == (80, 0)
    assert spec.reminders == (7 * DAY, DAY)
    assert (spec.nudge, spec.followup_after) == (3 * DAY, 2 * DAY)
    assert spec.description.startswith("Cities are where migrants arrive")
    assert "\n\nThis roundtable asks" in spec.description
    assert spec.co_organizers == (
        "International Organization for Migration (IOM)",
        "United Nations Alliance of Civilizations (UNAoC)",
    )
    assert spec.organizer == OrganizerSpec("IOM New York", "events@iom.example.org")
    assert spec.contact == ContactSpec(
        "Maria Rossi", "IOM New York", "+1 212 681 7000 ext. 212", "mrossi@iom.example.org"
    )
    assert spec.agenda == (
        AgendaSpec("13:15", "Opening remarks", ("Director General, IOM",)),
        AgendaSpec(
            "13:30",
            "Panel: cities that welcome",
            ("Mayor of Montréal", "Deputy Mayor of Milan"),
            "Moderated by the High Representative for the UNAoC.",
        ),
        AgendaSpec("14:45", "Closing remarks"),
    )
    assert spec.source == SOURCE


def test_only_the_required_keys_give_empty_defaults() -> None:
    spec = parse(
        'slug = "s"\ntitle = "T"\nstarts = "2026-09-24T13:15"\nends = "2026-09-24T15:00"\n'
        'timezone = "UTC"\n[organizer]\nname = "IOM"\nemail = "events@iom.example.org"\n'
    )
    assert spec.starts == datetime(2026, 9, 24, 13, 15, tzinfo=UTC), "seconds may be left out"
    assert (spec.venue, spec.format, spec.webcast_url, spec.description) == ("", "", "", "")
    assert (spec.capacity, spec.rsvp_deadline, spec.nudge, spec.followup_after) == (None,) * 4
    assert (spec.reminders, spec.co_organizers, spec.agenda) == ((), (), ())
    assert spec.max_guests == 0
    assert spec.contact == ContactSpec()


def test_strings_are_stripped_and_reminders_kept_earliest_first() -> None:
    spec = parse(sample(title='"  Padded title \t"', reminders='["1d", "90m", "7d"]'))
    assert spec.title == "Padded title"
    assert spec.reminders == (7 * DAY, DAY, 90 * 60)


def test_toml_native_datetimes_and_times_are_accepted() -> None:
    text = sample(starts="2026-09-24T13:15:00", ends="2026-09-24 15:00:00").replace(
        'time = "13:15"', "time = 13:15:00"
    )
    spec = parse(text)
    assert spec.starts == datetime(2026, 9, 24, 17, 15, tzinfo=UTC)
    assert spec.ends == datetime(2026, 9, 24, 19, 0, tzinfo=UTC)
    assert spec.agenda[0].time == "13:15"


def test_max_guests_is_the_one_extension_to_the_contract() -> None:
    assert parse(sample(max_guests="2")).max_guests == 2


def test_windows_line_endings_are_read_and_lines_still_counted() -> None:
    spec = parse(SAMPLE.replace("\n", "\r\n"))
    assert "\r" not in spec.description
    text = sample(capacity="0").replace("\n", "\r\n")
    assert only_problem(text).line == line_of(sample(capacity="0"), "capacity =")


# -- one mistake, one problem, at its line ------------------------------------------------------


BAD_VALUES = [
    # key, raw TOML value, the field named (when not the key), part of the message
    ("slug", '"Inter Ethnic City"', None, "is not a valid slug: use lower-case letters"),
    ("slug", '"inter_ethnic"', None, "is not a valid slug"),
    ("slug", '""', None, "is not a valid slug"),
    ("slug", '"' + "a" * 101 + '"', None, "is 101 characters long; at most 100 fit"),
    ("slug", "42", None, "must be text in quotes, not the number 42"),
    ("title", '"   "', None, "must not be empty"),
    ("title", "['The Inter-Ethnic City']", None, "must be text in quotes, not a list"),
    ("title", r'"Line\nbreak"', None, "contains a line break; it must fit on one line"),
    ("title", r'"Return\rhere"', None, "contains a line break"),
    ("title", r'"Para\u2028graph"', None, "contains a line break"),
    ("title", r'"Tab\there"', None, "contains the control character U+0009"),
    ("venue", r'"UN\u0000HQ"', None, "contains a NUL character"),
    ("room", r'"Room\u001b[31m6"', None, "contains the control character U+001B"),
    ("address", '"' + "x" * 501 + '"', None, "is 501 characters long; at most 500 fit"),
    ("format", "true", None, "must be text in quotes, not true/false"),
    ("description", r'"Bell \u0007"', None, "contains the control character U+0007"),
    ("timezone", '"America/New York"', None, "did you mean 'America/New_York'?"),
    ("timezone", '"Mars/Olympus_Mons"', None, "is not a time zone of the IANA database"),
    ("timezone", '"localtime"', None, "is not a time zone of the IANA database"),
    ("timezone", '"America"', None, "is not a time zone of the IANA database"),
    ("timezone", '"../../etc/passwd"', None, "is not a time zone of the IANA database"),
    ("starts", '"2026-02-30T10:00:00"', None, "is not a real date and time (day is out of range"),
    ("starts", '"2026-13-01T10:00:00"', None, "is not a real date and time (month must be in"),
    ("starts", '"2026-09-24T25:00:00"', None, "is not a real date and time (hour must be in"),
    ("starts", '"2026-09-24T13:15:00Z"', None, "carries a UTC offset; write the local time"),
    ("starts", '"2026-09-24T13:15:00+02:00"', None, "carries a UTC offset"),
    ("starts", "2026-09-24T13:15:00-04:00", None, "carries a UTC offset"),
    ("starts", "2026-09-24", None, "needs a time of day too, like 2026-09-24T13:15:00"),
    ("starts", "13:15:00", None, "not a time"),
    ("starts", '"24/09/2026 13:15"', None, "is not a date and time: write YYYY-MM-DDTHH:MM:SS"),
    ("starts", '"2026-09-24T13:15:00.5"', None, "is not a date and time"),
    ("starts", "2026-09-24T13:15:00.5", None, "has fractions of a second"),
    ("starts", '"1900-09-24T13:15:00"', None, "is not between the years 1970 and 2100"),
    ("starts", '"2026-03-08T02:30:00"', None, "does not exist in America/New_York"),
    ("ends", '"2026-09-24T13:15:00"', None, "must be after starts (2026-09-24T13:15:00)"),
    ("ends", '"2026-09-23T15:00:00"', None, "must be after starts"),
    ("ends", "1", None, "must be a local date and time in quotes"),
    ("rsvp_deadline", '"2026-09-24T13:16:00"', None, "must not be after starts"),
    ("capacity", "0", None, "must be a positive whole number up to 1000000, not 0"),
    ("capacity", "-5", None, "must be a positive whole number"),
    ("capacity", "10000001", None, "up to 1000000"),
    ("capacity", '"80"', None, "must be a whole number, not text ('80')"),
    ("capacity", "80.5", None, "must be a whole number, not the number 80.5"),
    ("capacity", "true", None, "must be a whole number, not true/false"),
    ("max_guests", "-1", None, "must be a whole number from 0 up to 100, not -1"),
    ("reminders", '["7x"]', "reminders[1]", "'7x' has an unknown unit 'x'"),
    ("reminders", '["7d", "7"]', "reminders[2]", "'7' has no unit"),
    ("reminders", '["1d", "24h"]', "reminders[2]", "'24h' repeats an earlier reminder"),
    (
        "reminders",
        "[7]",
        "reminders[1]",
        'must be a duration in quotes, like "2d", not the number 7',
    ),
    ("reminders", '"7d"', None, 'must be a list of durations in quotes, like ["7d", "1d"]'),
    ("nudge", '"0d"', None, "'0d' is not a positive duration"),
    ("nudge", '"1.5h"', None, "'1.5h' is not a duration"),
    ("followup_after", "2", None, "must be a duration in quotes"),
    ("followup_after", '"400d"', None, "is longer than 366d"),
    ("webcast_url", '"ftp://webtv.un.org/"', None, "is not a web address: it must start with"),
    ("webcast_url", '"webtv.un.org"', None, "is not a web address"),
    ("webcast_url", '"javascript:alert(1)"', None, "is not a web address"),
    ("webcast_url", '"https://"', None, "is not a web address"),
    ("webcast_url", '"https://webtv.un.org/a b"', None, "is not a web address"),
    ("webcast_url", '"http://[::1"', None, "is not a web address"),
    ("co_organizers", '"IOM"', None, "must be a list of texts in quotes"),
    ("co_organizers", '["IOM", 3]', "co_organizers[2]", "must be text in quotes, not the number 3"),
    ("co_organizers", '["IOM", " "]', "co_organizers[2]", "must not be empty"),
    ("co_organizers", r'["IOM\nUNAoC"]', "co_organizers[1]", "contains a line break"),
]


@pytest.mark.parametrize(
    ("key", "value", "field", "message"),
    BAD_VALUES,
    ids=[f"{key}={value[:30]}" for key, value, _, _ in BAD_VALUES],
)
def test_a_bad_value_is_reported_with_its_field_and_line(
    key: str, value: str, field: str | None, message: str
) -> None:
    text = sample(**{key: value})
    problem = only_problem(text)
    assert problem.field == (field or key)
    assert problem.line == line_of(text, f"{key} =")
    assert problem.source == SOURCE
    assert message in problem.message


@pytest.mark.parametrize("key", ["slug", "title", "starts", "ends", "timezone"])
def test_a_missing_required_key_is_reported(key: str) -> None:
    problem = only_problem(sample(**{key: None}))
    assert (problem.field, problem.line, problem.message) == (key, None, "is required")


def test_venue_and_everything_else_may_be_left_out() -> None:
    text = sample(
        venue=None,
        room=None,
        address=None,
        webcast_url=None,
        capacity=None,
        rsvp_deadline=None,
        reminders=None,
        nudge=None,
        followup_after=None,
        description=None,
        co_organizers=None,
        format=None,
    )
    spec = parse(without_table(text, "[contact]"))
    assert (spec.venue, spec.rsvp_deadline, spec.contact) == ("", None, ContactSpec())


def test_a_nudge_needs_an_rsvp_deadline() -> None:
    text = sample(rsvp_deadline=None)
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("nudge", line_of(text, "nudge ="))
    assert "needs an rsvp_deadline" in problem.message


def test_an_unknown_key_names_itself_guesses_and_lists_the_allowed_ones() -> None:
    text = sample(venu='"UN Headquarters"')
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("venu", line_of(text, "venu ="))
    assert "did you mean 'venue'?" in problem.message
    assert "the keys here are: slug, title, format, starts" in problem.message


def test_a_syntax_error_gives_tomllib_line_and_column() -> None:
    text = sample(title='"unterminated')
    problem = only_problem(text)
    assert (problem.field, problem.line) == (None, line_of(text, "title ="))
    assert problem.message.startswith("is not valid TOML: ")
    assert "at column" in problem.message


def test_a_syntax_error_at_the_very_end_points_at_the_last_line() -> None:
    text = SAMPLE + "extra ="
    problem = only_problem(text)
    assert problem.line == text.count("\n") + 1
    assert "at the end of the file" in problem.message


def test_an_impossible_unquoted_date_is_a_syntax_error_at_its_line() -> None:
    text = sample(starts="2026-02-30T10:00:00")
    problem = only_problem(text)
    assert problem.line == line_of(text, "starts =")
    assert "is not valid TOML: Invalid date or datetime" in problem.message


def test_a_repeated_key_is_a_syntax_error() -> None:
    assert "is not valid TOML" in only_problem('slug = "again"\n' + SAMPLE).message


def test_very_deep_nesting_is_refused_not_crashed_on() -> None:
    problem = only_problem("x = " + "[" * 5000 + "]" * 5000)
    assert "nested too deeply" in problem.message


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = sample(slug='"Bad Slug"', capacity="0", timezone='"Nowhere/Land"').replace(
        "events@iom.example.org", "events at iom.example.org"
    )
    problems = problems_of(text)
    assert [(problem.field, problem.line) for problem in problems] == [
        ("slug", 1),
        ("timezone", line_of(text, "timezone =")),
        ("capacity", line_of(text, "capacity =")),
        ("organizer.email", line_of(text, "email =", after="[organizer]")),
    ]
    with pytest.raises(InputError) as caught:
        parse(text)
    assert str(caught.value).splitlines()[0].startswith(f"{SOURCE}:1: slug: 'Bad Slug' is not")


# -- organizer, contact, agenda ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("events at iom.example.org", "contains spaces or control characters"),
        ("events@@iom.example.org", "it needs exactly one @"),
        ("@iom.example.org", "has an invalid part before the @"),
        ("events@localhost", "has an invalid domain"),
        ("events@iom..org", "has an invalid domain"),
        ("", "must not be empty"),
    ],
)
def test_a_bad_organizer_email_is_reported(address: str, message: str) -> None:
    text = SAMPLE.replace('"events@iom.example.org"', f'"{address}"')
    problem = only_problem(text)
    assert (problem.field, problem.line) == (
        "organizer.email",
        line_of(text, "email =", after="[organizer]"),
    )
    assert message in problem.message


def test_a_bad_contact_email_is_reported() -> None:
    text = SAMPLE.replace('"mrossi@iom.example.org"', '"mrossi@"')
    problem = only_problem(text)
    assert (problem.field, problem.line) == (
        "contact.email",
        line_of(text, "email =", after="[contact]"),
    )


def test_a_missing_organizer_part_is_reported_at_the_table() -> None:
    text = SAMPLE.replace('name = "IOM New York"\n', "")
    problem = only_problem(text)
    assert (problem.field, problem.line, problem.message) == (
        "organizer.name",
        line_of(text, "[organizer]"),
        "is required",
    )


def test_a_missing_organizer_table_is_reported() -> None:
    problem = only_problem(without_table(SAMPLE, "[organizer]"))
    assert problem.field == "organizer"
    assert "add a [organizer] table with name and email" in problem.message


def test_an_organizer_written_as_text_is_a_type_problem() -> None:
    text = sample(organizer='"IOM New York"')
    problem = only_problem(without_table(text, "[organizer]"))
    assert problem.field == "organizer"
    assert "must be a [organizer] table, not text" in problem.message


def test_an_inline_organizer_table_is_fine_and_its_problems_point_at_its_line() -> None:
    text = without_table(SAMPLE, "[organizer]").replace(
        "\n[contact]", '\norganizer = { name = "IOM", email = "nope" }\n[contact]'
    )
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("organizer.email", line_of(text, "organizer ="))


def test_an_unknown_key_in_a_table_is_reported_with_its_table() -> None:
    text = SAMPLE.replace('phone = "+1', 'fax = "+1 212 555 0000"\nphone = "+1')
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("contact.fax", line_of(text, "fax ="))
    assert "the keys here are: name, office, phone, email" in problem.message


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('"1:15"', "'1:15' is not a time of day: write HH:MM (24-hour), like 09:30"),
        ('"24:00"', "is not a time of day"),
        ('"13:15:30"', "is not a time of day"),
        ("13:15:30", "is not a time of day"),
        ("1315", "1315 is not a time of day"),
    ],
)
def test_an_agenda_time_must_be_hours_and_minutes(written: str, message: str) -> None:
    text = SAMPLE.replace('time = "13:30"', f"time = {written}")
    problem = only_problem(text)
    assert problem.field == "agenda[2].time"
    assert problem.line == line_of(text, "time =", after='speakers = ["Director')
    assert message in problem.message


def test_agenda_problems_name_their_block_and_line() -> None:
    text = (
        SAMPLE.replace('speakers = ["Mayor of Montréal", ', 'speaker = "Mayor"\nspeakers = [2, ')
        .replace('title = "Closing remarks"', "")
        .replace('"Opening remarks"', '"Opening\\nremarks"')
    )
    problems = problems_of(text)
    assert [(problem.field, problem.line) for problem in problems] == [
        ("agenda[1].title", line_of(text, 'title = "Opening')),
        ("agenda[2].speaker", line_of(text, "speaker =")),
        ("agenda[2].speakers[1]", line_of(text, "speakers = [2")),
        ("agenda[3].title", line_of(text, "[[agenda]]", after='description = """Moderated')),
    ]
    assert "did you mean 'speakers'?" in problems[1].message
    assert problems[3].message == "is required"


def test_agenda_must_be_a_list_of_tables() -> None:
    text = WITHOUT_AGENDA.replace("\n[organizer]", '\nagenda = "Opening"\n\n[organizer]')
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("agenda", line_of(text, "agenda ="))
    assert "must be a list of [[agenda]] tables" in problem.message
    single = WITHOUT_AGENDA + '\n[agenda]\ntime = "13:15"\ntitle = "Opening"\n'
    assert only_problem(single).message.endswith("not a table")


def test_an_agenda_description_may_span_lines() -> None:
    text = SAMPLE.replace(
        '"""Moderated by the High Representative for the UNAoC."""',
        '"""\nModerated by the High Representative.\n\nQuestions from the floor.\n"""',
    )
    assert parse(text).agenda[1].description == (
        "Moderated by the High Representative.\n\nQuestions from the floor."
    )


# -- time at the venue ----------------------------------------------------------------------------


def test_a_time_skipped_by_daylight_saving_in_new_york_is_an_error_with_a_suggestion() -> None:
    text = sample(starts='"2026-03-08T02:30:00"', ends='"2026-03-08T04:00:00"', rsvp_deadline=None)
    problem = only_problem(text.replace('nudge = "3d"', ""))
    assert problem.field == "starts"
    assert problem.message == (
        "2026-03-08T02:30:00 does not exist in America/New_York: the clocks skip that time "
        "when daylight saving time begins (did you mean 2026-03-08T03:30:00?)"
    )


def test_a_time_repeated_in_new_york_means_the_first_one_still_on_summer_time() -> None:
    text = sample(starts='"2026-11-01T01:30:00"', ends='"2026-11-01T03:00:00"', rsvp_deadline=None)
    spec = parse(text.replace('nudge = "3d"', ""))
    assert spec.starts == datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "01:30 EDT (UTC-4)"
    # across the change the meeting lasts two and a half hours, not an hour and a half
    assert spec.ends - spec.starts == timedelta(hours=2, minutes=30)


def test_zurich_gap_and_fold() -> None:
    zurich = sample(timezone='"Europe/Zurich"', rsvp_deadline=None).replace('nudge = "3d"', "")
    gap = zurich.replace("2026-09-24T13:15:00", "2026-03-29T02:30:00").replace(
        "2026-09-24T15:00:00", "2026-03-29T04:00:00"
    )
    problem = only_problem(gap)
    assert problem.field == "starts"
    assert "2026-03-29T02:30:00 does not exist in Europe/Zurich" in problem.message
    assert "did you mean 2026-03-29T03:30:00?" in problem.message
    fold = zurich.replace("2026-09-24T13:15:00", "2026-10-25T02:30:00").replace(
        "2026-09-24T15:00:00", "2026-10-25T04:00:00"
    )
    assert parse(fold).starts == datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "02:30 CEST"


def test_a_deadline_in_the_gap_is_an_error_too() -> None:
    text = sample(rsvp_deadline='"2026-03-08T02:00:00"')
    assert only_problem(text).field == "rsvp_deadline"


@pytest.mark.parametrize(
    ("zone", "local", "instant"),
    [
        # New Zealand standard time, UTC+12: the meeting is on the 23rd in UTC
        ("Pacific/Auckland", "2026-09-24T09:00:00", datetime(2026, 9, 23, 21, 0, tzinfo=UTC)),
        # three days later New Zealand is on daylight saving time, UTC+13
        ("Pacific/Auckland", "2026-09-28T09:00:00", datetime(2026, 9, 27, 20, 0, tzinfo=UTC)),
        ("Asia/Kathmandu", "2026-09-24T13:15:00", datetime(2026, 9, 24, 7, 30, tzinfo=UTC)),
        ("Pacific/Kiritimati", "2026-09-24T08:00:00", datetime(2026, 9, 23, 18, 0, tzinfo=UTC)),
        ("Pacific/Pago_Pago", "2026-09-24T20:00:00", datetime(2026, 9, 25, 7, 0, tzinfo=UTC)),
    ],
)
def test_zones_far_from_utc(zone: str, local: str, instant: datetime) -> None:
    text = sample(
        timezone=f'"{zone}"',
        starts=f'"{local}"',
        ends=f'"{local[:11]}23:00:00"',
        rsvp_deadline=None,
    )
    assert parse(text.replace('nudge = "3d"', "")).starts == instant


def test_auckland_skips_an_hour_in_september() -> None:
    text = sample(
        timezone='"Pacific/Auckland"',
        starts='"2026-09-27T02:30:00"',
        ends='"2026-09-27T05:00:00"',
        rsvp_deadline=None,
    )
    problem = only_problem(text.replace('nudge = "3d"', ""))
    assert "does not exist in Pacific/Auckland" in problem.message


def test_local_to_utc_on_its_own() -> None:
    new_york = ZoneInfo("America/New_York")
    assert local_to_utc(datetime(2026, 1, 15, 9, 0), new_york) == datetime(
        2026, 1, 15, 14, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="does not exist"):
        local_to_utc(datetime(2026, 3, 8, 2, 0), new_york)


# -- files -------------------------------------------------------------------------------------


def test_a_file_is_read_with_its_name_as_given(tmp_path: Path) -> None:
    path = tmp_path / "roundtable.toml"
    path.write_text(SAMPLE, encoding="utf-8")
    assert parse_event_file(path).source == str(path)
    path.write_bytes("\ufeff".encode() + SAMPLE.encode())
    assert parse_event_file(path).slug == "inter-ethnic-city", "a byte-order mark is allowed"


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        parse_event_file(tmp_path / "missing.toml")
    assert str(caught.value) == f"{tmp_path / 'missing.toml'}: no such file"
    with pytest.raises(InputError, match="cannot be read"):
        parse_event_file(tmp_path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'slug = "x"\ntitle = "Caf\xe9"\n')
    with pytest.raises(InputError) as caught:
        parse_event_file(path)
    assert [(problem.line, problem.message) for problem in caught.value.problems] == [
        (2, "is not UTF-8 text")
    ]


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(SAMPLE + "#" * 1_000_000, encoding="utf-8")
    with pytest.raises(InputError, match="is larger than 1000000 bytes"):
        parse_event_file(path)


def test_field_names_count_list_positions_from_one() -> None:
    assert field_name(("agenda", 2, "speakers", 1)) == "agenda[2].speakers[1]"
    assert field_name(("organizer", "email")) == "organizer.email"


def test_a_description_keeps_its_lines_whatever_their_ending() -> None:
    spec = parse(sample(description=r'"First\r\nsecond\rthird\u2028fourth"'))
    assert spec.description == "First\nsecond\nthird\u2028fourth"


@pytest.mark.parametrize(
    ("table", "value"),
    [("organizer", r"IOM\r\nBcc: x@evil.example"), ("contact", r"Maria\nRossi")],
)
def test_a_name_with_a_line_break_is_refused_with_its_field_and_line(
    table: str, value: str
) -> None:
    """Names go into the From and Reply-To headers: a line break is refused at input."""
    text = sample()
    start = text.index(f"[{table}]")
    name_at = text.index("name = ", start)
    end = text.index("\n", name_at)
    text = text[:name_at] + f'name = "{value}"' + text[end:]
    problem = only_problem(text)
    assert problem.field == f"{table}.name"
    assert problem.line == text[:name_at].count("\n") + 1
    assert "line break" in problem.message
