"""The organizer's desk over the API, through the real path: HTTP → outbox → SMTP → bytes.

A message to those who accepted (each in their language), the nudge now (once a day),
cancelling with a note, recommendations, exports and resending a failed message.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session, write_session
from roundtable.invitations.model import Invitation
from roundtable.mail.model import GroupMessage, Message, MessageKind, MessageStatus
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.web.app import create_app
from tests.mail.smtp_server import SmtpSink
from tests.staff.staff_support import add_member, client_for, deliver_queued, token_for
from tests.staff.test_staff_api import example_document

ORGANIZER, VIEWER = "org@un.example.org", "viewer@un.example.org"
BASE = "/api/v1/events/inter-ethnic-city"
INVITEES = [
    {"email": "anna@example.org", "name": "Anna Rossi", "honorific": "H.E. Ms.", "language": "en"},
    {"email": "jean@example.org", "name": "Jean Dupont", "honorific": "M.", "language": "fr"},
    {"email": "li@example.org", "name": "Wei Li", "honorific": "Dr.", "language": "zh"},
    {"email": "sara@example.org", "name": "Sara Haddad", "language": "es"},
]


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def deliver(sink: SmtpSink) -> list[EmailMessage]:
    """Send every due row to the SMTP sink; the messages it received this time."""
    return [received.message for received in deliver_queued(sink, due_by=utcnow())]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def invited_event(api: TestClient, sink: SmtpSink) -> dict[str, str]:
    """The example event with four invitees, invitations delivered; the organizer's header."""
    add_member(ORGANIZER, "organizer")
    token = {"Authorization": f"Bearer {token_for(ORGANIZER)}"}
    assert api.post("/api/v1/events", json=example_document(), headers=token).status_code == 201
    response = api.post(f"{BASE}/invitees", headers=token, json={"invitees": INVITEES})
    assert response.status_code == 200, response.text
    assert api.post(f"{BASE}/invitations/send", headers=token).json() == {"queued": 4}
    assert len(deliver(sink)) == 4
    return token


def reply(api: TestClient, token: dict[str, str], address: str, response: str) -> None:
    body = {"email": address, "response": response, "reason": "by phone"}
    assert api.post(f"{BASE}/replies", headers=token, json=body).status_code == 200


