"""A representative is a full invitee: their mail says whom they stand in for, in their
language; the principal's confirmation names them; the schedule reminds and nudges them.

Through the real path: the API adds the principal, the RSVP form names the
representative, the outbox is delivered to an SMTP server at the times the
schedule set, and the tests read the bytes that arrived.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message, MessageKind
from roundtable.types import utcnow
from roundtable.web.app import create_app
from tests.factories import START
from tests.mail.smtp_server import ReceivedMessage, SmtpSink
from tests.staff.staff_support import (
    add_event,
    add_member,
    client_for,
    deliver_queued,
    signed_in,
    token_for,
)

ADMIN = "admin@un.example.org"
SLUG = "stand-in"
PRINCIPAL, DEPUTY = "pr@mission-gh.example.org", "deputy@mission-gh.example.org"
FORM_HEADERS = {"Origin": "https://rsvp.example.org", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def client(sqlite_engine: Engine) -> Iterator[TestClient]:
    add_event(SLUG, capacity=10, rsvp_deadline=START - timedelta(days=10), nudge_offset=3 * 86400)
    add_member(ADMIN, "admin")
    with client_for(create_app()) as test_client:
        yield test_client


def deliver(sink: SmtpSink, now: datetime) -> list[ReceivedMessage]:
    """Send what is due at ``now``, as a worker woken by the schedule would."""
    return deliver_queued(sink, due_by=now, now=now)


def parts(received: ReceivedMessage) -> tuple[str, str]:
    text, html = received.message.get_body(("plain",)), received.message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def link_in(received: ReceivedMessage) -> str:
    found = re.search(r"https://rsvp\.example\.org(/rsvp/[A-Za-z0-9_-]{43})", parts(received)[0])
    assert found
    return found.group(1)


def only_to(messages: list[ReceivedMessage], address: str) -> ReceivedMessage:
    (found,) = [m for m in messages if m.recipients == (address,)]
    return found


def test_the_representative_is_invited_on_behalf_reminded_and_nudged(
    client: TestClient, smtp_sink: SmtpSink
) -> None:
    auth = {"Authorization": f"Bearer {token_for(ADMIN)}"}
    principal = {
        "email": PRINCIPAL,
        "honorific": "H.E. Ms.",
        "name": "Abena Mensah",
        "position": "Permanent Representative of Ghana",
        "language": "fr",
    }
    assert client.post(f"/api/v1/events/{SLUG}/invitees", json=principal, headers=auth).is_success
    assert client.post(f"/api/v1/events/{SLUG}/invitations/send", headers=auth).is_success
    now = utcnow()
    link = link_in(only_to(deliver(smtp_sink, now), PRINCIPAL))

    named = client.post(
        link,
        data={"response": "decline", "substitute_name": "Kofi Boateng", "substitute_email": DEPUTY},
        headers=FORM_HEADERS,
    )
    assert named.status_code == 303, named.text
    arrived = deliver(smtp_sink, utcnow())
    deputy_mail = only_to(arrived, DEPUTY)
    invitation_text, invitation_html = parts(deputy_mail)
    on_behalf = (
        "Cette invitation vous est adressée pour représenter "
        "H.E. Ms. Abena Mensah, Permanent Representative of Ghana."
    )
    assert on_behalf in invitation_text
    assert on_behalf in invitation_html
    confirmation_text, confirmation_html = parts(only_to(arrived, PRINCIPAL))
    assert "Kofi Boateng" in confirmation_text and "Kofi Boateng" in confirmation_html

    # The schedule: the representative has the nudge and the reminders like anyone invited.
    with read_session() as session:
        deputy_id = session.exec(
            select(Invitation.id).where(col(Invitation.representative_of_id).is_not(None))
        ).one()
        scheduled = {
            m.kind: m.due_at
            for m in session.exec(select(Message).where(Message.invitation_id == deputy_id))
            if m.kind in (MessageKind.NUDGE, MessageKind.REMINDER)
        }
    assert set(scheduled) == {MessageKind.NUDGE, MessageKind.REMINDER}
    nudge = only_to(deliver(smtp_sink, scheduled[MessageKind.NUDGE]), DEPUTY)
    assert "Abena Mensah" not in str(nudge.message["To"])
    listed = client.get(f"/api/v1/events/{SLUG}/invitees", headers=auth).json()["items"]
    deputy = next(item for item in listed if item["email"] == DEPUTY)
    assert deputy["representative_of"] == PRINCIPAL
    assert deputy["language"] == "fr"
    # The dashboard and the export show the link too.
    signed_in(client, ADMIN)
    assert f"representing {PRINCIPAL}" in client.get(f"/dashboard/events/{SLUG}").text
    rows = client.get(f"/dashboard/events/{SLUG}/invitees.csv").text.splitlines()
    assert any(DEPUTY in row and PRINCIPAL in row for row in rows)

    # Withdrawing the principal withdraws the one who stood in for them, each told and logged.
    withdrawn = client.delete(f"/api/v1/events/{SLUG}/invitees/{PRINCIPAL}", headers=auth)
    assert withdrawn.json()["withdrawn"] is True
    told = deliver(smtp_sink, utcnow())
    # The principal declined: no calendar entry of theirs to cancel.
    assert [m.recipients for m in told] == [(DEPUTY,)]
    assert client.get(link_in(deputy_mail)).status_code == 404
    (entry,) = [
        e
        for e in client.get(f"/api/v1/events/{SLUG}/invitees/{DEPUTY}/replies", headers=auth).json()
        if e["to_status"] == "cancelled"
    ]
    assert entry["actor"] == ADMIN or ADMIN in entry["actor"]
