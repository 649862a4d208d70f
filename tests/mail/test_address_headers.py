"""Address headers say exactly one thing: the one intended mailbox, whatever the name.

Every check reads the raw folded header from the bytes that go on the wire, the
way receiving software does: ``email.utils.getaddresses`` on the raw value
(structure first, as RFC 5322 parsers do), ``email.headerregistry`` through
``email.policy.SMTP``, and RFC 2047 decoding of the encoded words.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.policy import SMTP
from email.utils import getaddresses

from hypothesis import example, given, settings
from hypothesis import strategies as st

from roundtable.mail.mime import assemble, clean, wire_form
from roundtable.mail.render import RenderedMail

ADDRESS_HEADERS = {
    "From": "events@un.example.org",
    "To": "ew2@evil.example",
    "Reply-To": "desk@un.example.org",
}
#: what attackers type where a name is expected
HOSTILE = [
    "=?utf-8?q?a=2C_ceo=40victim=2Eexample=2C_b?=",
    "=?utf-8?b?YSwgY2VvQHZpY3RpbS5leGFtcGxlLCBi?=",
    "a, ceo@victim.example, b",
    'Ms. "Quoted", <script>alert(1)</script>',
    "x" * 60 + ' <a@b>, "q", ' + "y" * 40,
    '"' * 50 + "," * 50 + "<>" * 30,
    "IOM, New York Office; Room 5 <events@evil.example>",
    '\\\\\\", evil@example.org',
    'Zoë "the" <boss>, ' * 8,
    "سعادة السيدة سارة القاسمي, ceo@victim.example",
    "0" * 200,
]
SPECIALS = st.sampled_from([*'()<>[]:;@\\,."=? \t', "=?", "?=", "=?utf-8?q?", "@x.example"])
NAMES = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | SPECIALS,
    max_size=25,
).map("".join)


def wire_headers(name: str) -> dict[str, str]:
    """The raw values (folding kept) of the address headers of a message to and from ``name``."""
    message = assemble(
        RenderedMail(subject="s", text="t\n", html="<p>h</p>\n"),
        sender=(name, ADDRESS_HEADERS["From"]),
        recipient=(name, ADDRESS_HEADERS["To"]),
        reply_to=(name, ADDRESS_HEADERS["Reply-To"]),
        message_id="<msg-1.a@un.example.org>",
        date=datetime(2027, 9, 1, tzinfo=UTC),
    )
    head = wire_form(message).split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.split("\r\n")), head
    found = {}
    for header in ADDRESS_HEADERS:
        (value,) = re.findall(rf"^{header}: (.*?)\r\n(?! )", head + "\r\nEnd", re.M | re.S)
        found[header] = value
    return found


def assert_one_address(name: str) -> None:
    headers = wire_headers(name)
    parsed = email.message_from_bytes(
        "".join(f"{h}: {v}\r\n" for h, v in headers.items()).encode() + b"\r\nbody", policy=SMTP
    )
    for header, address in ADDRESS_HEADERS.items():
        raw = headers[header]
        assert [pair[1] for pair in getaddresses([raw])] == [address], raw
        assert [pair[1] for pair in getaddresses([raw.replace("\r\n", "")])] == [address], raw
        (mailbox,) = parsed[header].addresses
        assert mailbox.addr_spec == address and not parsed[header].defects
        assert "".join(mailbox.display_name.split()) == "".join(clean(name).split())
        unfolded = raw.replace("\r\n", "")
        if unfolded.startswith("=?"):  # encoded words: RFC 2047 readers get the exact name
            assert str(make_header(decode_header(unfolded))) == f"{clean(name)} <{address}>"
        elif clean(name):  # plain words or a quoted string: the parser reads it exactly
            assert mailbox.display_name == clean(name)


def test_a_name_typed_as_an_encoded_word_stays_one_name_of_one_address() -> None:
    """The reported case: it reached the wire as ``To: a, ceo@victim.example, b <ew2@…>``."""
    headers = wire_headers("=?utf-8?q?a=2C_ceo=40victim=2Eexample=2C_b?=")
    assert "ceo@victim.example" not in headers["To"]
    assert getaddresses([headers["To"]])[-1][1] == "ew2@evil.example"
    assert len(getaddresses([headers["To"]])) == 1
    assert_one_address("=?utf-8?q?a=2C_ceo=40victim=2Eexample=2C_b?=")


def test_an_organizer_name_with_a_comma_is_one_from_address() -> None:
    headers = wire_headers("IOM, New York Office")
    assert headers["From"] == '"IOM, New York Office" <events@un.example.org>'
    assert_one_address("IOM, New York Office")


def test_long_names_with_specials_keep_their_quoting_when_folded() -> None:
    name = "x" * 60 + ' <a@b>, "q", ' + "y" * 40
    headers = wire_headers(name)
    assert "\r\n" in headers["To"]
    assert_one_address(name)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(name=NAMES | st.sampled_from(HOSTILE))
@example(name="")
def test_every_hostile_name_parses_back_to_exactly_the_intended_address(name: str) -> None:
    assert_one_address(name)
