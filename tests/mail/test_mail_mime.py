"""MIME assembly: structure, calendar method, headers that user data cannot forge, wire format."""

from __future__ import annotations

import binascii
import email
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP, compat32, default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roundtable.mail.mime import (
    AUTO_SUBMITTED_KINDS,
    POLICY,
    WIRE_POLICY,
    assemble,
    calendar_method_of,
    clean,
    is_auto_submitted,
    make_message_id,
    quoted_printable,
    wire_form,
)
from roundtable.mail.render import RenderedMail, render
from tests.mail.samples import arabic_contact, sample_context

#: an installation's random part of its Message-IDs
PART = "5e1f0a9c3b27"
DATE = datetime(2027, 9, 1, 14, 30, tzinfo=UTC)
SENDER = ("IOM New York", "events@iom.example.org")
RECIPIENT = ("Dr. Ciarán O'Brien", "c.obrien@mission.example.org")
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Roundtable//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:0b8f7c1e-uid@roundtable.example.org\r\nSEQUENCE:0\r\n"
    "SUMMARY:Café des migrations\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def invitation() -> RenderedMail:
    return render("invitation", sample_context("invitation"))


def build(rendered: RenderedMail | None = None, **options: object) -> EmailMessage:
    values: dict[str, object] = {
        "sender": SENDER,
        "recipient": RECIPIENT,
        "message_id": make_message_id(42, "iom.example.org", installation=PART),
        "date": DATE,
    }
    values.update(options)
    return assemble(rendered or invitation(), **values)  # type: ignore[arg-type]


def parsed(message: EmailMessage) -> EmailMessage:
    result = email.message_from_bytes(message.as_bytes(policy=SMTP), policy=default)
    assert isinstance(result, EmailMessage)
    return result


