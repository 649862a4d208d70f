"""A fixed event, agenda and invitees for mail tests: nothing here reads a clock or a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from roundtable.events.model import AgendaItem, Event
from roundtable.mail.context import MailContext, build_context
from roundtable.people.model import Addressee

#: the moment every sample message is written
NOW = datetime(2027, 9, 1, 14, 30, tzinfo=UTC)
RSVP_URL = "https://rsvp.example.org/rsvp/tok_3xAmPLe"


def sample_event(**changes: Any) -> Event:
    """A roundtable at UN Headquarters, with a title that needs escaping in HTML."""
    values: dict[str, Any] = {
        "id": 7,
        "slug": "inter-ethnic-city",
        "uid": "0b8f7c1e-uid@roundtable.example.org",
        "sequence": 0,
        "title": 'The "Inter-Ethnic" City <b>&</b> Migrants',
        "format": "High-Level Roundtable",
        "description": (
            "The roundtable brings together **mayors**, ministers and experts.\n\n"
            "- Integration policies\n- Inclusive public services\n\n"
            "See [the concept note](https://www.iom.int/concept-note)."
        ),
        # 13:15–15:00 in New York (EDT, UTC-4)
        "starts_at": datetime(2027, 9, 23, 17, 15, tzinfo=UTC),
        "ends_at": datetime(2027, 9, 23, 19, 0, tzinfo=UTC),
        "timezone": "America/New_York",
        "venue": "United Nations Headquarters",
        "room": "Conference Room 6",
        "address": "405 East 42nd Street, New York, NY 10017, United States",
        "webcast_url": "https://webtv.un.org/",
        "capacity": 80,
        "rsvp_deadline": datetime(2027, 9, 20, 22, 0, tzinfo=UTC),
        "co_organizers": [
            "International Organization for Migration (IOM)",
            "United Nations Alliance of Civilizations (UNAoC)",
        ],
        "organizer_name": "IOM New York",
        "organizer_email": "events@iom.example.org",
        "contact_name": "Ana Pérez",
        "contact_office": "IOM New York",
        "contact_phone": "+1 212 681 7000 ext. 212",
        "contact_email": "aperez@iom.example.org",
        "recommendations": "1. Invest in **inclusive** cities.\n2. Share data across agencies.",
    }
    values.update(changes)
    return Event(**values)


def sample_agenda() -> list[AgendaItem]:
    return [
        AgendaItem(
            event_id=7,
            position=2,
            time="13:30",
            title="Panel discussion",
            speakers=[],
            description="Moderated *discussion* with the floor.",
        ),
        AgendaItem(
            event_id=7,
            position=1,
            time="13:15",
            title="Opening remarks",
            speakers=["Director General, IOM", "High Representative, UNAoC"],
        ),
    ]


def sample_contact(**changes: Any) -> Addressee:
    """Dr. O'Brien, whose name carries quotes, an apostrophe and a script tag."""
    values: dict[str, Any] = {
        "email": "c.obrien@mission.example.org",
        "honorific": "Dr.",
        "first_name": 'Ciarán "Kieran"',
        "last_name": "O'Brien <script>alert(1)</script>",
        "full_name": 'Ciarán "Kieran" O\'Brien <script>alert(1)</script>',
        "position": "Counsellor",
        "language": "en",
        "timezone": "Europe/Dublin",
    }
    values.update(changes)
    return Addressee(**values)


def french_contact() -> Addressee:
    return sample_contact(
        email="j.martin@mission.example.org",
        honorific="H.E. Mr.",
        first_name="Jean",
        last_name="Martin",
        full_name="Jean Martin",
        language="fr",
        timezone="Europe/Paris",
    )


def arabic_contact() -> Addressee:
    return sample_contact(
        email="s.alqasimi@mission.example.org",
        honorific="H.E. Ms.",
        first_name="سارة",
        last_name="القاسمي",
        full_name="سارة القاسمي",
        language="ar",
        timezone="Asia/Dubai",
    )


#: what each kind needs in ``extra``, as the outbox stores it
EXTRA: dict[str, dict[str, Any]] = {
    "invitation": {},
    "confirmation": {"response": "accepted", "guests": 2},
    "update": {
        "changes": [
            {
                "field": "time",
                "old": {
                    "starts_at": "2027-09-23T17:15:00+00:00",
                    "ends_at": "2027-09-23T19:00:00+00:00",
                },
                "new": {
                    "starts_at": "2027-09-24T14:00:00+00:00",
                    "ends_at": "2027-09-24T16:00:00+00:00",
                },
            },
            {"field": "room", "old": "Conference Room 6", "new": "Trusteeship Council Chamber"},
        ]
    },
    "cancellation": {"note": "The roundtable will be rescheduled; a new invitation will follow."},
    "reminder": {"offset_seconds": 86400},
    "nudge": {},
    "followup": {"variant": "attendee"},
    "promotion": {},
    "message": {
        "subject": "Logistics for Thursday",
        "body_md": "Doors open at **12:45**.\n\n- bring an identity document\n- <b>no</b> markup",
        "translations": {"fr": {"subject": "Logistique", "body_md": "Portes à 12h45."}},
    },
}


def sample_context(
    kind: str,
    contact: Addressee | None = None,
    *,
    event: Event | None = None,
    role: str = "panellist",
    extra: dict[str, Any] | None = None,
    rsvp_url: str | None = RSVP_URL,
) -> MailContext:
    event = event or sample_event()
    if kind == "update":
        event = sample_event(
            starts_at=datetime(2027, 9, 24, 14, 0, tzinfo=UTC),
            ends_at=datetime(2027, 9, 24, 16, 0, tzinfo=UTC),
            room="Trusteeship Council Chamber",
            sequence=1,
        )
    return build_context(
        kind,
        event=event,
        agenda=sample_agenda(),
        contact=contact or sample_contact(),
        organization="Permanent Mission of Ireland",
        role=role,
        now=NOW,
        rsvp_url=rsvp_url,
        ics_url=f"{rsvp_url}/invite.ics" if rsvp_url else None,
        unsubscribe_url=f"{rsvp_url}/unsubscribe" if kind == "followup" and rsvp_url else None,
        extra=EXTRA[kind] if extra is None else extra,
    )