def test_a_message_to_those_who_accepted_reaches_each_in_their_language(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    reply(api, token, "anna@example.org", "accept")
    reply(api, token, "jean@example.org", "accept")
    reply(api, token, "li@example.org", "decline")
    deliver(smtp_sink)  # the confirmations
    message = {
        "subject": "Logistics for Thursday",
        "body": "Doors open at **12:45**.\n\nPlease bring an identity document.",
        "to": ["accepted", "tentative"],
        "translations": {"fr": {"subject": "Logistique pour jeudi", "body": "Portes à **12h45**."}},
    }
    sent = api.post(f"{BASE}/messages", headers=token, json=message)
    assert sent.status_code == 200, sent.text
    assert sent.json()["queued"] == 2

    received = {m["To"].addresses[0].addr_spec: m for m in deliver(smtp_sink)}
    assert set(received) == {"anna@example.org", "jean@example.org"}
    anna, jean = received["anna@example.org"], received["jean@example.org"]
    assert anna["Subject"] == "Logistics for Thursday"
    assert "Doors open at 12:45." in text_of(anna) and "identity document" in text_of(anna)
    assert "<strong>12:45</strong>" in html_of(anna)
    assert "Excellency," in text_of(anna).splitlines()  # the salutation, as in every mail
    assert "unsubscribe" not in anna  # no List-Unsubscribe: it is not a follow-up
    assert jean["Subject"] == "Logistique pour jeudi"
    assert "Portes à 12h45." in text_of(jean) and "Doors open" not in text_of(jean)
    assert jean["Content-Language"] == "fr"

    # One copy per recipient per message: the queue holds no second row for anyone.
    with read_session() as session:
        rows = session.exec(select(Message).where(Message.kind == MessageKind.MESSAGE)).all()
        record = session.exec(select(GroupMessage)).one()
    assert len(rows) == 2 and {row.mailing for row in rows} == {f"message:{record.id}"}
    assert record.queued == 2 and record.sent_by == ORGANIZER
    assert record.recipients["status"] == ["accepted", "tentative"]
    outbox = api.get(f"{BASE}/messages?kind=message", headers=token).json()
    assert outbox["total"] == 2 and {m["status"] for m in outbox["items"]} == {"sent"}


def test_a_bad_message_names_its_field_and_writes_nothing(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    bad = [
        ({"subject": "x", "body": "y", "to": ["everyone"]}, "to[0]"),
        ({"subject": "x", "body": "y", "to": []}, "to"),
        ({"subject": "Line\nbreak", "body": "y", "to": ["invited"]}, "subject"),
        ({"subject": " ", "body": "y", "to": ["invited"]}, "subject"),
        ({"subject": "x", "body": "y", "to": ["invited"], "translations": {"xx": {}}}, "xx"),
        ({"subject": "x", "body": "y", "to": ["invited"], "cc": "all"}, "cc"),
    ]
    for body, field in bad:
        response = api.post(f"{BASE}/messages", headers=token, json=body)
        assert response.status_code == 422, (body, response.text)
        fields = [problem["field"] for problem in response.json()["problems"]]
        assert any(field in (f or "") for f in fields), (body, fields)
    with read_session() as session:
        assert session.exec(select(GroupMessage)).all() == []
        assert session.exec(select(Message).where(Message.kind == "message")).all() == []


def test_the_nudge_now_goes_to_the_silent_once_a_day(api: TestClient, smtp_sink: SmtpSink) -> None:
    token = invited_event(api, smtp_sink)
    reply(api, token, "anna@example.org", "accept")
    # Sara's invitation never reached her: no nudge for an invitation not delivered.
    with write_session() as session:
        sara = session.exec(
            select(Message)
            .join(Invitation, col(Invitation.id) == col(Message.invitation_id))
            .join(Contact, col(Contact.id) == col(Invitation.contact_id))
            .where(Message.kind == MessageKind.INVITATION, Contact.email == "sara@example.org")
        ).one()
        sara.status = MessageStatus.FAILED
        session.add(sara)
    deliver(smtp_sink)

    first = api.post(f"{BASE}/nudge", headers=token)
    assert first.status_code == 200, first.text
    assert first.json() == {"queued": 2, "reason": ""}
    nudged = deliver(smtp_sink)
    assert sorted(m["To"].addresses[0].addr_spec for m in nudged) == [
        "jean@example.org",
        "li@example.org",
    ]
    assert all("accept" in text_of(m).lower() for m in nudged)

    again = api.post(f"{BASE}/nudge", headers=token).json()
    assert again["queued"] == 0 and "already reminded today" in again["reason"]
    assert deliver(smtp_sink) == []


def test_cancel_with_a_note_recommendations_exports_and_resend(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    published = api.post(
        f"{BASE}/recommendations", headers=token, json={"text": "1. Meet again in spring."}
    )
    assert published.status_code == 200, published.text
    assert published.json()["followups_scheduled"] == 4

    csv = api.get(f"{BASE}/invitees.csv", headers=token)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "jean@example.org" in csv.text
    xlsx = api.get(f"{BASE}/invitees.xlsx", headers=token)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    # refused for its content, not its address (a 5.1.x bounce cannot be resent: the address
    # is corrected instead, tests/staff/test_staff_invitee_desk.py)
    smtp_sink.fail_next(554, text="5.7.1 message refused by policy")
    reply(api, token, "li@example.org", "accept")
    deliver(smtp_sink)
    failed = api.get(f"{BASE}/messages?status=failed", headers=token).json()["items"]
    assert len(failed) == 1
    resent = api.post(f"/api/v1/messages/{failed[0]['id']}/resend", headers=token)
    assert resent.status_code == 200, resent.text
    twice = api.post(f"/api/v1/messages/{failed[0]['id']}/resend", headers=token)
    assert twice.status_code == 409

    note = "The meeting will be held in the spring; a new invitation will follow."
    cancelled = api.post(f"{BASE}/cancel", headers=token, json={"note": note})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancelled"] is True
    mails = deliver(smtp_sink)
    assert mails and all("METHOD:CANCEL" in m.as_string() for m in mails)
    assert all("held in the spring" in text_of(m) for m in mails)
    assert api.post(f"{BASE}/cancel", headers=token, json={"note": ""}).status_code == 422


def test_the_cli_sends_a_message_file_and_refuses_a_bad_one(
    api: TestClient, smtp_sink: SmtpSink, tmp_path: Path, engine: Engine
) -> None:
    token = invited_event(api, smtp_sink)
    reply(api, token, "jean@example.org", "tentative")
    deliver(smtp_sink)  # the confirmation
    good = tmp_path / "logistics.toml"
    good.write_text(
        'subject = "Logistics"\nbody = """\nDoors open at *12:45*.\n"""\n\n'
        '[fr]\nsubject = "Logistique"\nbody = "Portes à 12h45."\n',
        "utf-8",
    )
    command = ["messages", "send", "inter-ethnic-city"]
    run = CliRunner().invoke(app, [*command, str(good), "--to", "accepted,tentative", "--json"])
    assert run.exit_code == 0, run.output
    assert run.stdout.strip() == '{"queued": 1}'
    (mail,) = deliver(smtp_sink)
    assert mail["Subject"] == "Logistique" and "Portes à 12h45." in text_of(mail)

    bad = tmp_path / "bad.toml"
    bad.write_text('subject = "Logistics"\nbody = ""\n\n[fr]\nsubject = 3\n', "utf-8")
    run = CliRunner().invoke(app, [*command, str(bad), "--to", "accepted"])
    assert run.exit_code == 1
    assert f"{bad}:2: body" in run.output and f"{bad}:5: fr.subject" in run.output
    assert "fr.body" in run.output
    unknown = CliRunner().invoke(app, [*command, str(good), "--to", "accepted,everyone"])
    assert unknown.exit_code == 1 and "--to: to: 'everyone'" in unknown.output
    with read_session() as session:
        assert len(session.exec(select(GroupMessage)).all()) == 1


def test_the_nudge_now_skips_whom_the_scheduled_nudge_reached_today(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    with write_session() as session:  # the event's own nudge went to Jean this morning
        scheduled = session.exec(
            select(Message)
            .join(Invitation, col(Invitation.id) == col(Message.invitation_id))
            .join(Contact, col(Contact.id) == col(Invitation.contact_id))
            .where(Message.mailing == "nudge", Contact.email == "jean@example.org")
        ).one()
        scheduled.status, scheduled.sent_at = MessageStatus.SENT, utcnow()
        session.add(scheduled)
    result = api.post(f"{BASE}/nudge", headers=token).json()
    assert result == {"queued": 3, "reason": ""}
    nudged = sorted(m["To"].addresses[0].addr_spec for m in deliver(smtp_sink))
    assert nudged == ["anna@example.org", "li@example.org", "sara@example.org"]


def test_a_nudge_asked_for_survives_a_change_of_the_event_rules(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    assert api.post(f"{BASE}/nudge", headers=token).json()["queued"] == 4
    moved = {**example_document(), "rsvp_deadline": "2027-09-21T18:00:00"}
    assert api.put(BASE, headers=token, json=moved).status_code == 200  # rules resynced
    assert len(deliver(smtp_sink)) == 4
