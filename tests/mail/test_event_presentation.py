"""One presentation of an event for the page, the mail and the calendar.

The page, the mail and the calendar text used to say the same things three ways; now
they take them from ``roundtable.presentation.event``, and these tests hold its rules.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import roundtable
from roundtable.calendar.invite import describe
from roundtable.presentation.event import present_event
from tests.mail.samples import sample_agenda, sample_event

SOURCE = Path(roundtable.__file__).resolve().parent


def test_a_place_reads_from_the_room_to_the_street_everywhere() -> None:
    shown = present_event(sample_event(), sample_agenda(), language="en", reader_zone=None)
    assert shown.place == "Conference Room 6, United Nations Headquarters"
    assert shown.location == (
        "Conference Room 6, United Nations Headquarters, "
        "405 East 42nd Street, New York, NY 10017, United States"
    )


def test_without_a_contact_person_the_organizer_is_whom_to_ask_in_mail_page_and_calendar() -> None:
    event = sample_event(contact_name="", contact_office="", contact_phone="")
    event.contact_email = ""
    shown = present_event(event, sample_agenda(), language="fr", reader_zone=None)
    assert (shown.contact.name, shown.contact.email) == ("IOM New York", "events@iom.example.org")
    assert describe(event, sample_agenda(), None).endswith(
        "For further information, please contact: IOM New York, events@iom.example.org"
    )


def test_the_readers_own_time_shows_when_their_clock_differs_at_the_end_only() -> None:
    # London leaves GMT for BST at 01:00 UTC on 28 March 2027: a reader on UTC agrees with
    # the venue's clock when the meeting starts, but not when it ends.
    event = sample_event(
        timezone="Europe/London",
        starts_at=datetime(2027, 3, 27, 20, 0, tzinfo=UTC),
        ends_at=datetime(2027, 3, 28, 9, 0, tzinfo=UTC),
        rsvp_deadline=None,
    )
    shown = present_event(event, [], language="en", reader_zone=ZoneInfo("UTC"))
    assert shown.local_time is not None
    assert shown.local_time.zone == "UTC"
    same = present_event(event, [], language="en", reader_zone=ZoneInfo("Europe/London"))
    assert same.local_time is None


@pytest.mark.parametrize(
    ("url", "link"),
    [("https://webtv.un.org/", "https://webtv.un.org/"), ("javascript:alert(1)", "")],
)
def test_only_a_web_address_becomes_a_webcast_link(url: str, link: str) -> None:
    shown = present_event(sample_event(webcast_url=url), [], language="en", reader_zone=None)
    assert shown.webcast_url == link


@pytest.mark.parametrize("module", ["web/rsvp.py", "mail/context.py", "calendar/invite.py"])
def test_the_page_the_mail_and_the_calendar_format_no_time_or_place_of_their_own(
    module: str,
) -> None:
    """Dates, zones and places are formatted in one module; the others only use it."""
    tree = ast.parse((SOURCE / module).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "babel.dates"
        for alias in node.names
    }
    assert not imported & {"format_date", "format_time", "format_interval", "get_timezone_name"}
