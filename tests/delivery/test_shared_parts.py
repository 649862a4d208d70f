"""A batch presents its event once per reader, and every message still says what it alone would.

``deliver_batch`` composes a claim of rows with one :class:`SharedParts`; the event's
presentation (dates in the reader's language and zone, the hosts, the programme) is
made once per language and zone instead of once per message. These tests drive the
real path (send → outbox rows → load → compose) for invitees of all six languages in
several time zones, and compare each message made with the batch's shared parts to
the same message made alone.
"""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session, write_session
from roundtable.delivery.compose import compose, load_bundles
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.mail.context import SharedParts
from roundtable.mail.mime import wire_form
from roundtable.mail.model import Message, MessageKind
from roundtable.types import utcnow
from roundtable.workflows.sending import send_invitations
from tests.factories import invitee_details, make_contact, make_event

LANGUAGES = ("en", "fr", "es", "ru", "zh", "ar")
ZONES = (None, "Asia/Tokyo", "Europe/Paris")


def readable_parts(message: EmailMessage) -> list[tuple[str, str]]:
    """Subject and every text part, decoded: what a reader sees, without the random boundaries."""
    parsed = email.message_from_bytes(wire_form(message), policy=SMTP)
    parts = [("subject", str(parsed["Subject"]))]
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            body = part.get_content()
            if part.get_content_subtype() == "calendar":
                body = "\n".join(line for line in body.splitlines() if "DTSTAMP" not in line)
            parts.append((part.get_content_type(), body))
    return parts


def test_messages_composed_with_shared_parts_read_as_if_composed_alone(
    sqlite_engine: Engine,
) -> None:
    with write_session() as session:
        event = make_event("shared", rsvp_deadline=None)
        session.add(event)
        session.flush()
        n = 0
        for language in LANGUAGES:
            for zone in ZONES:
                contact = make_contact(n)
                session.add(contact)
                session.flush()
                assert event.id is not None and contact.id is not None
                details = invitee_details(n, language=language, timezone=zone)
                session.add(Invitation(event_id=event.id, contact_id=contact.id, **details))
                n += 1
    assert send_invitations("shared", now=utcnow()) == len(LANGUAGES) * len(ZONES)
    with read_session() as session:
        ids = [m.id for m in session.exec(select(Message)).all() if m.id is not None]
        bundles = load_bundles(session, ids)
    now = utcnow()
    shared = SharedParts()
    presented = []
    original = shared.present_event

    def counting(*args: object, **kwargs: object) -> object:
        view = original(*args, **kwargs)  # type: ignore[arg-type]
        presented.append(id(view))
        return view

    shared.present_event = counting  # type: ignore[method-assign]
    for bundle in bundles.values():
        together = compose(bundle, now, shared)
        alone = compose(bundle, now)
        assert readable_parts(together) == readable_parts(alone)
        html = together.get_body(("html",))
        assert html is not None
        language = bundle.invitation.language
        assert f'lang="{language}"' in html.get_content()
    # one presentation per language and zone, each reused by the batch's other messages
    assert len(presented) == len(bundles)
    assert len(set(presented)) == len(LANGUAGES) * len(ZONES)


def test_a_new_batch_presents_the_event_as_it_now_is(sqlite_engine: Engine) -> None:
    """Entries are keyed by the very objects a read made: rows read after a change show it,
    even through shared parts kept (wrongly) beyond their batch."""
    with write_session() as session:
        event = make_event("moving")
        session.add(event)
        session.flush()
        contact = make_contact(1)
        session.add(contact)
        session.flush()
        assert event.id is not None and contact.id is not None
        session.add(Invitation(event_id=event.id, contact_id=contact.id, **invitee_details(1)))
    send_invitations("moving", now=utcnow())
    with read_session() as session:
        invitation = select(Message).where(Message.kind == MessageKind.INVITATION)
        (message_id,) = [m.id for m in session.exec(invitation).all() if m.id is not None]
    shared = SharedParts()
    with read_session() as session:
        before = compose(load_bundles(session, [message_id])[message_id], utcnow(), shared)
    with write_session() as session:
        moved = session.exec(select(Invitation)).one()
        assert moved.event_id is not None
        stored = session.get(Event, moved.event_id)
        assert stored is not None
        stored.room = "Trusteeship Council Chamber"
    with read_session() as session:
        after = compose(load_bundles(session, [message_id])[message_id], utcnow(), shared)
    assert "Conference Room 6" in str(readable_parts(before))
    assert "Trusteeship Council Chamber" in str(readable_parts(after))
