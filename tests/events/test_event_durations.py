"""Durations in event files: 90m, 2h, 7d."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roundtable.events.durations import MAX_SECONDS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90m", 5_400), ("2h", 7_200), ("7d", 604_800), (" 1d ", 86_400), ("366d", MAX_SECONDS)],
)
def test_a_number_and_a_unit_is_a_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not a duration: write a whole number followed by m, h or d"),
        ("d", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("-2d", "is not a duration"),
        ("2 d", "is not a duration"),
        ("1d12h", "is not a duration"),
        ("٣d", "is not a duration"),
        ("7", "'7' has no unit: add m (minutes), h (hours) or d (days)"),
        ("7w", "'7w' has an unknown unit 'w'"),
        ("2H", "'2H' has an unknown unit 'H'"),
        ("0m", "'0m' is not a positive duration"),
        ("000d", "is not a positive duration"),
        ("367d", "'367d' is longer than 366d"),
        ("9" * 5000 + "m", "is longer than 366d"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "1m"), (5_400, "90m"), (7_200, "2h"), (86_400, "1d"), (90_000, "25h")],
)
def test_format_picks_the_largest_unit_that_divides(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0, -60, 90])
def test_format_refuses_what_cannot_be_written(seconds: int) -> None:
    with pytest.raises(ValueError):
        format_duration(seconds)


@given(st.integers(min_value=1, max_value=MAX_SECONDS // 60))
def test_parse_undoes_format(minutes: int) -> None:
    assert parse_duration(format_duration(minutes * 60)) == minutes * 60


@given(st.text(max_size=20))
def test_any_text_is_a_duration_or_a_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        assert str(error)
    else:
        assert 0 < seconds <= MAX_SECONDS and seconds % 60 == 0
