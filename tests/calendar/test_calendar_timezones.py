"""VTIMEZONE definitions judged by what readers make of them, against the IANA database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Timezone

from roundtable.calendar.timezones import (
    covered_years,
    observances,
    transitions,
    vtimezone,
)

ZONES_WITH_RULES = ["America/New_York", "Europe/Zurich", "Pacific/Auckland", "Australia/Lord_Howe"]

SAMPLED_ZONES = [
    "America/New_York",
    "Europe/Zurich",
    "Pacific/Auckland",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Europe/Dublin",
    "Asia/Jerusalem",
    "Africa/Casablanca",
    "Asia/Tehran",
    "America/Havana",
    "UTC",
]


def vobject_tz(component: Timezone) -> tzinfo:
    """The zone as vobject (dateutil's tzical) reads the VTIMEZONE, looking up nothing by name."""
    wrapped = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + component.to_ical().decode() + "END:VCALENDAR\r\n"
    )
    tz = vobject.readOne(wrapped).vtimezone.gettzinfo()
    assert tz is not None
    return tz


def icalendar_tz(component: Timezone) -> tzinfo:
    """The zone as icalendar reads the VTIMEZONE, told not to look the TZID up."""
    reparsed = Timezone.from_ical(component.to_ical())
    return reparsed.to_tz(lookup_tzid=False)


def noons(years: range) -> list[datetime]:
    """Noon of every day: never in a skipped or repeated hour in the zones sampled."""
    first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    return [
        datetime.combine(first + timedelta(days=n), datetime.min.time()).replace(hour=12)
        for n in range((last - first).days + 1)
    ]


@pytest.mark.parametrize("zone_name", SAMPLED_ZONES)
@pytest.mark.parametrize("year", [2019, 2026])
def test_vtimezone_gives_the_iana_offset_at_noon_every_day_of_the_covered_years(
    zone_name: str, year: int
) -> None:
    component = vtimezone(zone_name, year)
    zone = ZoneInfo(zone_name)
    readers = {"vobject": vobject_tz(component), "icalendar": icalendar_tz(component)}
    wrong = [
        (reader, noon)
        for noon in noons(covered_years(year))
        for reader, tz in readers.items()
        if noon.replace(tzinfo=tz).utcoffset() != noon.replace(tzinfo=zone).utcoffset()
    ]
    assert wrong == []


@pytest.mark.parametrize("zone_name", ZONES_WITH_RULES)
def test_daylight_saving_zones_are_described_by_yearly_rules(zone_name: str) -> None:
    text = vtimezone(zone_name, 2026).to_ical().decode()
    assert text.count("RRULE:FREQ=YEARLY") == 2
    assert "RDATE" not in text
    assert text.count("BEGIN:STANDARD") == 1
    assert text.count("BEGIN:DAYLIGHT") == 1


def test_new_york_rules_are_the_us_rules() -> None:
    text = vtimezone("America/New_York", 2026).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11" in text
    assert "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400" in text


def test_a_last_sunday_rule_is_written_as_last_even_when_it_is_also_the_fourth() -> None:
    # New Zealand's summer time starts on the last Sunday of September, which in
    # 2025-2027 is also the fourth; 4SU would be wrong from 2029 on.
    text = vtimezone("Pacific/Auckland", 2026).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=9" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4" in text


@pytest.mark.parametrize("zone_name", ["Asia/Kathmandu", "Asia/Tokyo", "America/Sao_Paulo"])
def test_zones_without_changes_get_one_standard_block(zone_name: str) -> None:
    (only,) = observances(zone_name, 2026)
    offset = datetime(2026, 6, 1, tzinfo=ZoneInfo(zone_name)).utcoffset()
    assert only.kind == "STANDARD"
    assert only.offset_from == only.offset_to == offset
    assert only.rule is None
    assert only.more_onsets == ()


def test_kathmandu_keeps_its_quarter_hour() -> None:
    text = vtimezone("Asia/Kathmandu", 2026).to_ical().decode()
    assert "TZOFFSETTO:+0545" in text


def test_a_zone_that_changed_its_rules_falls_back_to_dates() -> None:
    # Brazil dropped daylight saving time in 2019: no yearly rule fits 2018-2020.
    blocks = observances("America/Sao_Paulo", 2019)
    assert all(block.rule is None for block in blocks)
    onsets = sorted(onset for block in blocks for onset in (block.onset, *block.more_onsets))
    assert onsets == [
        datetime(2017, 1, 1),  # the offset in force when the scanned years begin
        datetime(2017, 2, 19),
        datetime(2017, 10, 15),
        datetime(2018, 2, 18),
        datetime(2018, 11, 4),
        datetime(2019, 2, 17),  # the last change: no summer time from November 2019 on
    ]


def test_transitions_are_found_to_the_second() -> None:
    zone = ZoneInfo("Europe/Zurich")
    found = transitions(zone, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [change.at for change in found] == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    ]
    spring, autumn = found
    assert (spring.onset, spring.name, spring.is_dst) == (datetime(2026, 3, 29, 2, 0), "CEST", True)
    assert (autumn.onset, autumn.name, autumn.is_dst) == (
        datetime(2026, 10, 25, 3, 0),
        "CET",
        False,
    )


def test_vtimezone_is_built_once_per_zone_and_year() -> None:
    vtimezone.cache_clear()
    first = vtimezone("Europe/Zurich", 2026)
    assert vtimezone("Europe/Zurich", 2026) is first
    assert vtimezone("Europe/Zurich", 2027) is not first
    info = vtimezone.cache_info()
    assert (info.misses, info.hits) == (2, 1)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(KeyError):
        vtimezone("Mars/Olympus_Mons", 2026)
