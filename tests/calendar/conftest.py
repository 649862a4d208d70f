"""Events built in memory for the calendar tests: no database needed to make a calendar file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roundtable.events.model import AgendaItem, Event

NOW = datetime(2026, 6, 1, 9, 30, 15, tzinfo=UTC)


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def make_event() -> Callable[..., Event]:
    """A factory for the example roundtable, any field overridable; pure, so shared by all tests."""

    def make(**overrides: Any) -> Event:
        zone = overrides.get("timezone", "America/New_York")
        local_start = datetime(2026, 9, 24, 13, 15, tzinfo=ZoneInfo(zone))
        starts = overrides.pop("starts_at", local_start.astimezone(UTC))
        fields: dict[str, Any] = {
            "slug": "inter-ethnic-city",
            "uid": "3f2b9c1e-7d4a-4e58-9a61-0c5d2e8f7b10@roundtable",
            "sequence": 0,
            "title": "The Inter-Ethnic City: Management and Policies for a Better Integration",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1, minutes=45),
            "timezone": zone,
            "organizer_name": "IOM New York",
            "organizer_email": "events@iom.example.org",
            "venue": "United Nations Headquarters",
            "room": "Conference Room 6",
            "address": "405 East 42nd Street, New York, NY 10017, United States",
            "webcast_url": "https://webtv.un.org/",
            "contact_name": "Ana Lima",
            "contact_office": "IOM New York",
            "contact_phone": "+1 212 681 7000 ext. 212",
            "contact_email": "alima@iom.example.org",
        }
        fields.update(overrides)
        return Event(**fields)

    return make


@pytest.fixture
def agenda() -> list[AgendaItem]:
    """Given out of order on purpose: the calendar lists the programme by position."""
    return [
        AgendaItem(
            event_id=1,
            position=1,
            time="13:30",
            title="Panel discussion",
            speakers=["Mayor of Milan", "Mayor of Montreal"],
        ),
        AgendaItem(
            event_id=1,
            position=0,
            time="13:15",
            title="Opening remarks",
            speakers=["Director General, IOM"],
        ),
        AgendaItem(event_id=1, position=2, time="", title="Closing", speakers=[]),
    ]
