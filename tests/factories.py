"""Small builders for rows the tests need; no database access of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roundtable.events.model import Event
from roundtable.people.model import Contact

START = datetime(2027, 9, 23, 17, 15, tzinfo=UTC)


def make_event(slug: str = "roundtable", **overrides: object) -> Event:
    values: dict[str, object] = {
        "slug": slug,
        "uid": f"{slug}-uid@roundtable.test",
        "title": "The Inter-Ethnic City",
        "format": "High-Level Roundtable",
        "starts_at": START,
        "ends_at": START + timedelta(hours=1, minutes=45),
        "timezone": "America/New_York",
        "venue": "United Nations Headquarters",
        "room": "Conference Room 6",
        "address": "405 East 42nd Street, New York, NY 10017",
        "organizer_name": "IOM New York",
        "organizer_email": "events@iom.example.org",
        "contact_name": "Maria Rossi",
        "contact_email": "mrossi@iom.example.org",
        "reminder_offsets": [7 * 86400, 86400],
    }
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


def make_contact(n: int, **overrides: object) -> Contact:
    """The address only: what the person is called is each invitation's (``invitee_details``)."""
    values: dict[str, object] = {"email": f"guest{n}@example.org"}
    values.update(overrides)
    return Contact(**values)  # type: ignore[arg-type]


def invitee_details(n: int, **overrides: object) -> dict[str, object]:
    """The details an organizer gives an invitation, as ``Invitation(**…)`` takes them."""
    values: dict[str, object] = {
        "first_name": "Guest",
        "last_name": f"Number {n}",
        "full_name": f"Guest Number {n}",
        "honorific": "Dr.",
    }
    values.update(overrides)
    return values
