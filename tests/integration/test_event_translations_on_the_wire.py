"""The event's own words in the reader's language, read off the wire and the page.

The example event file gives French and Spanish; the Arabic reader gets the words as
written (English), marked ``lang="en"`` and ``dir="auto"`` in HTML. Through the real
path: ``events load`` → ``invitees import`` → ``invitations send`` → delivery over SMTP
to the sink → the parsed mail (subject, text, HTML, calendar) → the RSVP page over HTTP.
"""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from roundtable.calendar.parse import parse_calendar
from roundtable.cli import app
from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.events.model import Event
from roundtable.mail.model import Message, MessageKind
from roundtable.mail.transports import open_transport
from roundtable.paths import examples_dir
from roundtable.web.app import create_app
from tests.mail.smtp_server import SmtpSink

runner = CliRunner()
SLUG = "inter-ethnic-city"
FRENCH_TITLE = "La ville interethnique\u00a0: gestion et politiques"
ENGLISH_TITLE = "The Inter-Ethnic City: Management and Policies"
RSVP_LINK = re.compile(r"https://rsvp\.example\.org/rsvp/[A-Za-z0-9_-]{43}")
INVITEES = (
    "honorific,first_name,last_name,position,organization,email,role,language,timezone\n"
    "Mme,Claire,Dubois,Ambassadrice,Mission permanente de la France,claire@example.org,"
    "participant,fr,Europe/Paris\n"
    "سعادة السيد,أحمد,القاسمي,سفير,البعثة الدائمة,ahmed@example.org,participant,ar,Asia/Dubai\n"
)


def _cli(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output


def _deliver(kind: str, smtp_sink: SmtpSink, *, at_due_time: bool = False) -> None:
    with read_session() as session:
        rows = session.exec(select(Message).where(Message.kind == kind)).all()
        ids = [row.id for row in rows if row.id is not None]
        due = max(row.due_at for row in rows)
    with open_transport(f"smtp://127.0.0.1:{smtp_sink.port}") as transport:
        deliver_batch(ids, transport, now=due + timedelta(seconds=1) if at_due_time else None)


def _received(smtp_sink: SmtpSink, address: str, subject_start: str) -> EmailMessage:
    for received in smtp_sink.messages:
        message = email.message_from_bytes(received.data, policy=default)
        if list(received.recipients) == [address] and str(message["Subject"]).startswith(
            subject_start
        ):
            assert isinstance(message, EmailMessage)
            return message
    subjects = [(m.recipients, m.message["Subject"]) for m in smtp_sink.messages]
    raise AssertionError(f"no mail {subject_start!r} to {address}; got {subjects}")


def _parts(message: EmailMessage) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), part.get_content())
    return found


def _calendar(parts: dict[str, str]) -> tuple[str, str]:
    """The calendar's SUMMARY and DESCRIPTION, unescaped."""
    data = parts["text/calendar"].encode()
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    return parse_calendar(data).summary, str(event["DESCRIPTION"])


def test_each_reader_gets_the_event_in_their_language(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    _cli("events", "load", str(examples_dir() / "inter-ethnic-city.toml"))
    invitees = tmp_path / "invitees.csv"
    invitees.write_text(INVITEES, encoding="utf-8")
    _cli("invitees", "import", SLUG, str(invitees))
    _cli("invitations", "send", SLUG)
    _deliver(MessageKind.INVITATION, smtp_sink)

    french = _parts(_received(smtp_sink, "claire@example.org", "Invitation"))
    subject = str(_received(smtp_sink, "claire@example.org", "Invitation")["Subject"])
    assert FRENCH_TITLE in subject and ENGLISH_TITLE not in subject
    text, html = french["text/plain"], french["text/html"]
    for body in (text, unescape(html)):
        assert FRENCH_TITLE in body and "Table ronde de haut niveau" in body
        assert "Allocutions d'ouverture" in body
        assert "la ville" in body and "Why cities" not in body
        assert "Opening remarks" not in body
    assert 'lang="en"' not in html, "every word of the event is given in French"
    summary, description = _calendar(french)
    assert summary.startswith(FRENCH_TITLE)
    assert "Allocutions d'ouverture" in description and "Opening remarks" not in description

    arabic_mail = _received(smtp_sink, "ahmed@example.org", "دعوة")
    arabic = _parts(arabic_mail)
    assert ENGLISH_TITLE in str(arabic_mail["Subject"])
    assert ENGLISH_TITLE in arabic["text/plain"] and "Why cities" in arabic["text/plain"]
    # the description, left in English, says so inside the right-to-left mail
    assert re.search(r'<div lang="en" dir="auto"><p[^>]*>On the margins', arabic["text/html"])
    assert f'<span lang="en">{ENGLISH_TITLE}' in arabic["text/html"]
    assert '<span lang="en">Opening remarks</span>' in arabic["text/html"]
    summary, description = _calendar(arabic)
    assert summary.startswith(ENGLISH_TITLE) and "Opening remarks" in description

    # how to enter the venue: not in the invitation; in the confirmation and the reminder
    assert "Grounds Pass" not in text
    french_page = _path(text)
    with TestClient(create_app(), base_url="https://rsvp.example.org") as client:
        page = client.get(french_page)
        for body in (text, arabic["text/plain"]):
            replied = client.post(_path(body), data={"response": "accept"})
            assert replied.status_code in (200, 303), replied.text
    assert page.status_code == 200
    assert f'<h1 dir="auto">{FRENCH_TITLE}' in page.text
    assert "Allocutions d&#39;ouverture" in page.text and "Opening remarks" not in page.text
    assert "Pourquoi les villes" in page.text and "Why cities" not in page.text
    assert 'lang="en"' not in page.text

    _deliver(MessageKind.CONFIRMATION, smtp_sink)
    _deliver(MessageKind.REMINDER, smtp_sink, at_due_time=True)
    for subject in ("Participation confirmée", "Rappel"):
        french_mail = _parts(_received(smtp_sink, "claire@example.org", subject))
        assert "Accès au lieu" in french_mail["text/plain"], subject
        assert "entrée des visiteurs" in french_mail["text/plain"], subject
        assert "<strong>UN Grounds Pass</strong>" in french_mail["text/html"], subject
    arabic_reminder = _parts(_received(smtp_sink, "ahmed@example.org", "تذكير"))
    assert re.search(
        r'<div lang="en" dir="auto"><p[^>]*>Entry with a', arabic_reminder["text/html"]
    )

    with read_session() as session:
        event = session.exec(select(Event).where(col(Event.slug) == SLUG)).one()
    assert event.translations["es"]["format"] == "Mesa redonda de alto nivel"


def _path(text: str) -> str:
    """The RSVP page's path, from the link in a mail's text."""
    link = RSVP_LINK.search(text)
    assert link is not None
    return link.group(0).removeprefix("https://rsvp.example.org")
