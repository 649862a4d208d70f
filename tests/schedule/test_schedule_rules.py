"""Scheduled mailings are computed from the event's rules: pure, across zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from roundtable.delivery.policy import reason_to_drop, retry_delay
from roundtable.schedule.rules import (
    followup_due,
    future_mailings,
    scheduled_mailings,
)
from tests.factories import make_event

DAY = 86400


def _local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        # The 7-day reminder crosses the spring-forward night: 7 x 24 h, not 7 calendar days.
        ("America/New_York", (2027, 3, 16, 9, 0)),
        ("Europe/Zurich", (2027, 4, 1, 10, 0)),
        ("Europe/Zurich", (2027, 10, 31, 10, 0)),
        ("Pacific/Auckland", (2027, 4, 5, 9, 0)),
        ("Asia/Kathmandu", (2027, 9, 23, 9, 0)),
    ],
)
def test_reminders_are_exact_durations_before_the_start(zone: str, start: tuple[int, ...]) -> None:
    starts_at = _local(zone, *start)
    event = make_event(
        timezone=zone,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        reminder_offsets=[7 * DAY, DAY],
    )
    due = {m.key: m.due_at for m in scheduled_mailings(event)}
    assert due == {
        "reminder:604800@0": starts_at - timedelta(days=7),
        "reminder:86400@0": starts_at - timedelta(days=1),
    }
    assert all(d.tzinfo is not None for d in due.values())


def test_nudge_needs_a_deadline_and_is_measured_from_it() -> None:
    starts_at = _local("America/New_York", 2027, 9, 23, 13, 15)
    deadline = _local("America/New_York", 2027, 9, 20, 18, 0)
    event = make_event(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        reminder_offsets=[],
        nudge_offset=3 * DAY,
        rsvp_deadline=deadline,
    )
    [nudge] = scheduled_mailings(event)
    assert (nudge.kind, nudge.key, nudge.due_at) == ("nudge", "nudge", deadline - timedelta(days=3))
    event.rsvp_deadline = None
    assert scheduled_mailings(event) == []


def test_mailings_already_past_are_not_scheduled() -> None:
    starts_at = datetime(2027, 9, 23, 17, 15, tzinfo=UTC)
    event = make_event(
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), reminder_offsets=[7 * DAY, DAY]
    )
    three_days_before = starts_at - timedelta(days=3)
    assert [m.key for m in future_mailings(event, three_days_before)] == ["reminder:86400@0"]
    assert future_mailings(event, starts_at) == []


def test_a_moved_event_gets_new_reminder_keys() -> None:
    event = make_event(reminder_offsets=[DAY])
    before = {m.key for m in scheduled_mailings(event)}
    event.sequence += 1
    event.starts_at += timedelta(days=2)
    event.ends_at += timedelta(days=2)
    after = scheduled_mailings(event)
    assert before.isdisjoint(m.key for m in after)
    assert after[0].due_at == event.starts_at - timedelta(days=1)


def test_followup_is_due_after_the_end_or_at_once() -> None:
    event = make_event(followup_offset=2 * DAY)
    assert followup_due(event, event.starts_at) == event.ends_at + timedelta(days=2)
    late = event.ends_at + timedelta(days=10)
    assert followup_due(event, late) == late


@pytest.mark.parametrize(
    ("kind", "status", "event_status", "dropped"),
    [
        ("reminder", "accepted", "scheduled", False),
        ("reminder", "tentative", "scheduled", False),
        ("reminder", "declined", "scheduled", True),
        ("reminder", "invited", "scheduled", True),
        ("nudge", "invited", "scheduled", False),
        ("nudge", "accepted", "scheduled", True),
        ("invitation", "invited", "cancelled", True),
        ("cancellation", "accepted", "cancelled", False),
        ("update", "declined", "scheduled", True),
    ],
)
def test_reasons_to_drop_at_send_time(
    kind: str, status: str, event_status: str, dropped: bool
) -> None:
    reason = reason_to_drop(
        kind, event_status=event_status, invitation_status=status, unsubscribed=False, bounced=False
    )
    assert (reason is not None) is dropped


def test_unsubscribed_and_bounced() -> None:
    assert reason_to_drop(
        "followup",
        event_status="scheduled",
        invitation_status="accepted",
        unsubscribed=True,
        bounced=False,
    )
    assert reason_to_drop(
        "invitation",
        event_status="scheduled",
        invitation_status="invited",
        unsubscribed=False,
        bounced=True,
    )


def test_retry_delay_grows_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    delays = [retry_delay(n, rng) for n in range(1, 12)]
    assert 3.75 <= delays[0] <= 6.25
    assert delays[3] > delays[0]
    assert max(delays) <= 600 * 1.25


def test_a_nudge_whose_time_has_passed_is_not_scheduled() -> None:
    starts_at = datetime(2027, 9, 23, 17, 15, tzinfo=UTC)
    deadline = starts_at - timedelta(days=3)
    event = make_event(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        reminder_offsets=[DAY],
        nudge_offset=2 * DAY,
        rsvp_deadline=deadline,
    )
    before = deadline - timedelta(days=2, minutes=1)
    after_nudge = deadline - timedelta(days=1)
    after_deadline = deadline + timedelta(hours=1)
    assert [m.kind for m in future_mailings(event, before)] == ["reminder", "nudge"]
    assert [m.kind for m in future_mailings(event, after_nudge)] == ["reminder"]
    assert [m.kind for m in future_mailings(event, after_deadline)] == ["reminder"]
