"""Property tests: whatever an event file holds, reading it ends in a spec or an InputError."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roundtable.errors import InputError
from roundtable.events.spec import TOP_LEVEL_KEYS, EventSpec, parse_event_text
from tests.events.event_files import SAMPLE, SOURCE, sample

# text without lone surrogates, which cannot be written to a file
characters = st.characters(codec="utf-8")
plausible_strings = st.sampled_from(
    [
        "7d",
        "90m",
        "0d",
        "13:15",
        "2026-03-08T02:30:00",
        "2026-11-01T01:30:00",
        "2026-09-24T13:15:00Z",
        "America/New_York",
        "https://webtv.un.org/",
        "events@iom.example.org",
        "a@b",
        "",
        " ",
    ]
)
scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(characters, max_size=30),
    plausible_strings,
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "email", "time", "title", "x"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)


#: the keys written as ``key = value`` in the sample, not as [tables]
SCALAR_KEYS = [key for key in TOP_LEVEL_KEYS if key not in ("organizer", "contact", "agenda")]


def toml(value: Any) -> str:
    """``value`` written as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # inf, -inf and nan are written the same way in TOML
    if isinstance(value, str):
        # JSON escapes are TOML escapes, except that TOML also wants DEL escaped
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{key} = {toml(item)}" for key, item in value.items()) + "}"


def read(text: str) -> EventSpec | InputError:
    try:
        return parse_event_text(text, SOURCE)
    except InputError as error:
        return error


def assert_located(error: InputError, text: str) -> None:
    last_line = text.count("\n") + 1
    for problem in error.problems:
        assert problem.source == SOURCE
        assert problem.message
        assert problem.line is None or 1 <= problem.line <= last_line


@settings(max_examples=300)
@given(st.text(characters, max_size=200))
def test_any_text_is_a_spec_or_an_input_error(text: str) -> None:
    outcome = read(text)
    if isinstance(outcome, InputError):
        assert_located(outcome, text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SCALAR_KEYS), toml_values)
def test_any_value_for_any_key_is_a_spec_or_an_input_error(key: str, value: Any) -> None:
    text = sample(**{key: toml(value)})
    outcome = read(text)
    if isinstance(outcome, InputError):
        assert_located(outcome, text)


@settings(max_examples=200)
@given(st.data())
def test_damaging_the_sample_anywhere_gives_a_spec_or_an_input_error(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(SAMPLE)))
    end = data.draw(st.integers(start, min(len(SAMPLE), start + 20)))
    insert = data.draw(
        st.text(characters, max_size=10) | st.sampled_from(['"', "[", "]", "\n", "="])
    )
    text = SAMPLE[:start] + insert + SAMPLE[end:]
    outcome = read(text)
    if isinstance(outcome, InputError):
        assert_located(outcome, text)


ZONES = ["America/New_York", "Europe/Zurich", "Pacific/Auckland", "Asia/Kathmandu", "UTC"]


@settings(max_examples=300)
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_a_local_start_is_either_refused_as_skipped_or_shown_again_at_the_venue(
    zone: str, local: datetime
) -> None:
    local = local.replace(second=0, microsecond=0)
    starts = local.isoformat()
    ends = (local + timedelta(days=2)).replace(hour=12, minute=0).isoformat()
    text = sample(timezone=f'"{zone}"', starts=f'"{starts}"', ends=f'"{ends}"', rsvp_deadline=None)
    outcome = read(text.replace('nudge = "3d"', ""))
    if isinstance(outcome, InputError):
        assert [problem.field for problem in outcome.problems] == ["starts"]
        assert "does not exist in" in outcome.problems[0].message
    else:
        assert outcome.starts.tzinfo is UTC
        assert outcome.starts.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local
