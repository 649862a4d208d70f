"""Transports against real things: an aiosmtpd server, a folder, standard output."""

from __future__ import annotations

import os
import smtplib
import threading
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from roundtable.mail.mime import POLICY
from roundtable.mail.transports import (
    ConsoleTransport,
    FileTransport,
    PacedTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    dot_stuffed,
    file_name,
    open_transport,
    redacted_url,
    wire_bytes,
)
from tests.mail.smtp_server import REPLY_TEXT, SmtpSink


def message(number: int, *, bcc: str | None = None) -> EmailMessage:
    mail = EmailMessage(policy=POLICY)
    mail["From"] = "IOM New York <events@iom.example.org>"
    mail["To"] = f"Invitee {number} <invitee{number}@example.org>"
    if bcc:
        mail["Bcc"] = bcc
    mail["Subject"] = f"Message {number}"
    mail["Message-ID"] = f"<msg-{number}.abc123@iom.example.org>"
    mail.set_content(f"Hello number {number}.\n")
    return mail


def test_twenty_messages_travel_over_one_connection(smtp_sink: SmtpSink) -> None:
    with open_transport(smtp_sink.url) as transport:
        for number in range(20):
            transport.send(message(number))
    assert smtp_sink.connections == 1
    assert smtp_sink.greetings == 1
    assert [m.message["Subject"] for m in smtp_sink.messages] == [f"Message {n}" for n in range(20)]
    first = smtp_sink.messages[0]
    assert first.sender == "events@iom.example.org"
    assert first.recipients == ("invitee0@example.org",)
    assert first.data.endswith(b"Hello number 0.\r\n")


def test_a_451_is_temporary_and_the_connection_stays_usable(smtp_sink: SmtpSink) -> None:
    transport = open_transport(smtp_sink.url)
    transport.send(message(1))
    smtp_sink.fail_next(451)
    with pytest.raises(TemporaryFailure) as failure:
        transport.send(message(2))
    assert failure.value.code == 451
    assert "4.3.0" in failure.value.text
    transport.send(message(3))  # after RSET, on the same connection
    transport.close()
    assert [m.message["Subject"] for m in smtp_sink.messages] == ["Message 1", "Message 3"]
    assert smtp_sink.connections == 1


@pytest.mark.parametrize(("code", "stage"), [(550, "rcpt"), (554, "data"), (553, "mail")])
def test_a_5xx_is_permanent_with_its_code_and_text(
    smtp_sink: SmtpSink, code: int, stage: str
) -> None:
    smtp_sink.fail_next(code, stage=stage)  # type: ignore[arg-type]
    with open_transport(smtp_sink.url) as transport:
        with pytest.raises(PermanentFailure) as failure:
            transport.send(message(1))
        transport.send(message(2))
    assert failure.value.code == code
    assert failure.value.text == REPLY_TEXT[code]
    assert str(failure.value).startswith(f"{code} ")
    assert [m.message["Subject"] for m in smtp_sink.messages] == ["Message 2"]


def test_a_refused_recipient_says_why(smtp_sink: SmtpSink) -> None:
    smtp_sink.rule = lambda recipient, attempt: 550 if recipient.startswith("invitee7@") else None
    with open_transport(smtp_sink.url) as transport:
        with pytest.raises(PermanentFailure) as failure:
            transport.send(message(7))
        transport.send(message(8))
    assert failure.value.code == 550
    assert "5.1.1" in failure.value.text
    assert len(smtp_sink.messages) == 1


def test_a_4xx_for_a_recipient_is_temporary(smtp_sink: SmtpSink) -> None:
    smtp_sink.rule = lambda recipient, attempt: 450 if attempt == 1 else None
    with open_transport(smtp_sink.url) as transport:
        with pytest.raises(TemporaryFailure) as failure:
            transport.send(message(1))
        transport.send(message(1))
    assert failure.value.code == 450
    assert len(smtp_sink.messages) == 1


