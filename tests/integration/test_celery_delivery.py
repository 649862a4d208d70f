"""Invitations through a real Celery worker on Redis, to a real SMTP server, on PostgreSQL."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.calendar.parse import parse_calendar
from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery.policy import MAX_UNEXPECTED_ATTEMPTS
from roundtable.invitations.model import Invitation
from roundtable.invitations.tokens import hash_token
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.workflows.sending import send_invitations
from tests.integration.pipeline import SLUG, create_invitees, outbox_states, wait_for
from tests.mail.smtp_server import SmtpSink
from workers import app as celery_app

pytestmark = pytest.mark.slow

RSVP_LINK = re.compile(r"https://rsvp\.example\.org/rsvp/([A-Za-z0-9_-]{43})")


@pytest.fixture
def worker(
    pg_engine: Engine, redis_url: str, smtp_sink: SmtpSink, env: pytest.MonkeyPatch
) -> Iterator[None]:
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    env.setenv("ROUNDTABLE_MAIL_URL", f"smtp://127.0.0.1:{smtp_sink.port}")
    get_settings.cache_clear()
    celery_app.conf.broker_url = redis_url
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ):
        yield


def _parts(message: object) -> dict[str, str]:
    found = {}
    for part in message.walk():  # type: ignore[attr-defined]
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), part.get_content())
    return found


def test_two_hundred_invitations_arrive_once_each(worker: None, smtp_sink: SmtpSink) -> None:
    create_invitees(200)
    assert send_invitations(SLUG, now=utcnow()) == 200
    wait_for(lambda: outbox_states()["sent"] >= 200, 90, "200 messages sent")
    assert len(smtp_sink.messages) == 200
    recipients = Counter(m.recipients[0] for m in smtp_sink.messages)
    assert len(recipients) == 200 and max(recipients.values()) == 1
    with read_session() as session:
        hashes = {i.token_hash for i in session.exec(select(Invitation)).all()}
    for received in smtp_sink.messages:
        email = received.message
        number = received.recipients[0].removeprefix("invitee").split("@")[0]
        assert f"Invitee N{number}" in str(email["To"])
        parts = _parts(email)
        text, html = parts["text/plain"], parts["text/html"]
        links = set(RSVP_LINK.findall(text))
        assert len(links) == 1 and links == set(RSVP_LINK.findall(html))
        assert hash_token(links.pop()) in hashes
        calendar = parse_calendar(parts["text/calendar"].encode())
        assert calendar.method == "REQUEST"
        assert [a[0] for a in calendar.attendees] == [received.recipients[0]]
    assert outbox_states() == Counter({"sent": 200}) + _scheduled()


def _scheduled() -> Counter[str]:
    """Reminder rows written beside the invitations wait, queued, for their time."""
    with read_session() as session:
        waiting = session.exec(select(Message).where(Message.kind != "invitation")).all()
    return Counter(m.status for m in waiting)


def test_a_451_on_every_first_attempt_delays_but_loses_nothing(
    worker: None, smtp_sink: SmtpSink
) -> None:
    smtp_sink.rule = lambda recipient, attempt: 451 if attempt == 1 else None
    create_invitees(200)
    send_invitations(SLUG, now=utcnow())
    wait_for(lambda: outbox_states()["sent"] >= 200, 120, "200 messages sent after retries")
    recipients = Counter(m.recipients[0] for m in smtp_sink.messages)
    assert len(recipients) == 200 and max(recipients.values()) == 1
    with read_session() as session:
        attempts = session.exec(select(Message.attempts).where(Message.kind == "invitation")).all()
    assert set(attempts) == {2}


def test_a_550_fails_those_five_and_the_rest_arrive(worker: None, smtp_sink: SmtpSink) -> None:
    refused = {f"invitee{n:04d}@example.org" for n in (3, 50, 99, 150, 199)}
    smtp_sink.rule = lambda recipient, attempt: 550 if recipient in refused else None
    create_invitees(200)
    send_invitations(SLUG, now=utcnow())
    wait_for(
        lambda: outbox_states()["sent"] + outbox_states()["failed"] >= 200, 90, "all 200 settled"
    )
    assert {m.recipients[0] for m in smtp_sink.messages}.isdisjoint(refused)
    assert len(smtp_sink.messages) == 195
    with read_session() as session:
        failed = session.exec(select(Message).where(Message.status == MessageStatus.FAILED)).all()
    assert len(failed) == 5 and {m.last_code for m in failed} == {550}
    assert all(m.attempts == 1 for m in failed), "a permanent failure is not retried"


def test_a_reply_over_http_is_confirmed_by_mail_through_the_broker(
    worker: None, smtp_sink: SmtpSink
) -> None:
    """The web process rings from a thread of its own; the confirmation still goes out, once."""
    from fastapi.testclient import TestClient

    from roundtable.delivery.bell_thread import BellThread
    from roundtable.mail import doorbell
    from roundtable.web.app import create_app

    create_invitees(3)
    send_invitations(SLUG, now=utcnow())
    wait_for(lambda: len(smtp_sink.messages) >= 3, 60, "3 invitations received")
    token = RSVP_LINK.findall(_parts(smtp_sink.messages[0].message)["text/plain"])[0]
    invitee = smtp_sink.messages[0].recipients[0]

    with TestClient(create_app(), base_url="https://rsvp.example.org") as client:
        assert isinstance(doorbell.installed(), BellThread)
        answer = client.post(
            f"/rsvp/{token}",
            data={"response": "accept", "guests": "0"},
            headers={"Origin": "https://rsvp.example.org"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        wait_for(lambda: len(smtp_sink.messages) >= 4, 60, "the confirmation received")
    assert doorbell.installed() is None, "the bell outlived the application"
    confirmation = smtp_sink.messages[3]
    assert list(confirmation.recipients) == [invitee]
    assert parse_calendar(_parts(confirmation.message)["text/calendar"].encode()).method == (
        "REQUEST"
    )
    with read_session() as session:
        kinds = Counter(
            session.exec(select(Message.kind).where(Message.status == MessageStatus.SENT)).all()
        )
    assert kinds == Counter({"invitation": 3, "confirmation": 1})


#: an address the headers take but smtplib cannot write in RCPT TO (ASCII only):
#: a UnicodeEncodeError, a ValueError
UNWRITABLE = "invitee@bücher.example"


def test_an_address_the_transport_cannot_write_fails_its_row_and_the_rest_go_at_once(
    worker: None, smtp_sink: SmtpSink
) -> None:
    create_invitees(6)
    with write_session() as session:
        session.execute(
            update(Contact)
            .where(col(Contact.email) == "invitee0002@example.org")
            .values(email=UNWRITABLE)
        )
    started = time.monotonic()
    assert send_invitations(SLUG, now=utcnow()) == 6
    wait_for(lambda: len(smtp_sink.messages) >= 5, 30, "the five writable invitations")
    # The other rows of the batch did not wait for the broken one's lease (minutes).
    assert time.monotonic() - started < 20
    assert UNWRITABLE not in {r for m in smtp_sink.messages for r in m.recipients}
    wait_for(lambda: outbox_states()["failed"] == 1, 60, "the broken row failed")
    with read_session() as session:
        rows = session.exec(
            select(Message).where(col(Message.kind) == MessageKind.INVITATION)
        ).all()
    by_status = {row.status for row in rows if row.status != MessageStatus.SENT}
    assert by_status == {MessageStatus.FAILED}
    failed = next(row for row in rows if row.status == MessageStatus.FAILED)
    assert failed.attempts == MAX_UNEXPECTED_ATTEMPTS
    assert failed.lease_until is None
    assert "UnicodeEncodeError" in (failed.last_response or "")
    assert len(smtp_sink.messages) == 5, "nothing else was sent twice"
    # The connection the broken transaction left half open was not reused for the rest.
    assert sum(1 for row in rows if row.status == MessageStatus.SENT) == 5
