"""Invitation, update and cancellation calendars, read back by icalendar and by vobject."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from roundtable.calendar import (
    PRODID,
    Attendee,
    ParsedAttendee,
    build_calendar,
    invite,
    parse_calendar,
    vtimezone,
)
from roundtable.calendar.timezones import vtimezone_text
from roundtable.events.model import AgendaItem, Event, EventStatus
from roundtable.invitations.model import Invitation, Status
from roundtable.people.model import Contact

EventFactory = Callable[..., Event]
INVITEE = Attendee(email="amina.diallo@mission.example.org", name="H.E. Ms. Amina Diallo")
RSVP_URL = "http://127.0.0.1:8000/rsvp/Zm9vYmFyYmF6"


def read_vobject(data: bytes) -> Any:
    return vobject.readOne(data.decode("utf-8"))


def vobject_instant(calendar: Any, prop: Any) -> datetime:
    """The instant vobject reads, its TZID resolved with this file's VTIMEZONE alone.

    vobject keeps one process-wide tzinfo per TZID (the first it ever saw) and
    moves the TZID parameter to X-VOBJ-ORIGINAL-TZID, so the wall-clock time is
    re-attached to the zone built from this file's VTIMEZONE.
    """
    tzids = prop.params.get("X-VOBJ-ORIGINAL-TZID") or prop.params.get("TZID")
    if not tzids:
        return prop.value.astimezone(UTC)
    (vtimezone_component,) = [
        zone for zone in calendar.vtimezone_list if zone.tzid.value == tzids[0]
    ]
    zone = vtimezone_component.gettzinfo()
    return prop.value.replace(tzinfo=zone).astimezone(UTC)


def test_invitation_reads_back_the_same_in_icalendar_and_vobject(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    event = make_event(sequence=2)
    data = build_calendar(
        event, agenda, method="REQUEST", attendee=INVITEE, now=now, rsvp_url=RSVP_URL
    )

    parsed = parse_calendar(data)
    assert parsed.method == "REQUEST"
    assert parsed.uid == event.uid
    assert parsed.sequence == 2
    assert (parsed.dtstart, parsed.dtend) == (event.starts_at, event.ends_at)
    assert parsed.attendees == (
        ParsedAttendee(INVITEE.email, "NEEDS-ACTION", "REQ-PARTICIPANT", True),
    )
    assert parsed.organizer_email == "events@iom.example.org"
    assert parsed.status == "CONFIRMED"
    assert parsed.has_alarm
    assert parsed.tzids == ("America/New_York",)
    assert parsed.location == (
        "Conference Room 6, United Nations Headquarters, "
        "405 East 42nd Street, New York, NY 10017, United States"
    )

    cal = read_vobject(data)
    vevent = cal.vevent
    assert cal.method.value == "REQUEST"
    assert cal.prodid.value == PRODID
    assert cal.version.value == "2.0"
    assert cal.calscale.value == "GREGORIAN"
    assert vevent.uid.value == event.uid
    assert vevent.sequence.value == "2"
    assert vevent.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["America/New_York"]
    assert vevent.dtstart.value.replace(tzinfo=None) == datetime(2026, 9, 24, 13, 15)
    assert vobject_instant(cal, vevent.dtstart) == event.starts_at
    assert vobject_instant(cal, vevent.dtend) == event.ends_at
    assert vevent.dtstamp.value == now
    assert vevent.summary.value == event.title
    assert vevent.status.value == "CONFIRMED"
    assert vevent.transp.value == "OPAQUE"
    assert vevent.contents["class"][0].value == "PUBLIC"
    assert vevent.url.value == RSVP_URL
    assert vevent.organizer.value == "mailto:events@iom.example.org"
    assert vevent.organizer.params["CN"] == ["IOM New York"]
    assert vevent.attendee.value == f"mailto:{INVITEE.email}"
    assert vevent.attendee.params == {
        "CN": ["H.E. Ms. Amina Diallo"],
        "CUTYPE": ["INDIVIDUAL"],
        "PARTSTAT": ["NEEDS-ACTION"],
        "ROLE": ["REQ-PARTICIPANT"],
        "RSVP": ["TRUE"],
    }
    (alarm,) = vevent.valarm_list
    assert alarm.action.value == "DISPLAY"
    assert alarm.trigger.value == -timedelta(hours=1)
    assert alarm.description.value == event.title


def test_description_gives_the_reply_link_programme_webcast_and_contact(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    data = build_calendar(
        make_event(), agenda, method="REQUEST", attendee=INVITEE, now=now, rsvp_url=RSVP_URL
    )
    assert read_vobject(data).vevent.description.value == (
        f"Please reply: {RSVP_URL}\n"
        "\n"
        "Programme (local time):\n"
        "13:15 Opening remarks — Director General, IOM\n"
        "13:30 Panel discussion — Mayor of Milan, Mayor of Montreal\n"
        "Closing\n"
        "\n"
        "Webcast: https://webtv.un.org/\n"
        "\n"
        "For further information, please contact: Ana Lima, IOM New York, "
        "+1 212 681 7000 ext. 212, alima@iom.example.org"
    )


def test_an_update_keeps_the_uid_and_carries_the_new_sequence_and_time(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    original = make_event()
    moved = make_event(
        sequence=1,
        starts_at=original.starts_at + timedelta(days=1),
        ends_at=original.ends_at + timedelta(days=1),
        room="Trusteeship Council Chamber",
    )
    first = parse_calendar(
        build_calendar(original, agenda, method="REQUEST", attendee=INVITEE, now=now)
    )
    second = parse_calendar(
        build_calendar(moved, agenda, method="REQUEST", attendee=INVITEE, now=now)
    )
    assert second.uid == first.uid
    assert (first.sequence, second.sequence) == (0, 1)
    assert second.dtstart == first.dtstart + timedelta(days=1)
    assert "Trusteeship Council Chamber" in second.location


def test_cancellation_is_cancelled_raised_and_silent(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    event = make_event(sequence=3, status=EventStatus.CANCELLED)
    attendee = Attendee(email=INVITEE.email, name=INVITEE.name, partstat="ACCEPTED", rsvp=False)
    data = build_calendar(
        event, agenda, method="CANCEL", attendee=attendee, now=now, rsvp_url=RSVP_URL
    )

    parsed = parse_calendar(data)
    assert (parsed.method, parsed.status, parsed.sequence) == ("CANCEL", "CANCELLED", 3)
    assert parsed.uid == event.uid
    assert (parsed.dtstart, parsed.dtend) == (event.starts_at, event.ends_at)
    assert parsed.attendees == (
        ParsedAttendee(INVITEE.email, "ACCEPTED", "REQ-PARTICIPANT", False),
    )
    assert not parsed.has_alarm
    assert b"VALARM" not in data

    vevent = read_vobject(data).vevent
    assert vevent.status.value == "CANCELLED"
    assert "valarm" not in vevent.contents
    assert vevent.description.value.startswith("This event has been cancelled.")
    assert RSVP_URL not in data.decode()
    assert vevent.url.value == "https://webtv.un.org/"


def test_a_declined_invitees_copy_is_a_cancel_that_says_declined(
    make_event: EventFactory, now: datetime
) -> None:
    declined = Attendee(email=INVITEE.email, name=INVITEE.name, partstat="DECLINED", rsvp=False)
    parsed = parse_calendar(
        build_calendar(make_event(), [], method="CANCEL", attendee=declined, now=now)
    )
    assert (parsed.method, parsed.status, parsed.has_alarm) == ("CANCEL", "CANCELLED", False)
    assert parsed.attendees[0].partstat == "DECLINED"


def test_a_request_for_a_cancelled_event_says_cancelled_and_has_no_alarm(
    make_event: EventFactory, now: datetime
) -> None:
    event = make_event(status=EventStatus.CANCELLED)
    parsed = parse_calendar(build_calendar(event, [], method="REQUEST", attendee=INVITEE, now=now))
    assert (parsed.status, parsed.has_alarm) == ("CANCELLED", False)


def test_publish_names_no_attendee(make_event: EventFactory, now: datetime) -> None:
    data = build_calendar(make_event(), [], method="PUBLISH", attendee=INVITEE, now=now)
    parsed = parse_calendar(data)
    assert (parsed.method, parsed.attendees, parsed.status) == ("PUBLISH", (), "CONFIRMED")
    assert b"ATTENDEE" not in data


def test_the_alarm_can_be_left_out(make_event: EventFactory, now: datetime) -> None:
    data = build_calendar(
        make_event(), [], method="REQUEST", attendee=INVITEE, now=now, with_alarm=False
    )
    assert not parse_calendar(data).has_alarm


def test_without_reply_link_the_url_is_the_webcast_and_without_either_there_is_none(
    make_event: EventFactory, now: datetime
) -> None:
    with_webcast = build_calendar(make_event(), [], method="REQUEST", attendee=None, now=now)
    assert read_vobject(with_webcast).vevent.url.value == "https://webtv.un.org/"
    bare = build_calendar(
        make_event(webcast_url="", venue="", room="", address=""),
        [],
        method="REQUEST",
        attendee=None,
        now=now,
    )
    assert b"\r\nURL:" not in bare
    assert b"\r\nLOCATION:" not in bare


@pytest.mark.parametrize(
    ("role", "ical_role"),
    [
        ("participant", "REQ-PARTICIPANT"),
        ("speaker", "REQ-PARTICIPANT"),
        ("panellist", "REQ-PARTICIPANT"),
        ("moderator", "CHAIR"),
        ("observer", "OPT-PARTICIPANT"),
    ],
)
def test_roles_map_to_ical_roles(
    make_event: EventFactory, now: datetime, role: str, ical_role: str
) -> None:
    attendee = Attendee(email="x@example.org", name="X", role=role, partstat="TENTATIVE")
    data = build_calendar(make_event(), [], method="REQUEST", attendee=attendee, now=now)
    assert parse_calendar(data).attendees == (
        ParsedAttendee("x@example.org", "TENTATIVE", ical_role, True),
    )
    assert read_vobject(data).vevent.attendee.params["ROLE"] == [ical_role]


@pytest.mark.parametrize(
    ("status", "partstat", "rsvp"),
    [
        (Status.INVITED, "NEEDS-ACTION", True),
        (Status.ACCEPTED, "ACCEPTED", False),
        (Status.TENTATIVE, "TENTATIVE", False),
        (Status.WAITLISTED, "TENTATIVE", False),
        (Status.DECLINED, "DECLINED", False),
    ],
)
def test_attendee_of_an_invitation_follows_its_status(
    status: str, partstat: str, rsvp: bool
) -> None:
    contact = Contact(email="amina.diallo@mission.example.org")
    invitation = Invitation(
        event_id=1,
        contact_id=1,
        honorific="H.E. Ms.",
        full_name="Amina Diallo",
        role="moderator",
        status=status,
    )
    assert Attendee.of(contact, invitation) == Attendee(
        email="amina.diallo@mission.example.org",
        name="H.E. Ms. Amina Diallo",
        role="moderator",
        partstat=partstat,  # type: ignore[arg-type]
        rsvp=rsvp,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "guest"},
        {"partstat": "MAYBE"},
        {"email": ""},
        {"email": "a@example.org\r\nBCC: b@example.org"},
    ],
)
def test_attendee_refuses_what_no_calendar_understands(fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {"email": "a@example.org", "name": "A"} | fields
    with pytest.raises(ValueError):
        Attendee(**values)


def test_build_refuses_an_unknown_method_and_naive_times(
    make_event: EventFactory, now: datetime
) -> None:
    with pytest.raises(ValueError, match="method"):
        build_calendar(make_event(), [], method="REPLY", attendee=None, now=now)
    with pytest.raises(ValueError, match="now"):
        build_calendar(
            make_event(), [], method="REQUEST", attendee=None, now=now.replace(tzinfo=None)
        )


def test_dtstamp_is_now_in_utc(make_event: EventFactory) -> None:
    now = datetime(2026, 3, 1, 10, 0, 5, 123456, tzinfo=ZoneInfo("Europe/Zurich"))
    data = build_calendar(make_event(), [], method="REQUEST", attendee=None, now=now)
    assert b"\r\nDTSTAMP:20260301T090005Z\r\n" in data


def test_one_invite_is_small(make_event: EventFactory, now: datetime) -> None:
    data = build_calendar(
        make_event(), [], method="REQUEST", attendee=INVITEE, now=now, rsvp_url=RSVP_URL
    )
    assert len(data) < 4096


def test_a_thousand_calendars_share_one_vtimezone_per_zone_and_year(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    vtimezone.cache_clear()
    vtimezone_text.cache_clear()
    invite._frame.cache_clear()
    new_york = make_event()
    zurich = make_event(timezone="Europe/Zurich", starts_at=datetime(2027, 5, 3, 8, tzinfo=UTC))
    outputs = set()
    for number in range(1000):
        event = new_york if number % 2 else zurich
        attendee = Attendee(email=f"invitee{number}@example.org", name=f"Invitee {number}")
        data = build_calendar(event, agenda, method="REQUEST", attendee=attendee, now=now)
        outputs.add(data.split(b"BEGIN:VEVENT")[0])
    assert vtimezone.cache_info().misses == vtimezone_text.cache_info().misses == 2
    # Everything but the invitee's own lines is written once per event and method.
    frames = invite._frame.cache_info()
    assert (frames.misses, frames.hits) == (2, 998)
    assert len(outputs) == 2


# --- instants across the year and across daylight saving time changes -----------------------

ZONES = [
    "America/New_York",
    "Europe/Zurich",
    "Pacific/Auckland",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
]


def change_days(zone: ZoneInfo, year: int) -> list[datetime]:
    """The days whose noon is on a different offset than the noon before (from zoneinfo)."""
    noon = datetime(year, 1, 1, 12, tzinfo=zone)
    days = []
    while noon.year == year:
        following = noon + timedelta(days=1)
        if following.utcoffset() != noon.utcoffset():
            days.append(following.replace(hour=0))
        noon = following
    return days


def sample_starts() -> list[tuple[str, datetime]]:
    """Summer, winter, and the days around every change, in 2019 and 2026, as wall times."""
    samples = []
    for name in ZONES:
        zone = ZoneInfo(name)
        for year in (2019, 2026):
            days = [datetime(year, 1, 15, tzinfo=zone), datetime(year, 7, 15, tzinfo=zone)]
            for day in change_days(zone, year):
                days += [day - timedelta(days=1), day, day + timedelta(days=1)]
            for day in days:
                samples += [(name, day.replace(hour=10)), (name, day.replace(hour=4))]
    return samples


def test_the_samples_include_change_weeks() -> None:
    changes = {name for name, start in sample_starts() if start.month not in (1, 7)}
    assert changes == {"America/New_York", "Europe/Zurich", "Pacific/Auckland", "America/Sao_Paulo"}


@pytest.mark.parametrize(("zone_name", "local_start"), sample_starts())
def test_dtstart_and_dtend_are_the_events_instants_in_every_reader(
    make_event: EventFactory, now: datetime, zone_name: str, local_start: datetime
) -> None:
    event = make_event(timezone=zone_name, starts_at=local_start.astimezone(UTC))
    data = build_calendar(event, [], method="REQUEST", attendee=INVITEE, now=now)

    parsed = parse_calendar(data)
    assert (parsed.dtstart, parsed.dtend) == (event.starts_at, event.ends_at)

    cal = read_vobject(data)
    assert vobject_instant(cal, cal.vevent.dtstart) == event.starts_at
    assert vobject_instant(cal, cal.vevent.dtend) == event.ends_at
    from_vtimezone = cal.vtimezone.gettzinfo()
    wall_clock = cal.vevent.dtstart.value.replace(tzinfo=None)
    assert wall_clock == local_start.replace(tzinfo=None)
    assert wall_clock.replace(tzinfo=from_vtimezone).utcoffset() == local_start.utcoffset()


def test_a_start_in_the_repeated_hour_is_written_in_utc(
    make_event: EventFactory, now: datetime
) -> None:
    zone = ZoneInfo("America/New_York")
    first_pass = datetime(2026, 11, 1, 1, 30, tzinfo=zone)
    second_pass = first_pass.replace(fold=1)
    assert second_pass.astimezone(UTC) - first_pass.astimezone(UTC) == timedelta(hours=1)

    early = build_calendar(
        make_event(starts_at=first_pass.astimezone(UTC)),
        [],
        method="REQUEST",
        attendee=None,
        now=now,
    )
    late_event = make_event(starts_at=second_pass.astimezone(UTC))
    late = build_calendar(late_event, [], method="REQUEST", attendee=None, now=now)

    assert b"DTSTART;TZID=America/New_York:20261101T013000\r\n" in early
    assert b"DTSTART:20261101T063000Z\r\n" in late
    assert parse_calendar(late).dtstart == late_event.starts_at
    cal = read_vobject(late)
    assert vobject_instant(cal, cal.vevent.dtstart) == late_event.starts_at


def test_icalendar_reads_the_same_instant_with_the_system_zone(
    make_event: EventFactory, now: datetime
) -> None:
    event = make_event(timezone="Pacific/Auckland", starts_at=datetime(2026, 4, 5, 1, tzinfo=UTC))
    data = build_calendar(event, [], method="REQUEST", attendee=None, now=now)
    vevent = Calendar.from_ical(data).walk("VEVENT")[0]
    assert vevent.decoded("DTSTART").astimezone(UTC) == event.starts_at


def test_copies_of_one_mailing_differ_only_in_the_invitees_own_lines(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    """The shared part of a mailing's calendars is written once; each copy is still its own."""
    event = make_event()
    other = Attendee(email="wang.xiaoming@mission.example.cn", name="王小明", role="moderator")
    first, second = (
        build_calendar(event, agenda, method="REQUEST", attendee=who, now=now, rsvp_url=url)
        for who, url in ((INVITEE, RSVP_URL), (other, RSVP_URL + "-other"))
    )
    own = ("ATTENDEE", "DESCRIPTION", "URL", "DTSTAMP")
    lines_of = [Calendar.from_ical(data).walk("VEVENT")[0] for data in (first, second)]
    for name in {*lines_of[0], *lines_of[1]} - set(own):
        assert lines_of[0].get(name) == lines_of[1].get(name), name
    assert str(lines_of[1]["ATTENDEE"].params["CN"]) == "王小明"
    assert lines_of[1]["URL"] == RSVP_URL + "-other"
    assert RSVP_URL + "-other" in str(lines_of[1]["DESCRIPTION"])
    assert lines_of[1]["ATTENDEE"].params["ROLE"] == "CHAIR"


