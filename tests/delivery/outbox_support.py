"""Rows the delivery tests start from: an event with invitees on its list."""

from __future__ import annotations

from roundtable.db import write_session
from roundtable.invitations.model import Invitation
from tests.factories import invitee_details, make_contact, make_event


def invitations_on_new_event(count: int, slug: str = "roundtable") -> tuple[int, list[int]]:
    """A new event with ``count`` invitations of new contacts; its id and theirs."""
    with write_session() as session:
        event = make_event(slug)
        session.add(event)
        contacts = [make_contact(n, email=f"guest{n}@{slug}.example.org") for n in range(count)]
        session.add_all(contacts)
        session.flush()
        invitations = [
            Invitation(event_id=event.id, contact_id=c.id, **invitee_details(n))
            for n, c in enumerate(contacts)
        ]
        session.add_all(invitations)
        session.flush()
        assert event.id is not None
        return event.id, [i.id for i in invitations if i.id is not None]