def test_no_server_is_a_temporary_failure_without_a_code(smtp_sink: SmtpSink) -> None:
    url = smtp_sink.url
    smtp_sink.stop()
    with pytest.raises(TemporaryFailure) as failure:
        open_transport(url).send(message(1))
    assert failure.value.code is None
    assert "cannot connect" in failure.value.text


def test_a_server_gone_after_some_messages_is_a_temporary_failure(smtp_sink: SmtpSink) -> None:
    transport = open_transport(smtp_sink.url)
    transport.send(message(1))
    smtp_sink.stop()
    with pytest.raises(TemporaryFailure):
        transport.send(message(2))
    transport.close()


def test_a_connection_closed_by_the_server_while_idle_is_reopened_once(
    smtp_sink: SmtpSink,
) -> None:
    with open_transport(smtp_sink.url) as transport:
        transport.send(message(1))
        smtp_sink.drop_connections()
        transport.send(message(2))
        smtp_sink.fail_next(421, stage="mail")  # "closing the channel": reopen and retry
        transport.send(message(3))
    assert [m.message["Subject"] for m in smtp_sink.messages] == [
        "Message 1",
        "Message 2",
        "Message 3",
    ]
    assert smtp_sink.connections == 3


def test_a_slow_server_times_out_as_a_temporary_failure(smtp_sink: SmtpSink) -> None:
    smtp_sink.delay = 1.0
    transport = open_transport(f"{smtp_sink.url}?timeout=0.2")
    with pytest.raises(TemporaryFailure) as failure:
        transport.send(message(1))
    assert failure.value.code is None
    smtp_sink.delay = 0.0
    transport.send(message(2))  # on a fresh connection
    transport.close()
    assert smtp_sink.connections == 2


def test_bcc_recipients_are_in_the_envelope_but_not_in_the_message(smtp_sink: SmtpSink) -> None:
    with open_transport(smtp_sink.url) as transport:
        transport.send(message(1, bcc="archive@iom.example.org"))
    received = smtp_sink.messages[0]
    assert received.recipients == ("invitee1@example.org", "archive@iom.example.org")
    assert received.message["Bcc"] is None
    assert b"archive@" not in received.data


def test_lines_that_start_with_a_dot_arrive_as_they_were_written(smtp_sink: SmtpSink) -> None:
    mail = message(1)
    mail.set_content(".first line\n.\n..\n. a dot, then a space\nmiddle\n.last")
    with open_transport(smtp_sink.url) as transport:
        transport.send(mail)
    received = smtp_sink.messages[0]
    # The server undid the stuffing: what arrived is what was written, the lone dot
    # included (it did not end the message early).
    assert received.data == wire_bytes(mail)
    assert received.data.endswith(b"\r\n.\r\n..\r\n. a dot, then a space\r\nmiddle\r\n.last\r\n")


@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b" "]), max_size=30))
@example([b"."])
@example([])
@example([b"a", b"\r\n"])
def test_the_dot_stuffing_is_smtplibs(pieces: list[bytes]) -> None:
    """The same bytes as ``smtplib.SMTP.data`` sends for any message, lone CR and LF included."""
    data = b"".join(pieces)
    expected = smtplib._quote_periods(data)  # type: ignore[attr-defined]  # what data() sends
    if expected[-2:] != b"\r\n":
        expected += b"\r\n"
    assert dot_stuffed(data) == expected + b".\r\n"


def test_the_smtp_url_is_read_and_its_password_never_shown() -> None:
    url = "smtp://mailer:s%40cret!@mail.example.org:2525?tls=starttls&timeout=5"
    transport = open_transport(url)
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port, transport.tls) == ("mail.example.org", 2525, "starttls")
    assert transport.username == "mailer"
    assert transport.timeout == 5.0
    assert "cret" not in repr(transport)
    assert redacted_url(url) == "smtp://mailer:***@mail.example.org:2525?tls=starttls&timeout=5"
    assert redacted_url("smtp://mail.example.org:25") == "smtp://mail.example.org:25"
    ssl_default = open_transport("smtp://mail.example.org?tls=ssl")
    assert isinstance(ssl_default, SmtpTransport) and ssl_default.port == 465
    for bad in (
        "smtp://u:secret@host:25?tls=maybe",
        "smtp://u:secret@host:25?retries=3",
        "smtp://u:secret@host:notaport",
        "smtps://u:secret@host:465",
    ):
        with pytest.raises(ValueError) as error:
            open_transport(bad)
        assert "secret" not in str(error.value)


