"""Reading the organizer's mailbox on a real Dovecot: replies, bounces, auto-replies, junk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.inbound.model import InboundKind, InboundMessage, InboundState
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.mail.model import Message, MessageKind, MessageStatus
from roundtable.people.model import Contact
from roundtable.workflows.inbound import fetch_once
from tests.inbound import support
from tests.inbound.dovecot import ImapUser

PROCESSED, UNREADABLE = "Roundtable/Processed", "Roundtable/Unreadable"


def _status(address: str) -> str:
    with read_session() as session:
        invitation = session.exec(
            select(Invitation)
            .join(Contact, Contact.id == Invitation.contact_id)  # type: ignore[arg-type]
            .where(Contact.email == address)
        ).one()
        return invitation.status


def _rows() -> list[InboundMessage]:
    with read_session() as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())


@pytest.mark.parametrize(
    ("shape", "partstat", "status"),
    [
        ("outlook", "ACCEPTED", Status.ACCEPTED),
        ("gmail", "DECLINED", Status.DECLINED),
        ("apple", "TENTATIVE", Status.TENTATIVE),
        ("thunderbird", "ACCEPTED", Status.ACCEPTED),
    ],
)
def test_a_calendar_answer_becomes_the_reply_with_its_confirmation(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path, shape: str, partstat: str, status: str
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.calendar_reply(sent, partstat, shape))

    report = fetch_once()

    assert report.fetched == 1 and report.kinds[InboundKind.CALENDAR_REPLY] == 1
    assert _status("amina@example.org") == status
    with read_session() as session:
        log = session.exec(select(ReplyLog)).one()
        assert log.actor == "calendar" and log.to_status == status
        kinds = session.exec(select(Message.kind)).all()
    assert kinds.count(MessageKind.CONFIRMATION) == 1
    assert len(mailbox.folder(PROCESSED)) == 1 and mailbox.folder("INBOX") == []
    # A second fetch finds nothing, changes nothing.
    assert fetch_once().fetched == 0
    with read_session() as session:
        assert len(session.exec(select(ReplyLog)).all()) == 1


def test_the_attendee_matches_whatever_the_case_of_the_address(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["jean@example.org"]
    mailbox.deliver(
        support.calendar_reply(
            sent, "ACCEPTED", "outlook", sender="Jean@Example.ORG", attendee="JEAN@example.org"
        )
    )
    fetch_once()
    assert _status("jean@example.org") == Status.ACCEPTED


@pytest.mark.parametrize(
    "auth",
    [
        None,  # no verdict at all
        "mx.attacker.test; dkim=pass header.d=example.org; dmarc=pass header.from=example.org",
        f"{support.AUTHSERV}; dkim=pass header.d=elsewhere.test; dmarc=fail "
        "header.from=example.org",
    ],
)
def test_a_reply_that_cannot_be_proven_waits_for_staff(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path, auth: str | None
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.calendar_reply(sent, "ACCEPTED", "gmail", auth=auth))
    report = fetch_once()
    assert report.states[InboundState.HELD] == 1
    assert _status("amina@example.org") == Status.INVITED
    [row] = _rows()
    assert row.state == InboundState.HELD and row.invitation_id is not None


def test_a_reply_from_another_address_than_the_attendee_waits(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(
        support.calendar_reply(sent, "ACCEPTED", "outlook", sender="someone@attacker.test")
    )
    fetch_once()
    assert _status("amina@example.org") == Status.INVITED
    assert _rows()[0].state == InboundState.HELD


def test_an_older_sequence_is_still_a_reply_and_a_comment_is_kept(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["li@example.org"]
    older = support.Sent(sent.address, sent.uid, 0, sent.organizer, sent.message_id)
    mailbox.deliver(
        support.calendar_reply(
            older, "DECLINED", "thunderbird", extra="COMMENT:Travelling to Geneva that week\r\n"
        )
    )
    fetch_once()
    assert _status("li@example.org") == Status.DECLINED
    assert "Travelling to Geneva" in _rows()[0].summary


def test_a_counter_proposal_is_shown_not_applied(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.calendar_reply(sent, "TENTATIVE", "outlook", method="COUNTER"))
    report = fetch_once()
    assert report.kinds[InboundKind.COUNTER] == 1
    assert _status("amina@example.org") == Status.INVITED
    assert "another time" in _rows()[0].summary


def test_delegated_to_names_a_representative_whose_own_reply_counts(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(
        support.calendar_reply(
            sent,
            "DELEGATED",
            "outlook",
            attendee_params=';DELEGATED-TO="mailto:deputy@example.org"',
        )
    )
    fetch_once()
    assert _status("deputy@example.org") == Status.INVITED
    with read_session() as session:
        amina = session.exec(
            select(Invitation).where(Invitation.represented_by_id.is_not(None))  # type: ignore[union-attr]
        ).one()
    assert amina.represented_by_id is not None
    # The representative's own calendar answers their invitation.
    deputy = support.Sent(
        "deputy@example.org", sent.uid, sent.sequence, sent.organizer, "<none@example.org>"
    )
    mailbox.deliver(support.calendar_reply(deputy, "ACCEPTED", "apple"))
    fetch_once()
    assert _status("deputy@example.org") == Status.ACCEPTED


@pytest.mark.parametrize(
    "make", [support.postfix_bounce, support.exchange_bounce, support.gmail_bounce]
)
def test_a_bounce_fails_the_message_and_marks_the_address(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path, make: object
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(make(sent))  # type: ignore[operator]
    report = fetch_once()
    assert report.kinds[InboundKind.BOUNCE] == 1
    with read_session() as session:
        message = session.exec(select(Message).where(Message.message_id == sent.message_id)).one()
        contact = session.exec(select(Contact).where(Contact.email == sent.address)).one()
    assert message.status == MessageStatus.FAILED
    assert contact.bounced_at is not None and contact.bounce_reason
    assert "5." in contact.bounce_reason


def test_a_delay_is_noted_not_failed(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.postfix_bounce(sent, status="4.4.1", action="delayed"))
    report = fetch_once()
    assert report.kinds[InboundKind.DELAY] == 1
    with read_session() as session:
        message = session.exec(select(Message).where(Message.message_id == sent.message_id)).one()
        contact = session.exec(select(Contact).where(Contact.email == sent.address)).one()
    assert message.status == MessageStatus.SENT and contact.bounced_at is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Auto-Response-Suppress": "All", "Precedence": "bulk"},
    ],
)
def test_an_auto_reply_is_a_note_and_never_answered(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path, headers: dict[str, str]
) -> None:
    sent = support.send_the_invitations(tmp_path)["jean@example.org"]
    with read_session() as session:
        before = len(session.exec(select(Message)).all())
    mailbox.deliver(
        support.auto_reply(sent, "I am out of the office until 30 September. Thank you.", headers)
    )
    report = fetch_once()
    assert report.kinds[InboundKind.AUTO_REPLY] == 1
    [row] = _rows()
    assert row.summary == "out of office until 30 September"
    assert row.invitation_id is not None
    assert _status("jean@example.org") == Status.INVITED
    with read_session() as session:
        assert len(session.exec(select(Message)).all()) == before


def test_a_person_writing_back_is_listed_with_their_invitation(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["li@example.org"]
    mailbox.deliver(support.human_mail(sent, "Dr. Li will attend with an adviser."))
    report = fetch_once()
    assert report.kinds[InboundKind.HUMAN] == 1
    [row] = _rows()
    assert row.summary == "Dr. Li will attend with an adviser."
    assert row.invitation_id is not None and row.state == InboundState.NOTED


def test_junk_goes_to_the_unreadable_folder(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["li@example.org"]
    broken = (
        support.calendar_reply(sent, "ACCEPTED", "thunderbird")
        .replace(b"BEGIN:VEVENT", b"BEGIN:VEVENT\r\nDTSTART;TZID=Nowhere:notadate")
        .replace(b"END:VCALENDAR", b"")
    )
    mailbox.deliver(broken, b"\x00\xff not a message at all")
    report = fetch_once()
    assert report.kinds[InboundKind.UNREADABLE] == 2
    assert len(mailbox.folder(UNREADABLE)) == 2 and mailbox.folder("INBOX") == []
    assert _status("li@example.org") == Status.INVITED


def test_replies_bounces_and_a_second_fetch_on_both_databases(
    engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)
    mailbox.deliver(
        support.calendar_reply(sent["amina@example.org"], "ACCEPTED", "outlook"),
        support.postfix_bounce(sent["jean@example.org"]),
        support.calendar_reply(sent["li@example.org"], "TENTATIVE", "gmail", auth=None),
    )
    report = fetch_once()
    assert report.states == {"applied": 2, "held": 1}
    assert _status("amina@example.org") == Status.ACCEPTED
    assert fetch_once().fetched == 0
    assert [row.state for row in _rows()] == ["applied", "applied", "held"]


def test_a_reply_after_the_deadline_is_shown_not_recorded(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    mailbox.deliver(support.calendar_reply(sent, "ACCEPTED", "outlook"))
    fetch_once(now=datetime(2027, 9, 22, tzinfo=UTC))  # after the RSVP deadline of the 20th
    assert _status("amina@example.org") == Status.INVITED
    [row] = _rows()
    assert row.state == InboundState.NOTED and "not recorded: deadline passed" in row.summary


def test_gmails_guest_count_comes_with_the_acceptance(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path, max_guests="1")["jean@example.org"]
    mailbox.deliver(
        support.calendar_reply(sent, "ACCEPTED", "gmail", attendee_params=";X-NUM-GUESTS=1")
    )
    fetch_once()
    with read_session() as session:
        log = session.exec(select(ReplyLog)).one()
    assert (log.to_status, log.guests) == (Status.ACCEPTED, 1)
