"""Storing event files: create, reload without change, and the changes that matter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session, write_session
from roundtable.errors import InputError, NotFound
from roundtable.events.model import AgendaItem, Event, EventStatus
from roundtable.events.service import (
    LoadResult,
    agenda_of,
    event_values,
    get_event,
    load_event,
)
from roundtable.events.spec import MAX_LENGTHS, EventSpec, parse_event_file
from roundtable.models import metadata
from tests.events.event_files import SAMPLE, parse, sample

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def load(spec: EventSpec, now: datetime = NOW) -> LoadResult:
    with write_session() as session:
        return load_event(session, spec, now)


def stored(slug: str = "inter-ethnic-city") -> tuple[Event, list[AgendaItem]]:
    with read_session() as session:
        event = get_event(session, slug)
        return event, agenda_of(session, event)


def row_counts() -> tuple[int, int]:
    with read_session() as session:
        events = session.exec(select(func.count()).select_from(Event)).one()
        items = session.exec(select(func.count()).select_from(AgendaItem)).one()
        return events, items


def test_a_new_file_creates_the_event_and_its_agenda(engine: Engine) -> None:
    result = load(parse(SAMPLE))

    assert (result.created, result.changed_fields) == (True, ())
    assert (result.schedule_changed, result.rules_changed) == (False, False)
    event, agenda = stored()
    assert event.uid.endswith("@roundtable") and len(event.uid) > len("@roundtable") + 30
    assert (event.sequence, event.status) == (0, EventStatus.SCHEDULED)
    assert (event.created_at, event.updated_at) == (NOW, NOW)
    assert event.starts_at == datetime(2026, 9, 24, 17, 15, tzinfo=UTC)
    assert event.rsvp_deadline == datetime(2026, 9, 20, 22, 0, tzinfo=UTC)
    assert event.reminder_offsets == [604_800, 86_400]
    assert (event.nudge_offset, event.followup_offset) == (259_200, 172_800)
    assert event.co_organizers[1] == "United Nations Alliance of Civilizations (UNAoC)"
    assert (event.organizer_email, event.contact_phone) == (
        "events@iom.example.org",
        "+1 212 681 7000 ext. 212",
    )
    assert [(item.position, item.time, item.title) for item in agenda] == [
        (1, "13:15", "Opening remarks"),
        (2, "13:30", "Panel: cities that welcome"),
        (3, "14:45", "Closing remarks"),
    ]
    assert agenda[1].speakers == ["Mayor of Montréal", "Deputy Mayor of Milan"]


def test_the_round_trip_of_reloads(engine: Engine) -> None:
    load(parse(SAMPLE))
    created, agenda = stored()

    # the same file again: nothing at all changes
    same = load(parse(SAMPLE), LATER)
    assert (same.created, same.changed_fields) == (False, ())
    assert (same.schedule_changed, same.rules_changed) == (False, False)
    event, same_agenda = stored()
    assert (event.uid, event.sequence, event.updated_at) == (created.uid, 0, NOW)
    assert [item.id for item in same_agenda] == [item.id for item in agenda]

    # a new time: a real change, the calendar SEQUENCE goes up
    moved = load(parse(sample(starts='"2026-09-24T14:00:00"')), LATER)
    assert moved.changed_fields == ("starts_at",)
    assert (moved.schedule_changed, moved.rules_changed) == (True, False)
    event, _ = stored()
    assert (event.uid, event.sequence, event.updated_at) == (created.uid, 1, LATER)
    assert event.starts_at == datetime(2026, 9, 24, 18, 0, tzinfo=UTC)

    # only the description: stored, but the calendar entry has not moved
    reworded = sample(starts='"2026-09-24T14:00:00"', description='"New words."')
    later_still = LATER + timedelta(hours=1)
    described = load(parse(reworded), later_still)
    assert described.changed_fields == ("description",)
    assert (described.schedule_changed, described.rules_changed) == (False, False)
    event, _ = stored()
    assert (event.sequence, event.description, event.updated_at) == (1, "New words.", later_still)


@pytest.mark.parametrize(
    ("changes", "changed_field"),
    [
        ({"ends": '"2026-09-24T16:00:00"'}, "ends_at"),
        ({"venue": '"Palais des Nations"'}, "venue"),
        ({"room": '"Conference Room 4"'}, "room"),
        ({"address": '"Avenue de la Paix 8-14, Geneva"'}, "address"),
    ],
)
def test_a_change_of_place_or_time_raises_the_sequence(
    engine: Engine, changes: dict[str, str], changed_field: str
) -> None:
    load(parse(SAMPLE))
    result = load(parse(sample(**changes)), LATER)
    assert result.changed_fields == (changed_field,)
    assert result.schedule_changed
    assert stored()[0].sequence == 1


def test_the_same_instant_written_in_another_zone_is_a_change_of_zone(engine: Engine) -> None:
    load(parse(SAMPLE))
    chicago = sample(
        timezone='"America/Chicago"',
        starts='"2026-09-24T12:15:00"',
        ends='"2026-09-24T14:00:00"',
        rsvp_deadline='"2026-09-20T17:00:00"',
    )
    result = load(parse(chicago), LATER)
    assert result.changed_fields == ("timezone",)
    assert result.schedule_changed and not result.rules_changed


def test_new_mailing_rules_are_reported_without_moving_the_event(engine: Engine) -> None:
    load(parse(SAMPLE))
    result = load(parse(sample(reminders='["2d"]', nudge='"1d"', followup_after=None)), LATER)
    assert result.changed_fields == ("reminder_offsets", "nudge_offset", "followup_offset")
    assert (result.schedule_changed, result.rules_changed) == (False, True)
    event, _ = stored()
    assert (event.sequence, event.reminder_offsets, event.followup_offset) == (0, [172_800], None)


def test_a_new_deadline_is_a_rule_change(engine: Engine) -> None:
    load(parse(SAMPLE))
    result = load(parse(sample(rsvp_deadline='"2026-09-21T12:00:00"')), LATER)
    assert result.changed_fields == ("rsvp_deadline",)
    assert result.rules_changed and not result.schedule_changed


def test_a_changed_agenda_is_replaced_whole(engine: Engine) -> None:
    load(parse(SAMPLE))
    shorter = SAMPLE[: SAMPLE.rindex("\n[[agenda]]")].replace("Opening remarks", "Welcome")
    result = load(parse(shorter), LATER)
    assert result.changed_fields == ("agenda",)
    assert (result.schedule_changed, result.rules_changed) == (False, False)
    event, after = stored()
    assert [(item.position, item.title) for item in after] == [
        (1, "Welcome"),
        (2, "Panel: cities that welcome"),
    ]
    assert (event.sequence, event.updated_at) == (0, LATER)
    assert row_counts() == (1, 2)


def test_capacity_and_guests_are_plain_changes(engine: Engine) -> None:
    load(parse(SAMPLE))
    result = load(parse(sample(capacity="120", max_guests="1")), LATER)
    assert result.changed_fields == ("capacity", "max_guests")
    assert not (result.schedule_changed or result.rules_changed)
    assert (stored()[0].capacity, stored()[0].max_guests) == (120, 1)


def test_two_events_get_their_own_uid(engine: Engine) -> None:
    first = load(parse(SAMPLE)).event
    second = load(parse(sample(slug='"second-roundtable"'))).event
    assert first.uid != second.uid
    assert row_counts() == (2, 6)


def test_a_cancelled_event_cannot_be_loaded_again_and_nothing_changes(engine: Engine) -> None:
    load(parse(SAMPLE))
    with write_session() as session:
        event = get_event(session, "inter-ethnic-city")
        event.status = EventStatus.CANCELLED
        session.add(event)

    with pytest.raises(InputError) as caught:
        load(parse(sample(venue='"Elsewhere"')), LATER)

    [problem] = caught.value.problems
    assert (problem.field, problem.source) == ("slug", "roundtables/inter-ethnic-city.toml")
    assert "event 'inter-ethnic-city' was cancelled" in problem.message
    event, _ = stored()
    assert (event.venue, event.sequence, event.updated_at) == (
        "United Nations Headquarters",
        0,
        NOW,
    )


def test_a_file_that_fails_to_parse_leaves_the_database_as_it_was(
    engine: Engine, tmp_path: Path
) -> None:
    load(parse(SAMPLE))
    path = tmp_path / "event.toml"
    path.write_text(sample(venue='"Palais des Nations"', capacity="0"), encoding="utf-8")

    with pytest.raises(InputError), write_session() as session:
        load_event(session, parse_event_file(path), LATER)

    event, _ = stored()
    assert (event.venue, event.capacity, event.sequence, event.updated_at) == (
        "United Nations Headquarters",
        80,
        0,
        NOW,
    )
    assert row_counts() == (1, 3)


def test_an_unknown_slug_is_not_found(engine: Engine) -> None:
    with read_session() as session, pytest.raises(NotFound, match="no event with slug 'nope'"):
        get_event(session, "nope")


def test_every_text_limit_fits_its_column() -> None:
    """The spec refuses long text itself, so PostgreSQL never has to."""
    for key, limit in MAX_LENGTHS.items():
        table, column = ("agenda_item", "title") if key == "agenda.title" else ("event", key)
        column_type = metadata.tables[table].c[column.replace(".", "_")].type
        assert limit == getattr(column_type, "length", None), key


def test_every_value_of_a_spec_is_a_column_of_event() -> None:
    columns = set(metadata.tables["event"].c.keys())
    assert set(event_values(parse(SAMPLE))) <= columns