def test_a_change_to_the_event_reaches_the_next_calendar_at_once(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime
) -> None:
    """The shared part is keyed by everything it says: an edit is never served stale."""
    event = make_event()

    def build() -> Any:
        data = build_calendar(event, agenda, method="REQUEST", attendee=INVITEE, now=now)
        return Calendar.from_ical(data).walk("VEVENT")[0]

    assert build()["SEQUENCE"] == 0
    event.title, event.room, event.sequence = "A New Title", "Trusteeship Council", 1
    event.starts_at += timedelta(days=1)
    event.ends_at += timedelta(days=1)
    changed = build()
    assert (str(changed["SUMMARY"]), changed["SEQUENCE"]) == ("A New Title", 1)
    assert "Trusteeship Council" in str(changed["LOCATION"])
    assert changed.decoded("DTSTART") == event.starts_at
    event.status = EventStatus.CANCELLED
    assert build()["STATUS"] == "CANCELLED"


@pytest.mark.parametrize(
    "title",
    ["roundtable;own;description", "roundtable-own-description", "DESCRIPTION:roundtable;own;url"],
)
def test_no_title_can_pass_for_an_invitees_own_line(
    make_event: EventFactory, agenda: list[AgendaItem], now: datetime, title: str
) -> None:
    """The alarm repeats the title under DESCRIPTION: it stays the title, escaped."""
    event = make_event(title=title)
    data = build_calendar(
        event, agenda, method="REQUEST", attendee=INVITEE, now=now, rsvp_url=RSVP_URL
    )
    vevent = Calendar.from_ical(data).walk("VEVENT")[0]
    (alarm,) = vevent.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == title
    assert str(vevent["SUMMARY"]) == title
    assert RSVP_URL in str(vevent["DESCRIPTION"]) and vevent["URL"] == RSVP_URL
    assert b"roundtable;own" not in data, "every gap was filled"