def structure(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def test_an_invitation_is_mixed_alternative_with_the_calendar_twice() -> None:
    message = parsed(build(calendar=CALENDAR, calendar_method="request"))
    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    inline = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == "REQUEST"
    assert inline.get_content_charset() == "utf-8"
    assert inline.get_content_disposition() is None
    assert inline.get_content().replace("\r\n", "\n") == CALENDAR.decode().replace("\r\n", "\n")
    attached = next(p for p in message.walk() if p.get_content_type() == "application/ics")
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "invite.ics"
    assert attached.get_content() == CALENDAR


def test_without_a_calendar_the_message_is_just_the_two_alternatives() -> None:
    rendered = invitation()
    message = parsed(build(rendered))
    assert structure(message) == ["multipart/alternative", "text/plain", "text/html"]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == rendered.text
    assert html.get_content().replace("\r\n", "\n") == rendered.html


def test_the_content_type_method_is_the_calendars_own() -> None:
    cancel = CALENDAR.replace(b"METHOD:REQUEST", b"METHOD:CANCEL")
    assert calendar_method_of(cancel, None) == "CANCEL"
    assert calendar_method_of(cancel, "cancel") == "CANCEL"
    with pytest.raises(ValueError, match="METHOD is CANCEL but REQUEST was given"):
        calendar_method_of(cancel, "REQUEST")
    with pytest.raises(ValueError, match="no METHOD"):
        calendar_method_of(cancel.replace(b"METHOD:CANCEL\r\n", b""), None)
    message = parsed(build(calendar=cancel))
    inline = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == "CANCEL"


def test_headers_name_sender_recipient_and_the_message() -> None:
    message = parsed(
        build(
            reply_to=("Ana Pérez", "aperez@iom.example.org"),
            list_unsubscribe="https://rsvp.example.org/rsvp/tok/unsubscribe",
            language="fr",
        )
    )
    assert message["From"].addresses[0].addr_spec == "events@iom.example.org"
    assert message["From"].addresses[0].display_name == "IOM New York"
    assert message["To"].addresses[0].display_name == "Dr. Ciarán O'Brien"
    assert message["Reply-To"].addresses[0].display_name == "Ana Pérez"
    assert message["Message-ID"] == make_message_id(42, "iom.example.org", installation=PART)
    assert message["Date"].datetime == DATE
    assert message["MIME-Version"] == "1.0"
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == "<https://rsvp.example.org/rsvp/tok/unsubscribe>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == invitation().subject


def test_mail_sent_by_staff_decision_is_not_marked_automatic() -> None:
    message = parsed(build(auto_submitted=False))
    assert message["Auto-Submitted"] is None
    assert message["List-Unsubscribe"] is None
    assert set(AUTO_SUBMITTED_KINDS) == {"confirmation", "reminder", "nudge", "promotion"}
    assert is_auto_submitted("reminder") and not is_auto_submitted("invitation")


def test_line_breaks_in_user_data_never_make_a_header() -> None:
    rendered = RenderedMail(
        subject="Hello\r\nBcc: victim@evil.example\r\n\r\nbody",
        text="text\n",
        html="<p>html</p>\n",
    )
    message = build(
        rendered,
        sender=("IOM\r\nX-Injected: sender", "events@iom.example.org"),
        recipient=("Eve\nX-Injected: recipient\u2028X-Other: yes", "eve@example.org"),
        reply_to=("Ana\rX-Injected: reply", "aperez@iom.example.org"),
        message_id="<msg-1@example.org>\r\nX-Injected: id",
        list_unsubscribe="https://example.org/u\r\nX-Injected: unsubscribe",
        language="en\r\nX-Injected: language",
    )
    back = parsed(message)
    names = {name.lower() for name, _value in back.items()}
    assert names == {
        "from",
        "to",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "auto-submitted",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "content-type",
        "content-language",
    }
    assert back["Subject"] == "Hello Bcc: victim@evil.example body"
    assert back["To"].addresses[0].display_name == "Eve X-Injected: recipient X-Other: yes"
    raw = message.as_bytes(policy=SMTP)
    assert b"\r\nX-Injected" not in raw and b"\r\nBcc" not in raw


def test_every_line_ends_in_crlf_and_none_is_longer_than_998_octets() -> None:
    long_title = "Very long title " * 40
    rendered = RenderedMail(subject=long_title, text="x" * 2000 + "\n", html="<p>" + "y" * 3000)
    for message in (build(calendar=CALENDAR), build(rendered, calendar=CALENDAR)):
        raw = message.as_bytes(policy=SMTP)
        assert raw.endswith(b"\r\n")
        lines = raw.split(b"\r\n")
        assert all(b"\n" not in line and b"\r" not in line for line in lines)
        assert max(len(line) for line in lines) <= 998
        assert raw.isascii()


def test_arabic_and_chinese_names_are_encoded_words_and_read_back_intact() -> None:
    rendered = render("invitation", sample_context("invitation", arabic_contact()))
    message = build(
        rendered,
        sender=("联合国 纽约办事处", "events@iom.example.org"),
        recipient=("سعادة السيدة سارة القاسمي", "s.alqasimi@mission.example.org"),
    )
    raw = message.as_bytes(policy=SMTP)
    head = email.message_from_bytes(raw, policy=compat32)
    assert "=?utf-8?" in head["From"] and "=?utf-8?" in head["To"]
    # Decoded as RFC 2047 says: the space between two encoded words is not text.
    # (Python's own address parser keeps that space when a long name is folded
    # mid-word; mail clients do not.)
    assert str(make_header(decode_header(head["From"]))) == (
        "联合国 纽约办事处 <events@iom.example.org>"
    )
    assert str(make_header(decode_header(head["To"]))) == (
        "سعادة السيدة سارة القاسمي <s.alqasimi@mission.example.org>"
    )
    back = parsed(message)
    assert back["Subject"] == rendered.subject
    plain = back.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == rendered.text
    for part in back.walk():
        if part.get_content_maintype() == "text":
            assert part["Content-Transfer-Encoding"] in ("7bit", "quoted-printable")


def test_the_message_id_is_stable_for_a_row_and_unique_between_rows() -> None:
    first = make_message_id(42, "IOM.example.org", installation=PART)
    assert first == make_message_id(42, "iom.example.org", installation=PART)
    assert first == f"<msg-42.{PART}@iom.example.org>"
    assert make_message_id(43, "iom.example.org", installation=PART) != first
    assert make_message_id(42, "iom.example.org", installation="0123456789ab") != first
    for bad in ("", "exa mple.org", "example.org>\r\nX: y", "müller.example"):
        with pytest.raises(ValueError, match="Message-ID domain"):
            make_message_id(1, bad, installation=PART)
    for part in ("", "XYZ", "ab>\r\nX: y"):
        with pytest.raises(ValueError, match="installation part"):
            make_message_id(1, "iom.example.org", installation=part)


def test_clean_keeps_text_but_not_controls() -> None:
    assert clean("  H.E.\u00a0Ms.\tAmina\x00 Diallo\r\n") == "H.E.\u00a0Ms. Amina Diallo"


def test_plain_subjects_fold_at_spaces_and_unfold_to_the_same_text() -> None:
    from email import message_from_bytes
    from email.policy import default

    from roundtable.mail.mime import POLICY, _fold_plain

    for text in (
        "Short",
        "Invitation: " + "word " * 40 + "end",
        "a  b   c " + "x" * 120 + " tail",
        "Reminder: the High-Level Roundtable on the Inter-Ethnic City is tomorrow at 13:15",
    ):
        folded = _fold_plain("Subject", text, POLICY)
        lines = folded.split("\r\n")[:-1]
        assert all(len(line) <= 78 or " " not in line.strip() for line in lines)
        assert all(line.strip() for line in lines), "no whitespace-only continuation lines"
        parsed = message_from_bytes(folded.encode() + b"\r\n", policy=default)
        assert str(parsed["Subject"]) == text


# --- the wire form ------------------------------------------------------------------------

NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=120
) | st.sampled_from(
    [
        "السيد سفير المملكة",
        "王小明",
        'Ms. "Quoted", <script>alert(1)</script>',
        "Line\r\nBcc: intruder@example.org",
        "Ciarán O'Brien — Ambassador of Ireland to the United Nations in New York City",
    ]
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    name=NAMES,
    subject=NAMES,
    body=st.text(max_size=400),
    with_calendar=st.booleans(),
    unsubscribe=st.booleans(),
)
def test_the_wire_form_is_what_the_standard_generator_writes(
    name: str, subject: str, body: str, with_calendar: bool, unsubscribe: bool
) -> None:
    """Written out by hand for speed, byte for byte what ``as_bytes`` would send."""
    rendered = RenderedMail(subject=subject or "Invitation", text=body, html=f"<p>{body}</p>")
    message = build(
        rendered,
        recipient=(name, "invitee@example.org"),
        calendar=CALENDAR if with_calendar else None,
        reply_to=(name, "contact@iom.example.org"),
        list_unsubscribe="https://rsvp.example.org/rsvp/abc/unsubscribe" if unsubscribe else None,
    )
    assert wire_form(message) == message.as_bytes(policy=WIRE_POLICY)


