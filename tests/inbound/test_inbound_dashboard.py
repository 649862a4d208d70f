"""Held calendar replies on the event page: staff apply or ignore them, a viewer cannot."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.inbound.model import InboundKind, InboundMessage, InboundState
from roundtable.invitations.model import ReplyLog, Status
from roundtable.mail.model import Message, MessageKind
from roundtable.web.app import create_app
from roundtable.workflows.inbound import fetch_once
from tests.inbound import support
from tests.inbound.dovecot import ImapUser
from tests.inbound.test_inbound_fetch import _status
from tests.staff.staff_support import add_member, client_for, signed_in


def _held_id() -> int:
    with read_session() as session:
        row = session.exec(
            select(InboundMessage).where(InboundMessage.state == InboundState.HELD)
        ).one()
        assert row.id is not None
        return row.id


def test_staff_apply_a_held_reply_and_a_viewer_cannot(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)
    amina, jean = sent["amina@example.org"], sent["jean@example.org"]
    mailbox.deliver(
        support.calendar_reply(amina, "ACCEPTED", "outlook", auth=None),
        support.calendar_reply(jean, "DECLINED", "gmail", auth=None),
        support.postfix_bounce(sent["li@example.org"]),
    )
    fetch_once()
    add_member("admin@un.example.org", "admin")
    add_member("viewer@un.example.org", "viewer")
    app = create_app()
    with client_for(app) as admin, client_for(app) as viewer:
        admin_csrf = signed_in(admin, "admin@un.example.org")
        viewer_csrf = signed_in(viewer, "viewer@un.example.org")
        page = admin.get(f"/dashboard/events/{support.SLUG}").text
        assert "Calendar replies to confirm" in page and "someone" not in page
        assert page.count("/apply") == 2
        mailbox_page = admin.get(f"/dashboard/events/{support.SLUG}/mailbox").text
        assert "User unknown" in mailbox_page  # the bounce, with its diagnostic
        with read_session() as session:
            li = session.exec(
                select(InboundMessage).where(InboundMessage.kind == InboundKind.BOUNCE)
            ).one()
        invitee_page = admin.get(f"/dashboard/events/{support.SLUG}/invitees/{li.invitation_id}")
        assert "From their mailbox" in invitee_page.text and "User unknown" in invitee_page.text
        with read_session() as session:
            held = session.exec(
                select(InboundMessage).where(InboundMessage.state == InboundState.HELD)
            ).all()
        by_sender = {row.sender: row.id for row in held}

        refused = viewer.post(
            f"/dashboard/events/{support.SLUG}/mailbox/{by_sender[amina.address]}/apply",
            data={"csrf_token": viewer_csrf},
        )
        assert refused.status_code == 403
        assert _status(amina.address) == Status.INVITED

        applied = admin.post(
            f"/dashboard/events/{support.SLUG}/mailbox/{by_sender[amina.address]}/apply",
            data={"csrf_token": admin_csrf},
        )
        assert applied.status_code == 303 and "calendar_applied" in applied.headers["location"]
        ignored = admin.post(
            f"/dashboard/events/{support.SLUG}/mailbox/{by_sender[jean.address]}/ignore",
            data={"csrf_token": admin_csrf},
        )
        assert "calendar_ignored" in ignored.headers["location"]
        again = admin.post(
            f"/dashboard/events/{support.SLUG}/mailbox/{by_sender[amina.address]}/apply",
            data={"csrf_token": admin_csrf},
        )
        assert "calendar_unchanged" in again.headers["location"]
    assert _status(amina.address) == Status.ACCEPTED
    assert _status(jean.address) == Status.INVITED
    with read_session() as session:
        [log] = session.exec(select(ReplyLog)).all()
        confirmations = session.exec(
            select(Message).where(Message.kind == MessageKind.CONFIRMATION)
        ).all()
    assert log.actor == "calendar" and "admin@un.example.org" in log.reason
    assert len(confirmations) == 1


def test_unreadable_mail_is_listed_for_administrators(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    mailbox.deliver(b"Subject: =?bogus?Q?x?=\r\nFrom: nobody\r\n\r\n\xff\xfe")
    fetch_once()
    add_member("admin@un.example.org", "admin")
    with client_for(create_app()) as admin:
        signed_in(admin, "admin@un.example.org")
        page = admin.get("/dashboard/mailbox")
    assert page.status_code == 200 and "no sender address" in page.text
