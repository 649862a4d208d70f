"""The dashboard stays English but shows a name in any script in its own direction.

An Arabic name in an English table would otherwise pull the punctuation around it
to the wrong side; each name, organization and title sits in ``<bdi dir="auto">``.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import write_session
from roundtable.invitations.model import Invitation
from roundtable.web.app import create_app
from tests.staff.staff_support import add_member, client_for, seed_mix, signed_in

ADMIN = "admin@un.example.org"
ARABIC_NAME = "السفير أحمد المنصوري"
_LINKED_NAME = re.compile(r'/invitees/\d+">(.*?)</a>', re.S)


def test_names_in_any_script_are_isolated_on_the_event_page(sqlite_engine: Engine) -> None:
    seed_mix("scripts", count=4)
    with write_session() as session:
        invitation = session.exec(select(Invitation)).first()
        assert invitation is not None
        invitation.full_name = ARABIC_NAME
        session.add(invitation)
    add_member(ADMIN, "admin")
    with client_for(create_app()) as client:
        signed_in(client, ADMIN)
        page = client.get("/dashboard/events/scripts").text
    names = _LINKED_NAME.findall(page)
    assert len(names) >= 4
    for name in names:
        assert name.startswith('<bdi dir="auto">') and name.endswith("</bdi>"), name
    assert any(name.endswith(f"{ARABIC_NAME}</bdi>") for name in names)
