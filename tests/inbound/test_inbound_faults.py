"""Faults while reading the mailbox: the fetch killed mid-batch, the IMAP server restarted.

Afterwards every reply is applied exactly once: nothing lost, nothing twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

import roundtable
from roundtable.db import read_session
from roundtable.inbound.mailbox import MailboxError
from roundtable.inbound.model import InboundMessage
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.mail.model import Message, MessageKind
from roundtable.workflows.inbound import fetch_once
from tests.inbound import support
from tests.inbound.dovecot import Dovecot, ImapUser

COUNT = 60


def _invitees(count: int) -> bytes:
    rows = "".join(f"person{n}@example.org,Ms.,Person,Number {n},en\n" for n in range(count))
    return ("email,honorific,first_name,last_name,language\n" + rows).encode()


def _count(model: type, *where: object) -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def _deliver_replies(mailbox: ImapUser, tmp_path: Path) -> None:
    sent = support.send_the_invitations(tmp_path, _invitees(COUNT))
    shapes = ("outlook", "gmail", "apple", "thunderbird")
    mailbox.deliver(
        *(
            support.calendar_reply(invite, "ACCEPTED", shapes[n % 4])
            for n, invite in enumerate(sent.values())
        )
    )


def _exactly_once(mailbox: ImapUser) -> None:
    assert _count(InboundMessage) == COUNT
    assert _count(ReplyLog) == COUNT
    assert _count(Invitation, Invitation.status == Status.ACCEPTED) == COUNT
    assert _count(Message, Message.kind == MessageKind.CONFIRMATION) == COUNT
    assert mailbox.folder("INBOX") == []
    assert len(mailbox.folder("Roundtable/Processed")) == COUNT


def test_a_fetch_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    _deliver_replies(mailbox, tmp_path)
    fetch = subprocess.Popen(
        [sys.executable, "-m", "roundtable.cli", "inbound", "fetch"],
        # This checkout's library, whatever the working directory (the test runs in tmp_path).
        env=os.environ | {"PYTHONPATH": str(Path(roundtable.__file__).resolve().parents[1])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while _count(InboundMessage) < 3 and time.monotonic() < deadline and fetch.poll() is None:
        time.sleep(0.01)
    fetch.send_signal(signal.SIGKILL)
    fetch.wait(10)
    done_before = _count(InboundMessage)
    assert 0 < done_before < COUNT, f"the kill came at {done_before} of {COUNT}"

    fetch_once()

    _exactly_once(mailbox)


def test_the_imap_server_restarted_mid_fetch_loses_nothing(
    sqlite_engine: Engine, mailbox: ImapUser, dovecot_server: Dovecot, tmp_path: Path
) -> None:
    _deliver_replies(mailbox, tmp_path)
    failures: list[Exception] = []

    def fetch() -> None:
        try:
            fetch_once()
        except MailboxError as error:
            failures.append(error)

    reader = threading.Thread(target=fetch)
    reader.start()
    deadline = time.monotonic() + 60
    while _count(InboundMessage) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    dovecot_server.restart()
    reader.join(60)
    assert failures, "the fetch finished before the server went away"
    assert _count(InboundMessage) < COUNT

    done_before = _count(InboundMessage)

    report = fetch_once()

    assert report.fetched == COUNT - done_before
    _exactly_once(mailbox)
