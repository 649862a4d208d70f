"""An update mail names each changed fact old → new, and carries the organizers' note.

Driven as an organizer would: ``roundtable events load`` (the CLI), the outbox, delivery
to a real SMTP server; the bytes received are parsed and read in text and HTML.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from roundtable.calendar.parse import parse_calendar
from roundtable.cli import app
from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.invitations.rsvp import Reply
from roundtable.mail.kinds import UpdateContext
from roundtable.mail.mailings import queue_mailing
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.mail.transports import open_transport
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.workflows.replies import record_reply
from roundtable.workflows.sending import send_invitations
from tests.events.event_files import sample
from tests.mail.smtp_server import SmtpSink

SLUG = "inter-ethnic-city"
DATES = {
    "starts": '"2027-09-23T13:15:00"',
    "ends": '"2027-09-23T15:00:00"',
    "rsvp_deadline": '"2027-09-20T18:00:00"',
}
MOVED = {
    **DATES,
    "starts": '"2027-09-24T10:00:00"',
    "ends": '"2027-09-24T11:45:00"',
    "room": '"Trusteeship Council Chamber"',
    "webcast_url": '"https://webtv.un.org/live"',
}
INVITEES = (
    b"email,honorific,first_name,last_name,language,timezone\n"
    b"jean@example.org,Mr.,Jean,Dupont,fr,Europe/Paris\n"
    b"ann@example.org,Ms.,Ann,Lee,en,\n"
    b"amina@example.org,H.E. Ms.,Amina,Haddad,ar,\n"
)
NOTE = "The <b>Secretary-General</b> will now open the meeting."

runner = CliRunner()


def _deliver(sink: SmtpSink) -> list[EmailMessage]:
    """Every due row through SMTP to ``sink``; the messages received this time."""
    seen = len(sink.messages)
    with read_session() as session:
        due = session.exec(
            select(Message.id).where(
                Message.status == MessageStatus.QUEUED,
                Message.due_at <= utcnow(),  # type: ignore[operator]
            )
        ).all()
    with open_transport(f"smtp://127.0.0.1:{sink.port}") as transport:
        deliver_batch([int(i) for i in due if i is not None], transport)
    return [received.message for received in sink.messages[seen:]]


def _parts(message: EmailMessage) -> tuple[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), part.get_content())
    return found["text/plain"], found["text/html"]


def _visible(page: str) -> str:
    """What a reader sees of an HTML part: tags dropped, entities read, spaces collapsed."""
    inline = re.sub(r"</?bdi[^>]*>", "", page)  # an isolate is not a word break
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _load(event_file: Path, *args: str) -> str:
    result = runner.invoke(app, ["events", "load", str(event_file), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _invited(tmp_path: Path, sink: SmtpSink) -> Path:
    """The event loaded from its file, three invitees invited; the file, to be edited."""
    event_file = tmp_path / "event.toml"
    event_file.write_text(sample(**DATES), encoding="utf-8")
    _load(event_file)
    import_invitee_file(INVITEES, SLUG, skip_invalid=False)
    send_invitations(SLUG, now=utcnow())
    assert len(_deliver(sink)) == 3
    return event_file


def test_update_shows_each_change_old_to_new_and_the_note(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    event_file = _invited(tmp_path, smtp_sink)

    event_file.write_text(sample(**MOVED), encoding="utf-8")
    assert "3 update(s) queued" in _load(event_file, "--note", NOTE)
    updates = {str(m["To"].addresses[0].addr_spec): m for m in _deliver(smtp_sink)}
    assert set(updates) == {"jean@example.org", "ann@example.org", "amina@example.org"}

    text, page = _parts(updates["ann@example.org"])
    for body in (text, _visible(page)):
        assert "Conference Room 6 → Trusteeship Council Chamber" in body
        assert "https://webtv.un.org/ → https://webtv.un.org/live" in body
        assert "Thursday, 23 September 2027, 13:15–15:00 (New York time, EDT) → Friday" in body
        assert NOTE in body
    assert "<b>Secretary-General</b>" not in page, "the note is escaped"

    text, page = _parts(updates["jean@example.org"])
    for body in (text, _visible(page)):
        assert "Conference Room 6 → Trusteeship Council Chamber" in body and "Salle" in body
        assert "(heure de Paris, UTC+2) → vendredi 24 septembre 2027" in body, "both zones"

    text, page = _parts(updates["amina@example.org"])
    # Arabic plain text isolates each Latin value (U+2068 … U+2069) inside the sentence
    assert "\u2068Conference Room 6\u2069 → \u2068Trusteeship Council Chamber\u2069" in text
    for body in (text, _visible(page)):
        body = body.replace("\u2068", "").replace("\u2069", "")
        assert "Conference Room 6 → Trusteeship Council Chamber" in body and "القاعة" in body
        assert "(بتوقيت نيويورك، UTC-4) → الجمعة، 24 سبتمبر 2027" in body


def test_a_new_title_or_webcast_link_sends_an_update(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    event_file = _invited(tmp_path, smtp_sink)
    event_file.write_text(sample(**DATES, title='"The City of Many"'), encoding="utf-8")
    assert "3 update(s) queued" in _load(event_file)
    text, _ = _parts(_deliver(smtp_sink)[0])
    assert "→ The City of Many" in text


def test_a_context_the_composer_would_not_read_is_refused_when_queued(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    from roundtable.db import write_session
    from roundtable.events.service import get_event

    event_file = tmp_path / "event.toml"
    event_file.write_text(sample(**DATES), encoding="utf-8")
    _load(event_file)
    with write_session() as session, pytest.raises(ValueError, match="unknown key"):
        queue_mailing(
            session,
            get_event(session, SLUG),
            statuses=("invited",),
            kind=MessageKind.UPDATE,
            mailing="update:9",
            due_at=utcnow(),
            context={"sequence": 9, "chnages": []},
        )
    assert UpdateContext.parse(UpdateContext(1, ()).to_json()) == UpdateContext(1, ())


def _ann_invited(tmp_path: Path, sink: SmtpSink) -> int:
    _invited(tmp_path, sink)
    with read_session() as session:
        ann = session.exec(
            select(Invitation).join(Contact).where(Contact.email == "ann@example.org")
        ).one()
    assert ann.id is not None
    return ann.id


def _calendars(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    """(METHOD, the attendee's PARTSTAT) of each message's calendar part."""
    found = []
    for message in messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = parse_calendar(part.get_payload(decode=True))
                found.append((calendar.method, calendar.attendees[0][1]))
    return found


def test_accept_then_decline_sends_one_cancel_and_never_an_acceptance_after_it(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    ann_id = _ann_invited(tmp_path, smtp_sink)
    record_reply(ann_id, Reply(response="accept"), actor="invitee", now=utcnow())
    record_reply(ann_id, Reply(response="decline"), actor="invitee", now=utcnow())
    assert _calendars(_deliver(smtp_sink)) == [("CANCEL", "DECLINED")]
    with read_session() as session:
        rows = session.exec(select(Message).where(Message.kind == MessageKind.CONFIRMATION)).all()
    assert sorted((m.context["response"], m.status) for m in rows) == [
        ("accepted", MessageStatus.DROPPED),
        ("declined", MessageStatus.SENT),
    ]


def test_three_quick_replies_send_only_the_last_ones_confirmation(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    ann_id = _ann_invited(tmp_path, smtp_sink)
    record_reply(ann_id, Reply(response="accept"), actor="invitee", now=utcnow())
    record_reply(ann_id, Reply(response="decline"), actor="invitee", now=utcnow())
    record_reply(ann_id, Reply(response="accept"), actor="invitee", now=utcnow())
    assert _calendars(_deliver(smtp_sink)) == [("REQUEST", "ACCEPTED")]


def test_a_cancellation_carries_the_organizers_note(
    sqlite_engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    _invited(tmp_path, smtp_sink)
    result = runner.invoke(app, ["events", "cancel", SLUG, "--note", NOTE])
    assert result.exit_code == 0, result.output
    cancellations = {str(m["To"].addresses[0].addr_spec): m for m in _deliver(smtp_sink)}
    assert len(cancellations) == 3
    text, page = _parts(cancellations["jean@example.org"])
    assert NOTE in text and NOTE in _visible(page)
    assert "<b>Secretary-General</b>" not in page, "the note is escaped"
    assert _calendars([cancellations["jean@example.org"]])[0][0] == "CANCEL"
