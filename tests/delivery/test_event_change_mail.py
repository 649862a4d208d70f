"""An event that moves, then is cancelled: update and cancellation mail, judged by two parsers."""

from __future__ import annotations

import email
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import vobject
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.calendar.parse import parse_calendar
from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.invitations.rsvp import Reply
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.transports import open_transport
from roundtable.types import utcnow
from roundtable.workflows.cancel import cancel_event
from roundtable.workflows.event_changes import apply_event_file
from roundtable.workflows.replies import record_reply
from roundtable.workflows.sending import send_invitations
from tests.events.event_files import sample

DATES = {
    "starts": '"2027-09-23T13:15:00"',
    "ends": '"2027-09-23T15:00:00"',
    "rsvp_deadline": '"2027-09-20T18:00:00"',
}
MOVED = {**DATES, "starts": '"2027-09-24T10:00:00"', "ends": '"2027-09-24T11:45:00"'}
INVITEES = (
    b"email,honorific,first_name,last_name,language\n"
    b"amina@example.org,H.E. Ms.,Amina,Haddad,ar\n"
    b"jean@example.org,Mr.,Jean,Dupont,fr\n"
    b"li@example.org,Dr.,Wei,Li,zh\n"
)


def _deliver_due(outbox: Path) -> list[EmailMessage]:
    """Send every due row through the file transport; return what was written this time."""
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    with read_session() as session:
        due = session.exec(
            select(Message.id).where(
                Message.status == MessageStatus.QUEUED,
                Message.due_at <= utcnow(),  # type: ignore[operator]
            )
        ).all()
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch([int(i) for i in due if i is not None], transport)
    return [
        email.message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
        for path in sorted(set(outbox.glob("*.eml")) - before)
    ]


def _calendar(message: EmailMessage) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)  # type: ignore[return-value]
    raise AssertionError("no calendar part")


def test_update_and_cancellation_keep_the_uid_and_raise_the_sequence(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    event_file, outbox = tmp_path / "event.toml", tmp_path / "outbox"
    event_file.write_text(sample(**DATES), encoding="utf-8")
    apply_event_file(event_file, now=utcnow())
    import_invitee_file(INVITEES, "inter-ethnic-city", skip_invalid=False)
    send_invitations("inter-ethnic-city", now=utcnow())
    invitations = _deliver_due(outbox)
    assert len(invitations) == 3
    uid = parse_calendar(_calendar(invitations[0])).uid

    with read_session() as session:
        li = session.exec(select(Invitation).where(Invitation.contact_id == 3)).one()
    assert li.id is not None
    record_reply(li.id, Reply(response="decline"), actor="invitee", now=utcnow())
    _deliver_due(outbox)  # the confirmation

    event_file.write_text(sample(**MOVED), encoding="utf-8")
    moved = apply_event_file(event_file, now=utcnow())
    assert moved.sequence == 1 and moved.updates_queued == 2
    updates = _deliver_due(outbox)
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in updates) == [
        "amina@example.org",
        "jean@example.org",
    ]
    new_start = datetime(2027, 9, 24, 14, 0, tzinfo=UTC)
    for message in updates:
        data = _calendar(message)
        parsed = parse_calendar(data)
        assert (parsed.method, parsed.uid, parsed.sequence) == ("REQUEST", uid, 1)
        assert parsed.dtstart == new_start
        second = vobject.readOne(data.decode("utf-8"))
        assert second.vevent.uid.value == uid and int(second.vevent.sequence.value) == 1
        assert second.vevent.dtstart.value.astimezone(UTC) == new_start

    with read_session() as session:
        reminders = session.exec(select(Message).where(Message.kind == "reminder")).all()
    states = Counter((m.mailing.split("@")[1], m.status) for m in reminders)
    assert states[("0", MessageStatus.DROPPED)] == 6, "the old time's reminders are dropped"
    assert states[("1", MessageStatus.QUEUED)] == 4, "reminders for the new time, not to decliners"

    cancelled = cancel_event("inter-ethnic-city", now=utcnow())
    assert cancelled.cancellations_queued == 2 and cancelled.messages_dropped >= 6
    cancellations = _deliver_due(outbox)
    assert len(cancellations) == 2
    for message in cancellations:
        data = _calendar(message)
        parsed = parse_calendar(data)
        assert (parsed.method, parsed.uid, parsed.sequence) == ("CANCEL", uid, 2)
        assert parsed.status == "CANCELLED" and not parsed.has_alarm
        assert b"BEGIN:VALARM" not in data
        second = vobject.readOne(data.decode("utf-8"))
        assert second.method.value == "CANCEL" and second.vevent.status.value == "CANCELLED"
        assert message.get_content_type() == "multipart/mixed"


def test_moving_the_event_earlier_drops_reminders_whose_time_has_passed(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    def local(instant: datetime) -> str:
        return (
            '"'
            + instant.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M:%S")
            + '"'
        )

    now = utcnow().replace(microsecond=0)
    event_file = tmp_path / "event.toml"

    def load(starts: datetime) -> None:
        event_file.write_text(
            sample(
                starts=local(starts),
                ends=local(starts + timedelta(hours=2)),
                rsvp_deadline=None,
                nudge=None,
            ),
            encoding="utf-8",
        )
        apply_event_file(event_file, now=now)

    load(now + timedelta(days=10))
    import_invitee_file(INVITEES, "inter-ethnic-city", skip_invalid=False)
    send_invitations("inter-ethnic-city", now=now)
    load(now + timedelta(days=5))  # earlier: the 7-day reminder is now in the past

    with read_session() as session:
        rows = session.exec(select(Message).where(Message.kind == "reminder")).all()
    by_key = Counter((m.mailing, m.status) for m in rows)
    assert by_key[("reminder:604800@0", MessageStatus.DROPPED)] == 3
    assert by_key[("reminder:86400@0", MessageStatus.DROPPED)] == 3
    assert by_key[("reminder:86400@1", MessageStatus.QUEUED)] == 3
    assert not any(m.mailing == "reminder:604800@1" for m in rows), "its time has passed"
    due = {m.due_at for m in rows if m.status == MessageStatus.QUEUED}
    assert due == {now + timedelta(days=4)}


def test_raising_the_capacity_promotes_the_waiting_list(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    event_file = tmp_path / "event.toml"
    event_file.write_text(sample(**DATES, capacity="1"), encoding="utf-8")
    apply_event_file(event_file, now=utcnow())
    import_invitee_file(INVITEES, "inter-ethnic-city", skip_invalid=False)
    send_invitations("inter-ethnic-city", now=utcnow())
    with read_session() as session:
        ids = [i.id for i in session.exec(select(Invitation).order_by(Invitation.id)).all()]
    for invitation_id in ids[:2]:
        assert invitation_id is not None
        record_reply(invitation_id, Reply(response="accept"), actor="invitee", now=utcnow())
    with read_session() as session:
        assert [i.status for i in session.exec(select(Invitation).order_by(Invitation.id))][:2] == [
            "accepted",
            "waitlisted",
        ]

    event_file.write_text(sample(**DATES, capacity="2"), encoding="utf-8")
    apply_event_file(event_file, now=utcnow())
    with read_session() as session:
        statuses = [i.status for i in session.exec(select(Invitation).order_by(Invitation.id))]
        promotions = session.exec(select(Message).where(Message.kind == "promotion")).all()
    assert statuses[:2] == ["accepted", "accepted"]
    assert [m.invitation_id for m in promotions] == [ids[1]]
