"""The mailbox reader fed broken MIME, wrong charsets, huge parts and calendar bombs.

It never raises: whatever it cannot understand is ``unreadable``, and through a real
fetch such a message lands in ``Roundtable/Unreadable`` while the fetch goes on.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from roundtable.inbound.model import InboundKind
from roundtable.inbound.reading import read_message
from roundtable.workflows.inbound import fetch_once
from tests.fuzz.strategies import FUZZ, scaled
from tests.inbound.conftest import dovecot_server, mailbox  # noqa: F401 - the real server
from tests.inbound.dovecot import ImapUser

REPLY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
    "UID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20270901T120000Z\r\n"
    "ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
)
#: what no reply needs: components by the thousand, nesting, one endless line, odd values
BOMBS = [
    "BEGIN:VEVENT\r\nEND:VEVENT\r\n" * 5000,
    "BEGIN:VALARM\r\n" * 3000 + "END:VALARM\r\n" * 3000,
    "COMMENT:" + "x" * 300_000 + "\r\n",
    "DTSTART;TZID=Nowhere:not-a-date\r\n",
    "ATTENDEE;PARTSTAT=ACCEPTED;DELEGATED-TO=:mailto:\r\n",
    "BEGIN:VEVENT\r\n",
    "RRULE:FREQ=SECONDLY;COUNT=99999999999\r\n",
]
CHARSETS = ["utf-8", "us-ascii", "bogus-charset", "utf-16", "iso-2022-jp", "", "x-unknown"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus"]


@st.composite
def broken_messages(draw: st.DrawFn) -> bytes:
    """A mail whose every layer may be wrong: headers, boundaries, charsets, encodings, parts."""
    calendar = REPLY.format(
        uid=draw(st.sampled_from(["inter-ethnic-city@roundtable.test", "", "x" * 400])),
        sequence=draw(st.sampled_from(["0", "-3", "nine", "99999999999999999999"])),
        partstat=draw(st.sampled_from(["ACCEPTED", "DECLINED", "", "X-WHATEVER", "DELEGATED"])),
        attendee=draw(st.sampled_from(["amina@example.org", "", "not an address", "@@"])),
        extra=draw(st.sampled_from(["", *BOMBS])),
    )
    if draw(st.booleans()):
        calendar = calendar.replace(
            draw(st.sampled_from(["END:VCALENDAR", "BEGIN:VEVENT", ":", "\r\n"])), ""
        )
    body = draw(st.binary(max_size=300))
    boundary = draw(st.sampled_from(["b1", "", '"', "b1\r\nX: y", "a" * 200]))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    headers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["From", "Subject", "Message-ID", "Auto-Submitted", "Content-Type", "X-Junk"]
                ),
                st.text(max_size=60),
            ),
            max_size=5,
        )
    )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    closing = draw(st.sampled_from([f"--{boundary}--\r\n", "", f"--{boundary}\r\n"]))
    raw = (
        (
            f"{head}From: someone@example.org\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/{draw(st.sampled_from(['mixed', 'report', 'alternative']))}; "
            f'boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        ).encode("utf-8", "surrogateescape")
        + body
        + (
            f"\r\n--{boundary}\r\nContent-Type: text/calendar; method=REPLY; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{calendar}\r\n{closing}"
        ).encode("utf-8", "surrogateescape")
    )
    return raw


@settings(FUZZ, max_examples=scaled(300))
@given(raw=st.one_of(broken_messages(), st.binary(max_size=2000)))
@example(raw=b"")
@example(raw=b"\x00" * 100)
@example(raw=b"Content-Type: multipart/mixed\r\n\r\n" + b"--\r\n" * 10_000)
@example(raw=b"From: a@b.c\r\n\r\n" + b"x" * 6_000_000)
def test_the_reader_never_raises(raw: bytes) -> None:
    reading = read_message(raw)
    assert reading.kind in tuple(InboundKind)
    assert reading.key
    if reading.kind == InboundKind.UNREADABLE:
        assert reading.note  # why, for staff


@settings(FUZZ, max_examples=scaled(60))
@given(bomb=st.sampled_from(BOMBS[:3]))
def test_a_calendar_bomb_is_unreadable(bomb: str) -> None:
    calendar = REPLY.format(
        uid="u@x", sequence="0", partstat="ACCEPTED", attendee="a@example.org", extra=bomb
    )
    raw = (
        "From: a@example.org\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n" + calendar
    ).encode()
    assert read_message(raw).kind == InboundKind.UNREADABLE


@settings(FUZZ, max_examples=scaled(25))
@given(messages=st.lists(broken_messages(), min_size=1, max_size=4))
def test_a_fetch_of_junk_goes_on_and_files_every_message(
    sqlite_engine: Engine,
    mailbox: ImapUser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    messages: list[bytes],
) -> None:
    before = len(mailbox.folder("Roundtable/Unreadable")) + len(
        mailbox.folder("Roundtable/Processed")
    )
    # IMAP APPEND takes no NUL outside a binary literal; everything else goes in as it is.
    mailbox.deliver(*(raw.replace(b"\x00", b"") for raw in messages))
    fetch_once()
    after = len(mailbox.folder("Roundtable/Unreadable")) + len(
        mailbox.folder("Roundtable/Processed")
    )
    assert mailbox.folder("INBOX") == []
    assert after - before == len(messages)