@pytest.mark.parametrize("kind", ["invitation", "confirmation", "reminder", "followup"])
def test_every_kind_in_arabic_has_the_same_wire_form_as_the_generator(kind: str) -> None:
    rendered = render(kind, sample_context(kind, contact=arabic_contact()))
    message = build(rendered, calendar=CALENDAR)
    assert wire_form(message) == message.as_bytes(policy=WIRE_POLICY)


def test_a_message_of_another_shape_is_written_by_the_generator() -> None:
    """Built elsewhere (8-bit body, a preamble): the general writer, with CRLF line ends."""
    message = EmailMessage(policy=POLICY)
    message["From"] = "a@example.org"
    message.set_content("Grüße\n", cte="8bit")
    assert wire_form(message) == message.as_bytes(policy=WIRE_POLICY)
    other = EmailMessage()
    other["Subject"] = "plain"
    other.set_content("two\nlines\n")
    assert wire_form(other).endswith(b"two\r\nlines\r\n")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(name=NAMES)
def test_any_name_comes_back_from_the_wire_as_it_was_given(name: str) -> None:
    """Quoting, encoded words and folding: a reader gets the name and the address, nothing more."""
    message = build(recipient=(name, "invitee@example.org"), reply_to=(name, "desk@example.org"))
    received = email.message_from_bytes(wire_form(message), policy=default)
    for header, address in (("To", "invitee@example.org"), ("Reply-To", "desk@example.org")):
        (parsed_address,) = received[header].addresses
        assert parsed_address.addr_spec == address
        # Python 3.11's parser keeps the folding white space between two encoded
        # words, which RFC 2047 readers drop (test_address_headers.py checks the
        # exact reading); apart from white space it reads the name as given.
        assert "".join(parsed_address.display_name.split()) == "".join(clean(name).split())
    assert received["Bcc"] is None


def _encoded_whole(body: str) -> str:
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")


@pytest.mark.parametrize(
    "body",
    [
        # a line ending in an encoded character next to the 76-column limit: whether a
        # soft break comes first depends on the line feed after it
        "x" * 73 + "=\t\n" + "y" * 80 + "\n",
        "x" * 74 + " \nnext",
        # a carriage return makes the encoder write every line end as CRLF
        "=\n中" + "y" * 80 + "\r\n",
        "a\rb\nc",
        "",
        "\n\n",
        "no line feed at the end",
    ],
)
def test_quoted_printable_line_by_line_is_the_whole_bodys_encoding(body: str) -> None:
    assert quoted_printable(body) == _encoded_whole(body)


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["a", " ", "\t", "\n", "\r", "=", ".", "é", "—", "ع", "中", "x" * 70])
    ).map("".join)
)
def test_quoted_printable_of_any_body_is_the_whole_bodys_encoding(body: str) -> None:
    assert quoted_printable(body) == _encoded_whole(body)
    assert quoted_printable(body) == _encoded_whole(body)  # the second time from the cache
