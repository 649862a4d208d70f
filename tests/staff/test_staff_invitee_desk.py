"""One invitee at a time through the API, down to the bytes the SMTP server receives.

Add one, send, the address bounces (5.1.1), a resend says why it cannot go, the
address is corrected and the invitation reaches the new one with a link that
works, a reply shows in the history, and a withdrawal sends a CANCEL and kills
the link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.web.app import create_app
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
SLUG = "desk"
OLD, NEW = "old.address@example.org", "m.okafor@example.org"


@pytest.fixture
def desk(sqlite_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    add_event(SLUG, capacity=10)
    add_member(ADMIN, "admin")
    with client_for(create_app()) as client:
        yield client, {"Authorization": f"Bearer {token_for(ADMIN)}"}


def deliver(sink: SmtpSink) -> list[ReceivedMessage]:
    """Send every row due now to the sink, as a worker would; what arrived this time."""
    return deliver_queued(sink, due_by=utcnow())


def link_in(received: ReceivedMessage) -> str:
    text = received.message.get_body(("plain",))
    assert text is not None
    found = re.search(r"https://rsvp\.example\.org(/rsvp/[A-Za-z0-9_-]{43})", text.get_content())
    assert found, "the mail carries the invitee's link"
    return found.group(1)


def calendar_of(received: ReceivedMessage) -> str:
    for part in received.message.walk():
        if part.get_content_type() == "text/calendar":
            return str(part.get_content())
    raise AssertionError("no calendar part")


def test_add_bounce_correct_reply_withdraw(
    desk: tuple[TestClient, dict[str, str]], smtp_sink: SmtpSink
) -> None:
    client, auth = desk
    base = f"/api/v1/events/{SLUG}/invitees"
    bad = client.post(base, json={"email": "not an address", "name": "M. Okafor"}, headers=auth)
    assert bad.status_code == 422
    assert [p["field"] for p in bad.json()["problems"]] == ["email"]

    one = {"email": OLD, "honorific": "H.E.", "name": "Mariam Okafor", "language": "fr"}
    added = client.post(base, json=one, headers=auth)
    assert added.status_code == 200, added.text
    assert added.json()["created"] == 1
    assert client.post(base, json=one, headers=auth).json()["unchanged"] == 1
    assert client.post(f"/api/v1/events/{SLUG}/invitations/send", headers=auth).json() == {
        "queued": 1
    }

    smtp_sink.rule = lambda recipient, _attempt: 550 if recipient == OLD else None
    assert deliver(smtp_sink) == []
    with read_session() as session:
        failed = session.exec(select(Message).where(Message.kind == MessageKind.INVITATION)).one()
        assert failed.status == MessageStatus.FAILED
    # The resend that cannot go says why instead of succeeding silently.
    csrf = signed_in(client, ADMIN)
    refused = client.post(f"/dashboard/messages/{failed.id}/resend", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert f"the address {OLD} bounced" in refused.text

    moved = client.patch(
        f"{base}/{OLD}", json={"email": NEW, "position": "Ambassador"}, headers=auth
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "email": NEW,
        "changed": True,
        "address_changed": True,
        "invitation_resent": True,
    }
    with read_session() as session:
        old_contact = session.exec(select(Contact).where(Contact.email == OLD)).one()
        assert old_contact.bounced_at is not None  # the mark stays with the old address
        new_contact = session.exec(select(Contact).where(Contact.email == NEW)).one()
        assert new_contact.bounced_at is None
    (invitation_mail,) = deliver(smtp_sink)
    assert invitation_mail.recipients == (NEW,)
    assert "Ambassador" not in str(invitation_mail.message["To"])
    assert "Okafor" in str(invitation_mail.message["To"])
    link = link_in(invitation_mail)
    assert client.get(link).status_code == 200
    assert client.get(f"{base}/{OLD}/replies", headers=auth).status_code == 404

    assert client.get(f"{base}/{NEW}/replies", headers=auth).json() == []
    replied = client.post(
        link,
        data={"response": "accept"},
        headers={"Origin": "https://rsvp.example.org", "Sec-Fetch-Site": "same-origin"},
    )
    assert replied.status_code == 303
    (entry,) = client.get(f"{base}/{NEW}/replies", headers=auth).json()
    assert (entry["from_status"], entry["to_status"]) == ("invited", "accepted")
    deliver(smtp_sink)  # the confirmation

    withdrawn = client.delete(f"{base}/{NEW}", headers=auth)
    assert withdrawn.json() == {"email": NEW, "withdrawn": True}
    assert client.delete(f"{base}/{NEW}", headers=auth).json()["withdrawn"] is False
    (cancellation,) = deliver(smtp_sink)
    assert cancellation.recipients == (NEW,)
    assert "METHOD:CANCEL" in calendar_of(cancellation)
    # In the invitee's language, and about their invitation: the event itself goes on.
    assert str(cancellation.message["Subject"]).startswith("Invitation retirée : ")
    text = cancellation.message.get_body(("plain",))
    assert text is not None and "votre invitation à la réunion" in text.get_content()
    assert "est annulée" not in text.get_content()
    assert client.get(link).status_code == 404
    with read_session() as session:
        assert session.exec(select(Invitation)).one().status == Status.CANCELLED


def test_a_correction_to_an_address_already_listed_is_refused(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = desk
    base = f"/api/v1/events/{SLUG}/invitees"
    for email, name in ((OLD, "Ana Lima"), (NEW, "Bo Chen")):
        assert (
            client.post(base, json={"email": email, "name": name}, headers=auth).status_code == 200
        )
    clash = client.patch(f"{base}/{OLD}", json={"email": NEW}, headers=auth)
    assert clash.status_code == 422
    assert "already on this event's list" in clash.text
    bad = client.patch(f"{base}/{OLD}", json={"language": "xx"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "language"
    assert client.patch(f"{base}/nobody@example.org", json={}, headers=auth).status_code == 404


def test_the_dashboard_corrects_withdraws_and_shows_the_link_to_organizers_only(
    desk: tuple[TestClient, dict[str, str]], smtp_sink: SmtpSink
) -> None:
    client, auth = desk
    csrf = signed_in(client, ADMIN)
    form = f"/dashboard/events/{SLUG}/invitees/new"
    assert 'id="new-invitee"' in client.get(form).text
    refused = client.post(form, data={"csrf_token": csrf, "email": OLD, "language": "xx"})
    assert refused.status_code == 422
    assert "Ana" not in refused.text and 'value="old.address@example.org"' in refused.text
    added = client.post(
        form, data={"csrf_token": csrf, "email": OLD, "name": "Ana Lima", "language": "es"}
    )
    assert added.status_code == 303 and "/invitees/" in added.headers["location"]
    client.post(f"/api/v1/events/{SLUG}/invitations/send", headers=auth)
    deliver(smtp_sink)
    with read_session() as session:
        invitation_id = session.exec(select(Invitation.id)).one()
    page = f"/dashboard/events/{SLUG}/invitees/{invitation_id}"

    add_member("viewer@un.example.org", "viewer")
    with client_for(create_app()) as viewer:
        signed_in(viewer, "viewer@un.example.org")
        seen = viewer.get(page)
        assert seen.status_code == 200 and "/rsvp/" not in seen.text

    shown = client.get(page).text
    link = re.search(r'value="https://rsvp\.example\.org(/rsvp/[A-Za-z0-9_-]{43})"', shown)
    assert link and client.get(link.group(1)).status_code == 200
    bad = client.post(f"{page}/edit", data={"csrf_token": csrf, "email": "nope", "name": "Ana"})
    assert bad.status_code == 422 and "email" in bad.text
    moved = client.post(f"{page}/edit", data={"csrf_token": csrf, "email": NEW, "name": "Ana Lima"})
    assert moved.status_code == 303
    (again,) = deliver(smtp_sink)
    assert again.recipients == (NEW,) and link_in(again) == link.group(1)

    withdrawn = client.post(f"{page}/withdraw", data={"csrf_token": csrf})
    assert withdrawn.status_code == 303
    (cancellation,) = deliver(smtp_sink)
    assert "METHOD:CANCEL" in calendar_of(cancellation)
    assert client.get(link.group(1)).status_code == 404
    assert "No live link" in client.get(page).text
