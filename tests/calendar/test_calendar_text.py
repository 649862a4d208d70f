"""Text in calendar files: escaping, names in parameters, non-Latin scripts, line folding."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import vobject
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from roundtable.calendar import Attendee, build_calendar
from roundtable.events.model import AgendaItem, Event

EventFactory = Callable[..., Event]

ARABIC_TITLE = (
    "اجتماع المائدة المستديرة الرفيع المستوى بشأن المدن المتعددة الأعراق وإدماج المهاجرين"
)
CHINESE_TITLE = "关于多民族城市的高级别圆桌会议：移民融合的管理与政策，以及更好的城市治理"


def read_vobject(data: bytes) -> Any:
    return vobject.readOne(data.decode("utf-8"))


def physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[: -len(b"\r\n")].split(b"\r\n")


def expected_text(text: str) -> str:
    """What a reader should get back: one kind of line break, no other control characters."""
    one_break = re.sub(r"\r\n|\r", "\n", text)
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", one_break)


def test_markup_quotes_commas_semicolons_and_line_breaks_survive_escaping(
    make_event: EventFactory, now: datetime
) -> None:
    title = 'Cities; migrants, "integration" <script>alert(1)</script>\nSecond line\r\nThird'
    venue = "Palais des Nations; Room XX, Geneva"
    agenda = [
        AgendaItem(
            event_id=1,
            position=0,
            time="10:00",
            title="Welcome; coffee, tea",
            speakers=['Dr. "Bob" O\'Neil'],
        )
    ]
    event = make_event(title=title, venue=venue, room="", address="")
    data = build_calendar(event, agenda, method="REQUEST", attendee=None, now=now)

    text = data.decode().replace("\r\n ", "")  # unfolded
    assert "<script>alert(1)</script>\\nSecond line\\nThird" in text
    assert "Cities\\; migrants\\, " in text
    assert "\r" not in text.replace("\r\n", "")

    expected_title = 'Cities; migrants, "integration" <script>alert(1)</script>\nSecond line\nThird'
    vevent = read_vobject(data).vevent
    assert vevent.summary.value == expected_title
    assert vevent.location.value == venue
    assert '10:00 Welcome; coffee, tea — Dr. "Bob" O\'Neil' in vevent.description.value

    ical_event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(ical_event["SUMMARY"]) == expected_title
    assert str(ical_event["LOCATION"]) == venue


def test_backslashes_are_escaped_even_before_n(make_event: EventFactory, now: datetime) -> None:
    # icalendar's own escaping would turn the "\N" of this path into a line break.
    title = r"Report at C:\New folder\notes, see \\server\share"
    data = build_calendar(make_event(title=title), [], method="REQUEST", attendee=None, now=now)
    assert "SUMMARY:Report at C:\\\\New folder\\\\notes\\, see \\\\\\\\server\\\\share" in (
        data.decode()
    )
    assert read_vobject(data).vevent.summary.value == title


def test_control_characters_are_dropped(make_event: EventFactory, now: datetime) -> None:
    title = "Before\x00\x07\x1b after\tTab\x7f end\rnext"
    data = build_calendar(make_event(title=title), [], method="REQUEST", attendee=None, now=now)
    assert read_vobject(data).vevent.summary.value == "Before after\tTab end\nnext"


def test_names_with_quotes_colons_and_line_breaks_stay_one_valid_parameter(
    make_event: EventFactory, now: datetime
) -> None:
    attendee = Attendee(
        email="bob@example.org", name='Dr. "Bob": O\'Neil, Jr.; Esq.\r\nBCC: evil@example.org'
    )
    event = make_event(organizer_name='IOM "New York": Events; Office')
    data = build_calendar(event, [], method="REQUEST", attendee=attendee, now=now)

    vevent = read_vobject(data).vevent
    assert vevent.attendee.value == "mailto:bob@example.org"
    assert vevent.attendee.params["CN"] == ["Dr. 'Bob': O'Neil, Jr.; Esq. BCC: evil@example.org"]
    assert vevent.attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert vevent.organizer.value == "mailto:events@iom.example.org"
    assert vevent.organizer.params["CN"] == ["IOM 'New York': Events; Office"]

    ical_event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert ical_event["ATTENDEE"].params["CN"] == vevent.attendee.params["CN"][0]
    assert str(ical_event["ATTENDEE"]) == "mailto:bob@example.org"
    assert "\nBCC" not in data.decode().replace("\r\n ", "")


def test_arabic_and_chinese_round_trip_and_fold_between_characters(
    make_event: EventFactory, now: datetime
) -> None:
    attendee = Attendee(email="li.wei@example.org", name="李伟 (Li Wei) — السفير")
    agenda = [
        AgendaItem(
            event_id=1, position=0, time="13:15", title="开幕词", speakers=["国际移民组织总干事"]
        ),
        AgendaItem(
            event_id=1, position=1, time="13:30", title="حلقة نقاش", speakers=["عمدة ميلانو"]
        ),
    ]
    for title in (ARABIC_TITLE, CHINESE_TITLE):
        event = make_event(title=title, venue="مقر الأمم المتحدة", room="会议室 6", address="")
        data = build_calendar(event, agenda, method="REQUEST", attendee=attendee, now=now)

        lines = physical_lines(data)
        assert any(line.startswith(b" ") for line in lines), "the long title must be folded"
        for line in lines:
            assert len(line) <= 75
            line.decode("utf-8")  # a fold never cuts a character in two

        vevent = read_vobject(data).vevent
        assert vevent.summary.value == title
        assert vevent.location.value == "会议室 6, مقر الأمم المتحدة"
        assert "13:15 开幕词 — 国际移民组织总干事" in vevent.description.value
        assert "13:30 حلقة نقاش — عمدة ميلانو" in vevent.description.value
        assert vevent.attendee.params["CN"] == ["李伟 (Li Wei) — السفير"]
        assert str(Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]) == title


def test_every_line_ends_with_crlf_and_fits_75_octets(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    data = build_calendar(
        make_event(title="x" * 400), agenda, method="REQUEST", attendee=None, now=now
    )
    assert data.count(b"\n") == data.count(b"\r\n")
    assert data.count(b"\r") == data.count(b"\r\n")
    assert max(len(line) for line in physical_lines(data)) <= 75


# Text without surrogates (not encodable) and without "^", which icalendar writes in
# parameters as RFC 6868's "^^" and vobject does not decode.
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=100, deadline=None)
@given(title=texts, venue=texts, name=texts.filter(lambda name: "^" not in name))
def test_any_text_reads_back_as_written_within_folded_crlf_lines(
    make_event: EventFactory, now: datetime, title: str, venue: str, name: str
) -> None:
    event = make_event(title=title, venue=venue, room="", address="")
    attendee = Attendee(email="someone@example.org", name=name)
    data = build_calendar(event, [], method="REQUEST", attendee=attendee, now=now)

    for line in physical_lines(data):
        assert len(line) <= 75
        assert b"\r" not in line and b"\n" not in line
        line.decode("utf-8")

    vevent = read_vobject(data).vevent
    assert vevent.summary.value == expected_text(title)
    location = expected_text(venue)
    assert (vevent.location.value if location else None) == (location or None)
    assert vevent.attendee.value == "mailto:someone@example.org"
