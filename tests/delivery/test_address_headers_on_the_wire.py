"""Hostile names through the real path: outbox row → compose → the file transport's bytes.

Every address header of what goes on the wire names exactly the one intended
mailbox, read structure first (``getaddresses`` on the raw folded value) and by
``email.headerregistry``; the SMTP envelope has exactly one recipient.
"""

from __future__ import annotations

import email
import re
from email.policy import SMTP
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session, write_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.mail.transports import envelope, open_transport
from roundtable.types import utcnow
from roundtable.workflows.sending import send_invitations
from tests.factories import invitee_details, make_contact, make_event

ORGANIZER = 'IOM, New York Office; "Events" <desk@evil.example>'
CONTACT_PERSON = "x" * 60 + ' <a@b>, "q", ' + "y" * 40
NAMES = {
    "one@example.org": "=?utf-8?q?a=2C_ceo=40victim=2Eexample=2C_b?=",
    "two@example.org": 'Zoë "the" <boss>, ceo@victim.example, ' * 4,
    "three@example.org": "سعادة السيدة سارة القاسمي, ceo@victim.example",
}


def raw_value(head: str, name: str) -> str:
    (value,) = re.findall(rf"^{name}: (.*?)\r\n(?![ \t])", head + "\r\nEnd", re.M | re.S)
    return value


def test_every_address_header_on_the_wire_is_one_mailbox(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with write_session() as session:
        event = make_event("hostile", organizer_name=ORGANIZER, contact_name=CONTACT_PERSON)
        session.add(event)
        session.flush()
        for n, (address, name) in enumerate(NAMES.items()):
            contact = make_contact(n, email=address)
            session.add(contact)
            session.flush()
            assert event.id is not None and contact.id is not None
            details = invitee_details(n, full_name=name, honorific="")
            session.add(Invitation(event_id=event.id, contact_id=contact.id, **details))
    assert send_invitations("hostile", now=utcnow()) == 3
    with read_session() as session:
        ids = [m.id for m in session.exec(select(Message)).all() if m.id is not None]
    outbox = tmp_path / "outbox"
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch(ids, transport)

    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 3
    for path in files:
        data = path.read_bytes()
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert all(
            len(line) <= 78 for line in head.split("\r\n") if not line.startswith("Message-ID")
        )
        message = email.message_from_bytes(data, policy=SMTP)
        to = message["To"].addresses[0].addr_spec
        assert to in NAMES
        for header, wanted in (
            ("From", "events@iom.example.org"),
            ("To", to),
            ("Reply-To", "mrossi@iom.example.org"),
        ):
            raw = raw_value(head, header)
            assert [a for _n, a in getaddresses([raw])] == [wanted], raw
            (mailbox,) = message[header].addresses
            assert mailbox.addr_spec == wanted and not message[header].defects
        assert envelope(message) == ("events@iom.example.org", [to])
        assert "victim" not in " ".join(a for _n, a in getaddresses([raw_value(head, "To")]))
