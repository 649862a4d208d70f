"""Reminders and the nudge on a real clock: beat every second, a real worker, a real server.

An event starts two minutes from now, with a one-minute reminder and a nudge one
minute before an RSVP deadline. Replies arrive before and after the rows were
computed; the worker is killed and Redis flushed in the middle. Each invitee must
get exactly the mail meant for them, once, within seconds of its due time.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.invitations.rsvp import Reply
from roundtable.mail.model import Message, MessageStatus
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.workflows.event_changes import apply_event_file
from roundtable.workflows.replies import record_reply
from roundtable.workflows.sending import send_invitations
from tests.integration.pipeline import kill_group, start_celery, start_worker, venue_clock, wait_for
from tests.mail.smtp_server import SmtpSink

pytestmark = pytest.mark.slow

PEOPLE = {
    "accepts": "accept",
    "also.accepts": "accept",
    "maybe": "tentative",
    "declines": "decline",
    "late.reply": None,  # accepts after the nudge rows exist, before the nudge is due
    "silent": None,
}


@pytest.fixture
def services(
    pg_engine: Engine, redis_url: str, smtp_sink: SmtpSink, env: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    env.setenv("ROUNDTABLE_BROKER_URL", redis_url)
    env.setenv("ROUNDTABLE_MAIL_URL", f"smtp://127.0.0.1:{smtp_sink.port}")
    env.setenv("ROUNDTABLE_DISPATCH_INTERVAL", "1")
    env.setenv("ROUNDTABLE_REANNOUNCE_AFTER", "3")
    env.setenv("ROUNDTABLE_CLAIM_LEASE", "5")
    get_settings.cache_clear()
    yield dict(os.environ)


def _event_file(tmp_path: Path, t0: datetime) -> Path:
    starts = t0 + timedelta(seconds=120)
    deadline = t0 + timedelta(seconds=80)
    path = tmp_path / "event.toml"
    path.write_text(
        f'''slug = "soon"
title = "A roundtable two minutes from now"
starts = "{venue_clock(starts)}"
ends = "{venue_clock(starts + timedelta(hours=1))}"
timezone = "America/New_York"
venue = "United Nations Headquarters"
rsvp_deadline = "{venue_clock(deadline)}"
reminders = ["1m"]
nudge = "1m"

[organizer]
name = "IOM New York"
email = "events@iom.example.org"
''',
        encoding="utf-8",
    )
    return path


def _invitees(tmp_path: Path) -> Path:
    path = tmp_path / "invitees.csv"
    rows = [f"{name}@example.org,{name.title()} Person" for name in PEOPLE]
    path.write_text("email,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _reply(local_part: str, response: str) -> None:
    with read_session() as session:
        invitation_id = session.exec(
            select(Invitation.id)
            .join(Contact, Contact.id == Invitation.contact_id)  # type: ignore[arg-type]
            .where(Contact.email == f"{local_part}@example.org")
        ).one()
    assert invitation_id is not None
    record_reply(invitation_id, Reply(response=response), actor="invitee", now=utcnow())


def test_reminders_and_nudge_reach_the_right_people_once(
    services: dict[str, str], smtp_sink: SmtpSink, redis_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "celery.log"
    t0 = utcnow().replace(microsecond=0)
    apply_event_file(_event_file(tmp_path, t0), now=t0)
    import_invitee_file(_invitees(tmp_path), "soon", skip_invalid=False)
    worker = start_worker(services, log)
    beat = start_celery(
        services, log, "beat", "--loglevel=WARNING", "-s", str(tmp_path / "beat-schedule")
    )
    try:
        send_invitations("soon", now=utcnow())
        for name, response in PEOPLE.items():
            if response:
                _reply(name, response)
        time.sleep(6)
        _reply("late.reply", "accept")

        # Between the nudge (t0+20 s) and the reminder (t0+60 s): kill, flush, restart.
        wait_for(lambda: utcnow() >= t0 + timedelta(seconds=28), 40, "the middle")
        kill_group(worker)
        redis.Redis.from_url(redis_url).flushdb()
        worker = start_worker(services, log)

        wait_for(_scheduled_mail_settled, 90, "the reminder and the nudge to be settled")
    finally:
        kill_group(beat)
        kill_group(worker)

    kinds = _kinds_by_message_id()
    received = Counter(
        (kinds[str(m.message["Message-ID"])], m.recipients[0]) for m in smtp_sink.messages
    )
    assert max(received.values()) == 1, f"something arrived twice: {received}"
    by_kind: dict[str, set[str]] = {}
    for kind, recipient in received:
        by_kind.setdefault(kind, set()).add(recipient.split("@")[0])
    assert by_kind["nudge"] == {"silent"}
    assert by_kind["reminder"] == {"accepts", "also.accepts", "maybe", "late.reply"}
    assert by_kind["invitation"] == set(PEOPLE)
    with read_session() as session:
        scheduled = session.exec(
            select(Message).where(
                Message.status == MessageStatus.SENT, Message.kind.in_(["reminder", "nudge"])
            )  # type: ignore[attr-defined]
        ).all()
    late = [(m.kind, (m.sent_at - m.due_at).total_seconds()) for m in scheduled if m.sent_at]
    print(f"\nscheduled mail: seconds after due time {late}")
    assert all(seconds < 8 for _, seconds in late), late


def _scheduled_mail_settled() -> bool:
    """Every reminder and nudge row is sent or dropped: none is waiting or in flight."""
    with read_session() as session:
        states = session.exec(
            select(Message.status).where(Message.kind.in_(["reminder", "nudge"]))  # type: ignore[attr-defined]
        ).all()
    return bool(states) and all(
        state in (MessageStatus.SENT, MessageStatus.DROPPED) for state in states
    )


def _kinds_by_message_id() -> dict[str, str]:
    """Which mailing each sent message belongs to, by the Message-ID recorded at send time."""
    with read_session() as session:
        rows = session.exec(select(Message.message_id, Message.kind)).all()
    return {message_id: kind for message_id, kind in rows if message_id}
