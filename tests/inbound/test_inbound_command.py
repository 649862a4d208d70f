"""``roundtable inbound fetch``, beat's schedule entry, and ``serve``'s reader without a broker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from roundtable.broker import INBOUND_FETCH, beat_schedule
from roundtable.cli import app
from roundtable.config import get_settings
from roundtable.invitations.model import Status
from roundtable.serve import start_inbound_poller_if_needed
from tests.inbound import support
from tests.inbound.dovecot import ImapUser
from tests.inbound.test_inbound_fetch import _status
from tests.ports import free_port

runner = CliRunner()


def test_fetch_prints_what_it_read_as_json(
    sqlite_engine: Engine, mailbox: ImapUser, tmp_path: Path
) -> None:
    sent = support.send_the_invitations(tmp_path)
    mailbox.deliver(
        support.calendar_reply(sent["amina@example.org"], "ACCEPTED", "apple"),
        support.gmail_bounce(sent["jean@example.org"]),
        support.auto_reply(sent["li@example.org"], "Out of office until Monday."),
    )
    result = runner.invoke(app, ["inbound", "fetch", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["fetched"] == 3
    assert (document["calendar_reply"], document["bounce"], document["auto_reply"]) == (1, 1, 1)
    assert document["states"]["applied"] == 2
    again = json.loads(runner.invoke(app, ["inbound", "fetch", "--json"]).stdout)
    assert again["fetched"] == 0
    text = runner.invoke(app, ["inbound", "fetch"])
    assert text.exit_code == 0 and "0 message(s) read" in text.stdout


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("pop3://user:pass@127.0.0.1/INBOX", "imap:// or imaps://"),
        ("imap://127.0.0.1/INBOX", "USER:PASS@"),
        ("imap://user:pass@127.0.0.1:{port}/INBOX", "mailbox 127.0.0.1"),
    ],
)
def test_a_bad_or_unreachable_mailbox_is_exit_1_with_a_message(
    sqlite_engine: Engine, env: pytest.MonkeyPatch, url: str, words: str
) -> None:
    env.setenv("ROUNDTABLE_INBOUND_URL", url.format(port=free_port()))
    get_settings.cache_clear()
    result = runner.invoke(app, ["inbound", "fetch"])
    assert result.exit_code == 1
    assert words in result.stderr and "Traceback" not in result.output
    assert "pass@" not in result.stderr  # the password is never printed


def test_without_a_url_the_command_says_so(sqlite_engine: Engine) -> None:
    result = runner.invoke(app, ["inbound", "fetch"])
    assert result.exit_code == 1 and "ROUNDTABLE_INBOUND_URL" in result.stderr


def test_beat_reads_the_mailbox_every_interval_only_when_one_is_set(
    env: pytest.MonkeyPatch,
) -> None:
    assert "inbound-fetch" not in beat_schedule()
    env.setenv("ROUNDTABLE_INBOUND_URL", "imaps://u:p@imap.example.org/INBOX")
    env.setenv("ROUNDTABLE_INBOUND_INTERVAL", "45")
    get_settings.cache_clear()
    entry = beat_schedule()["inbound-fetch"]
    assert entry["task"] == INBOUND_FETCH and entry["schedule"] == 45.0
    from workers.app import app as celery

    celery.loader.import_default_modules()
    assert INBOUND_FETCH in celery.tasks


def test_serve_without_a_broker_reads_the_mailbox_in_process(
    sqlite_engine: Engine, mailbox: ImapUser, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("ROUNDTABLE_INBOUND_INTERVAL", "0.5")
    get_settings.cache_clear()
    sent = support.send_the_invitations(tmp_path)["amina@example.org"]
    stop = start_inbound_poller_if_needed()
    assert stop is not None
    try:
        mailbox.deliver(support.calendar_reply(sent, "ACCEPTED", "gmail"))
        deadline = time.monotonic() + 20
        while _status(sent.address) != Status.ACCEPTED and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
    assert _status(sent.address) == Status.ACCEPTED