def test_a_connection_failure_does_not_reveal_the_password(smtp_sink: SmtpSink) -> None:
    url = f"smtp://mailer:hunter2@127.0.0.1:{smtp_sink.port}"
    smtp_sink.stop()
    with pytest.raises(TemporaryFailure) as failure:
        open_transport(url).send(message(1))
    assert "hunter2" not in str(failure.value)


def test_the_file_transport_writes_one_complete_file_per_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    transport = open_transport("file://var/outbox")
    assert isinstance(transport, FileTransport)
    assert transport.folder == tmp_path / "var" / "outbox"
    expected = {}
    for number in range(5):
        mail = message(number)
        transport.send(mail)
        expected[file_name(mail)] = mail.as_bytes(policy=SMTP)
    transport.send(message(0))  # a resend replaces its file
    files = sorted(os.listdir(tmp_path / "var" / "outbox"))
    assert files == sorted(expected)
    assert files[0] == "msg-0.abc123@iom.example.org.eml"
    for name, data in expected.items():
        assert (tmp_path / "var" / "outbox" / name).read_bytes() == data


def test_a_reader_of_the_outbox_never_sees_half_a_message(tmp_path: Path) -> None:
    transport = open_transport(f"file://{tmp_path}")
    big = message(0)
    big.set_content("x" * 2_000_000)
    complete = big.as_bytes(policy=SMTP)
    seen: list[bytes] = []
    done = threading.Event()

    def read_continuously() -> None:
        while not done.is_set():
            for path in tmp_path.glob("*.eml"):
                seen.append(path.read_bytes())

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for _ in range(10):
            transport.send(big)
    finally:
        done.set()
        reader.join()
    assert all(data == complete for data in seen)
    assert [p.name for p in tmp_path.iterdir()] == [file_name(big)]


def test_an_unwritable_outbox_is_a_temporary_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TemporaryFailure, match="cannot write"):
        FileTransport(blocker).send(message(1))


def test_file_names_come_from_the_message_id_made_safe() -> None:
    mail = message(1)
    del mail["Message-ID"]
    mail["Message-ID"] = "<../../etc/passwd@evil/x>"
    assert file_name(mail) == "_.._etc_passwd@evil_x.eml"
    del mail["Message-ID"]
    assert file_name(mail).startswith("message-")


def test_the_console_transport_prints_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    transport = open_transport("console://")
    assert isinstance(transport, ConsoleTransport)
    transport.send(message(3))
    printed = capsys.readouterr().out
    assert "Subject: Message 3\n" in printed
    assert "Hello number 3." in printed
    assert "\r" not in printed


def test_a_rate_spaces_the_sends() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 6))
        now[0] += seconds

    sent: list[str] = []

    class Recorder(ConsoleTransport):
        def send(self, message: EmailMessage) -> None:
            sent.append(str(message["Subject"]))

    paced = PacedTransport(Recorder(), rate=4, clock=lambda: now[0], sleep=sleep)
    for number in range(4):
        paced.send(message(number))
    assert sleeps == [0.25, 0.25, 0.25]
    assert sent == ["Message 0", "Message 1", "Message 2", "Message 3"]
    now[0] += 10  # after a pause, no waiting
    paced.send(message(4))
    assert sleeps == [0.25, 0.25, 0.25]


def test_open_transport_applies_the_rate() -> None:
    paced = open_transport("console://", rate=5)
    assert isinstance(paced, PacedTransport)
    assert paced.interval == pytest.approx(0.2)
    assert isinstance(open_transport("console://", rate=0), ConsoleTransport)
