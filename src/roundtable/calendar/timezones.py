"""VTIMEZONE definitions: small, rule-based, built once per zone and year.

A calendar file that says ``DTSTART;TZID=America/New_York:…`` must carry a
VTIMEZONE that tells the reader how that wall-clock time maps to UTC. The
icalendar library can write one (``add_missing_timezones``), but it describes
1970–2038 transition by transition: slow, large, and Outlook ignores
RDATE-only definitions. So we describe only the three years around the event
(the year before, the event's year, the year after) and, where the zone's
changes follow a yearly "nth weekday of the month" pattern in all three years,
we write that pattern as an RRULE, the way Outlook and Google do. Where they
do not (a zone that changed its rules in that window, like Sao Paulo dropping
daylight saving time in 2019), we list the actual changes with RDATEs.

The offsets come from the system's IANA database through ``zoneinfo``; the
definitions are pure data (``Observance``) turned into an icalendar component
once and cached, keyed by (zone, year).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

Kind = Literal["STANDARD", "DAYLIGHT"]

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

_SCAN_STEP = timedelta(days=1)
_PRECISION = timedelta(seconds=1)


@dataclass(frozen=True)
class Transition:
    """One change of a zone's UTC offset."""

    at: datetime
    """The UTC instant of the change."""
    offset_from: timedelta
    offset_to: timedelta
    is_dst: bool
    """Whether the offset after the change is daylight saving time."""
    name: str
    """The abbreviation in force after the change (EDT, CET, +0545)."""

    @property
    def onset(self) -> datetime:
        """The change as a naive wall-clock time on the old offset, as VTIMEZONE's DTSTART wants."""
        return (self.at + self.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class YearlyRule:
    """The ``week``-th ``weekday`` of ``month``, every year; week -1 means the last one."""

    month: int
    week: int
    weekday: int
    """0 is Monday, as in :mod:`calendar`."""

    def date_in(self, year: int) -> int:
        """The day of the month the rule falls on in ``year``."""
        weeks = calendar.monthcalendar(year, self.month)
        days = [week[self.weekday] for week in weeks if week[self.weekday]]
        return days[-1] if self.week == -1 else days[self.week - 1]

    def as_rrule(self) -> dict[str, object]:
        return {
            "FREQ": "YEARLY",
            "BYMONTH": self.month,
            "BYDAY": f"{self.week}{WEEKDAY_CODES[self.weekday]}",
        }


@dataclass(frozen=True)
class Observance:
    """One STANDARD or DAYLIGHT block of a VTIMEZONE: an offset and when it begins."""

    kind: Kind
    name: str
    offset_from: timedelta
    offset_to: timedelta
    onset: datetime
    """Naive wall-clock time of the first start, on ``offset_from``."""
    rule: YearlyRule | None = None
    """How it recurs, when it recurs by a rule."""
    more_onsets: tuple[datetime, ...] = ()
    """Further starts, when it does not recur by a rule (written as RDATE)."""


def covered_years(year: int) -> range:
    """The years a definition built for ``year`` is correct for."""
    return range(year - 1, year + 2)


def scanned_years(year: int) -> range:
    """The years whose changes a definition for ``year`` is built from.

    One more year than :func:`covered_years` in front: the offset in force on
    1 January of the first covered year then follows from a change (in the
    southern hemisphere, the start of summer time the September before), not
    from an extra block that Outlook would not understand.
    """
    return range(year - 2, year + 2)


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """Every change of ``zone``'s UTC offset between two aware instants, to the second.

    Scans day by day and narrows each change down by bisection. Two changes
    within one day that cancel each other out would not be seen; in the IANA
    database, a zone's changes are weeks apart at the least.
    """
    found: list[Transition] = []
    before = start.astimezone(UTC)
    before_offset = _offset(zone, before)
    end = end.astimezone(UTC)
    while before < end:
        after = min(before + _SCAN_STEP, end)
        after_offset = _offset(zone, after)
        if after_offset != before_offset:
            found.append(_pin_down(zone, before, after))
        before, before_offset = after, after_offset
    return found


def observances(zone_name: str, year: int) -> tuple[Observance, ...]:
    """The VTIMEZONE blocks that describe ``zone_name`` correctly for :func:`covered_years`.

    A zone whose changes all follow yearly rules in every scanned year gets one
    recurring block per kind of change; a zone with no changes, one block; any
    other zone, the offset in force at the start of the scanned years and then
    every change by its date.
    """
    zone = ZoneInfo(zone_name)
    years = scanned_years(year)
    window_start = datetime(years[0], 1, 1, tzinfo=zone)
    window_end = datetime(years[-1] + 1, 1, 1, tzinfo=zone)
    changes = transitions(zone, window_start, window_end)
    initial = _initial_observance(window_start)
    if not changes:
        return (initial,)
    by_rule = _observances_by_rule(changes, years)
    if by_rule is not None:
        return by_rule
    return (initial, *_observances_by_date(changes))


@lru_cache(maxsize=512)
def vtimezone(zone_name: str, year: int) -> Timezone:
    """The VTIMEZONE for an event in ``zone_name`` starting in ``year``; built once, then shared.

    The component is cached and handed to every calendar that needs it, so
    callers must not change it.
    """
    component = Timezone()
    component.add("TZID", zone_name)
    for observance in observances(zone_name, year):
        component.add_component(_component(observance))
    return component


@lru_cache(maxsize=512)
def vtimezone_text(zone_name: str, year: int) -> bytes:
    """The same VTIMEZONE written out (CRLF lines, folded): every calendar of an event
    repeats it, and writing it out was a third of the cost of a calendar."""
    return bytes(vtimezone(zone_name, year).to_ical())


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _pin_down(zone: ZoneInfo, before: datetime, after: datetime) -> Transition:
    """Bisect to the first second on the new offset, knowing it lies in (before, after]."""
    offset_from = _offset(zone, before)
    while after - before > _PRECISION:
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if middle <= before:
            middle = before + _PRECISION
        if _offset(zone, middle) == offset_from:
            before = middle
        else:
            after = middle
    local = after.astimezone(zone)
    return Transition(
        at=after,
        offset_from=offset_from,
        offset_to=_offset(zone, after),
        is_dst=bool(local.dst()),
        name=local.tzname() or "",
    )


def _initial_observance(window_start: datetime) -> Observance:
    """What is in force at the start of the window, as a block that starts there."""
    offset = window_start.utcoffset()
    assert offset is not None
    return Observance(
        kind="DAYLIGHT" if window_start.dst() else "STANDARD",
        name=window_start.tzname() or "",
        offset_from=offset,
        offset_to=offset,
        onset=window_start.replace(tzinfo=None),
    )


def _kind(change: Transition) -> Kind:
    return "DAYLIGHT" if change.is_dst else "STANDARD"


def _grouped(changes: list[Transition]) -> dict[tuple[object, ...], list[Transition]]:
    """Changes to the same offset, from the same offset, under the same name, in time order."""
    groups: dict[tuple[object, ...], list[Transition]] = {}
    for change in changes:
        key = (change.offset_from, change.offset_to, change.is_dst, change.name)
        groups.setdefault(key, []).append(change)
    return groups


def _observances_by_rule(changes: list[Transition], years: range) -> tuple[Observance, ...] | None:
    """One recurring block per kind of change, or None if any kind of change breaks its pattern."""
    result = []
    for group in _grouped(changes).values():
        rule = _yearly_rule(group, years)
        if rule is None:
            return None
        first = group[0]
        result.append(
            Observance(
                kind=_kind(first),
                name=first.name,
                offset_from=first.offset_from,
                offset_to=first.offset_to,
                onset=first.onset,
                rule=rule,
            )
        )
    return tuple(sorted(result, key=lambda observance: observance.onset))


def _yearly_rule(group: list[Transition], years: range) -> YearlyRule | None:
    """The rule that gives exactly these changes, one a year in every covered year, if any."""
    onsets = [change.onset for change in group]
    if [onset.year for onset in onsets] != list(years):
        return None
    first = onsets[0]
    candidates = []
    if first.day + 7 > calendar.monthrange(first.year, first.month)[1]:
        # "Last Sunday" is the common rule, so it goes first: a last Sunday that
        # happens to be the fourth in all three years would also pass as 4SU.
        candidates.append(YearlyRule(first.month, -1, first.weekday()))
    week = (first.day - 1) // 7 + 1
    if week <= 4:
        candidates.append(YearlyRule(first.month, week, first.weekday()))
    for rule in candidates:
        if all(
            onset.month == rule.month
            and onset.day == rule.date_in(onset.year)
            and onset.time() == first.time()
            for onset in onsets
        ):
            return rule
    return None


def _observances_by_date(changes: list[Transition]) -> list[Observance]:
    """One block per kind of change, listing each of its dates."""
    result = []
    for group in _grouped(changes).values():
        first = group[0]
        result.append(
            Observance(
                kind=_kind(first),
                name=first.name,
                offset_from=first.offset_from,
                offset_to=first.offset_to,
                onset=first.onset,
                more_onsets=tuple(change.onset for change in group[1:]),
            )
        )
    return sorted(result, key=lambda observance: observance.onset)


def _component(observance: Observance) -> TimezoneStandard | TimezoneDaylight:
    block = TimezoneDaylight() if observance.kind == "DAYLIGHT" else TimezoneStandard()
    block.add("DTSTART", observance.onset)
    if observance.rule is not None:
        block.add("RRULE", observance.rule.as_rrule())
    for onset in observance.more_onsets:
        # One RDATE line per date: vobject reads only the first of a comma-separated list.
        block.add("RDATE", onset)
    if observance.name:
        block.add("TZNAME", observance.name)
    block.add("TZOFFSETFROM", observance.offset_from)
    block.add("TZOFFSETTO", observance.offset_to)
    return block
