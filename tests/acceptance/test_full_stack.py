"""The whole stack as a user runs it: the CLI, ``roundtable serve``, a Celery worker and beat.

One event with 300 invitees on PostgreSQL and Redis, an SMTP server in the test
process, and the clock running: invitations, replies through the web server
(with a waiting list and a promotion), an update when the room changes, the nudge
and the reminders when they come due. Every message received is then checked
against what the test did: who got which mail, once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import vobject
from sqlalchemy import create_engine, text

from roundtable.calendar.parse import parse_calendar
from roundtable.types import utcnow
from tests.integration.pipeline import (
    ROOT,
    kill_group,
    start_celery,
    start_worker,
    venue_clock,
    wait_for,
)
from tests.mail.smtp_server import ReceivedMessage, SmtpSink
from tests.ports import free_port

pytestmark = pytest.mark.slow

SLUG = "acceptance"
INVITEES = 300
ACCEPT, DECLINE, TENTATIVE = range(0, 120), range(120, 150), range(150, 170)
CAPACITY = 100
RSVP_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/rsvp/[A-Za-z0-9_-]{43})")


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A database of its own, migrated by ``roundtable db upgrade`` like a real one."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    # Unique per run: two checkouts may run the suite at once on one server.
    name = f"roundtable_acceptance_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _event_file(path: Path, t0: datetime, room: str) -> Path:
    path.write_text(
        f'''slug = "{SLUG}"
title = "The Inter-Ethnic City: Management and Policies for a Better Integration of Migrants"
format = "High-Level Roundtable"
starts = "{venue_clock(t0 + timedelta(seconds=120))}"
ends = "{venue_clock(t0 + timedelta(hours=1))}"
timezone = "America/New_York"
venue = "United Nations Headquarters"
room = "{room}"
capacity = {CAPACITY}
rsvp_deadline = "{venue_clock(t0 + timedelta(seconds=90))}"
reminders = ["1m"]
nudge = "1m"

[organizer]
name = "IOM New York"
email = "events@iom.example.org"
''',
        encoding="utf-8",
    )
    return path


class Stack:
    """The command line and the web server, as seen from outside."""

    def __init__(self, env: dict[str, str], base: str) -> None:
        self.env, self.base = env, base

    def cli(self, *args: str) -> dict[str, object]:
        roundtable = Path(sys.executable).with_name("roundtable")
        done = subprocess.run(
            [str(roundtable), *args, "--json"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def reply(self, link: str, response: str) -> None:
        answer = httpx.post(link, data={"response": response}, timeout=30)
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])


@pytest.fixture
def stack(database: str, redis_url: str, smtp_sink: SmtpSink, tmp_path: Path) -> Iterator[Stack]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ROUNDTABLE_")},
        "ROUNDTABLE_DATABASE_URL": database,
        "ROUNDTABLE_BROKER_URL": redis_url,
        "ROUNDTABLE_MAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
        "ROUNDTABLE_BASE_URL": f"http://127.0.0.1:{port}",
        "ROUNDTABLE_SECRET_KEY": "acceptance-secret-" + "y" * 32,
        "ROUNDTABLE_DISPATCH_INTERVAL": "1",
        "ROUNDTABLE_REANNOUNCE_AFTER": "3",
        "ROUNDTABLE_CLAIM_LEASE": "10",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "services.log"
    roundtable = Path(sys.executable).with_name("roundtable")
    subprocess.run(
        [str(roundtable), "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    server = subprocess.Popen(
        [str(roundtable), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = start_worker(env, log)
    beat = start_celery(
        env, log, "beat", "--loglevel=WARNING", "-s", str(tmp_path / "beat-schedule")
    )
    try:
        wait_for(lambda: _healthy(port), 30, "the web server")
        yield Stack(env, f"http://127.0.0.1:{port}")
    finally:
        for process in (beat, worker, server):
            kill_group(process)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _number(message: ReceivedMessage) -> int:
    return int(message.recipients[0].removeprefix("delegate").split("@")[0])


def _kind(message: ReceivedMessage) -> str:
    subject = str(message.message["Subject"])
    for prefix, kind in (
        ("Invitation:", "invitation"),
        ("Reminder", "reminder"),
        ("Updated", "update"),
        ("Your reply is kindly", "nudge"),
    ):
        if subject.startswith(prefix):
            return kind
    return "other"


def _text(message: ReceivedMessage) -> str:
    body = message.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def _calendar(message: ReceivedMessage) -> bytes:
    for part in message.message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)  # type: ignore[no-any-return]
    raise AssertionError("no calendar part")


def test_a_roundtable_from_invitations_to_reminders(
    stack: Stack, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    t0 = utcnow().replace(microsecond=0)
    event_file = _event_file(tmp_path / "event.toml", t0, "Conference Room 6")
    invitees = tmp_path / "invitees.csv"
    invitees.write_text(
        "email,honorific,first_name,last_name,organization\n"
        + "".join(
            f"delegate{n}@example.org,H.E.,Delegate,Number {n},Mission {n % 40}\n"
            for n in range(INVITEES)
        ),
        encoding="utf-8",
    )
    assert stack.cli("events", "load", str(event_file))["created"] is True
    assert stack.cli("invitees", "import", SLUG, str(invitees))["created"] == INVITEES
    assert stack.cli("invitations", "send", SLUG) == {"queued": INVITEES}
    wait_for(lambda: len(smtp_sink.messages) >= INVITEES, 60, "300 invitations")

    links = {_number(m): RSVP_LINK.findall(_text(m))[0] for m in smtp_sink.messages}
    assert len(links) == INVITEES
    for numbers, response in ((ACCEPT, "accept"), (DECLINE, "decline"), (TENTATIVE, "tentative")):
        for n in numbers:
            stack.reply(links[n], response)
    stack.reply(links[5], "decline")  # a change of mind frees a seat: the first waiter moves up

    moved = stack.cli("events", "load", str(_event_file(event_file, t0, "Conference Room 4")))
    assert moved["sequence"] == 1 and moved["changed"] == ["room"]

    wait_for(lambda: utcnow() > t0 + timedelta(seconds=70), 90, "the reminders' time")
    report: dict[str, object] = {}

    def settled() -> bool:
        report.update(stack.cli("report", SLUG))
        delivery = report["delivery"]
        assert isinstance(delivery, dict)
        return delivery["queued"] == 0 and delivery["sending"] == 0

    wait_for(settled, 60, "every message settled")

    received = Counter((_kind(m), _number(m)) for m in smtp_sink.messages)
    by_kind: dict[str, set[int]] = {}
    for (kind, number), copies in received.items():
        assert kind == "other" or copies == 1, f"{kind} to {number} arrived {copies} times"
        by_kind.setdefault(kind, set()).add(number)
    declined = {*DECLINE, 5}
    replied = {*ACCEPT, *DECLINE, *TENTATIVE}
    accepted = {*range(0, CAPACITY + 1)} - {5}
    assert by_kind["invitation"] == set(range(INVITEES))
    assert by_kind["update"] == set(range(INVITEES)) - declined
    assert by_kind["nudge"] == set(range(INVITEES)) - replied
    assert by_kind["reminder"] == accepted | set(TENTATIVE)
    status = report["status"]
    assert status == {
        "not_invited": 0,
        "invited": INVITEES - len(replied),
        "accepted": CAPACITY,
        "tentative": len(TENTATIVE),
        "declined": len(declined),
        "waitlisted": len(ACCEPT) - CAPACITY - 1,
        "cancelled": 0,
    }
    delivery = report["delivery"]
    assert isinstance(delivery, dict) and delivery["failed"] == 0

    update = next(m for m in smtp_sink.messages if _kind(m) == "update")
    data = _calendar(update)
    parsed = parse_calendar(data)
    assert (parsed.method, parsed.sequence) == ("REQUEST", 1)
    assert "Conference Room 4" in (parsed.location or "")
    other = vobject.readOne(data.decode("utf-8"))
    assert other.vevent.uid.value == parsed.uid and int(other.vevent.sequence.value) == 1


def _past_event_file(path: Path, slug: str, t0: datetime) -> Path:
    path.write_text(
        f'''slug = "{slug}"
title = "Cities of Welcome: a Follow-up Meeting"
starts = "{venue_clock(t0 - timedelta(hours=3))}"
ends = "{venue_clock(t0 - timedelta(hours=1))}"
timezone = "America/New_York"
venue = "United Nations Headquarters"
followup_after = "1m"

[organizer]
name = "IOM New York"
email = "events@iom.example.org"
''',
        encoding="utf-8",
    )
    return path


def test_check_in_recommendations_follow_ups_and_one_click_unsubscribe(
    stack: Stack, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    t0 = utcnow().replace(microsecond=0)
    invitees = tmp_path / "invitees.csv"
    invitees.write_text(
        "email,name\n" + "".join(f"delegate{n}@example.org,Delegate {n}\n" for n in range(20)),
        encoding="utf-8",
    )
    recommendations = tmp_path / "recommendations.md"
    recommendations.write_text("# Recommendations\n\n- Give cities a voice.\n", encoding="utf-8")
    came = range(5)

    def hold_meeting(slug: str) -> list[ReceivedMessage]:
        """Invite 20, check 5 in, publish: the follow-up goes to those who came."""
        before = len(smtp_sink.messages)
        stack.cli("events", "load", str(_past_event_file(tmp_path / f"{slug}.toml", slug, t0)))
        stack.cli("invitees", "import", slug, str(invitees))
        stack.cli("invitations", "send", slug)
        for n in came:
            assert stack.cli("checkin", slug, f"delegate{n}@example.org")["checked_in"] is True
        stack.cli("recommendations", "publish", slug, str(recommendations))

        def settled() -> bool:
            delivery = stack.cli("report", slug)["delivery"]
            assert isinstance(delivery, dict)
            return delivery["queued"] == 0 and delivery["sending"] == 0

        wait_for(settled, 60, f"the mail of {slug}")
        return [
            m
            for m in smtp_sink.messages[before:]
            if str(m.message["Subject"]).startswith("Recommendations")
        ]

    first = hold_meeting("first-meeting")
    assert sorted(_number(m) for m in first) == list(came)
    for message in first:
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(first[0].message["List-Unsubscribe"]).strip("<>")
    answer = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert answer.status_code == 200

    second = hold_meeting("second-meeting")
    assert sorted(_number(m) for m in second) == sorted(set(came) - {_number(first[0])})
