"""The organizers' note reaches the update mail from the dashboard editor and the API."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.mail.kinds import UpdateContext
from roundtable.mail.model import Message, MessageKind
from roundtable.web.app import create_app
from tests.invitations.rsvp_support import invite
from tests.staff.staff_support import add_event, add_member, client_for, signed_in, token_for

ADMIN = "admin@iom.example.org"
NOTE = "Please use the <visitors'> entrance on 46th Street."


@pytest.fixture
def admin_token(sqlite_engine: Engine) -> Iterator[str]:
    add_member(ADMIN, "admin")
    yield token_for(ADMIN)


def _updates() -> list[UpdateContext]:
    with read_session() as session:
        rows = session.exec(select(Message).where(Message.kind == MessageKind.UPDATE)).all()
    return [UpdateContext.parse(row.context) for row in rows]


def test_the_editor_sends_the_note_with_the_update(admin_token: str) -> None:
    invite(add_event("roundtable"), 1)
    with client_for(create_app()) as client:
        csrf = signed_in(client, ADMIN)
        editor = client.get("/dashboard/events/roundtable/edit")
        found = re.search(
            r'<textarea id="toml" name="toml"[^>]*>(.*?)</textarea>', editor.text, re.S
        )
        assert found is not None
        text = re.sub(
            r'(?m)^room = ".*"$', 'room = "Trusteeship Council Chamber"', html.unescape(found[1])
        )
        form = {"csrf_token": csrf, "toml": text}
        # a change of place is shown first, with who will hear of it and a field for the note
        shown = client.post("/dashboard/events/roundtable/edit", data=form)
        assert shown.status_code == 200 and 'name="note"' in shown.text
        assert _updates() == []
        saved = client.post(
            "/dashboard/events/roundtable/edit", data={**form, "note": NOTE, "confirm": "1"}
        )
    assert saved.status_code == 303, saved.text[:300]
    [update] = _updates()
    assert update.note == NOTE
    assert [(c.field, c.new) for c in update.changes] == [("room", "Trusteeship Council Chamber")]


def test_the_api_takes_the_note_with_a_change(admin_token: str) -> None:
    invite(add_event("roundtable"), 1)
    headers = {"authorization": f"Bearer {admin_token}"}
    with client_for(create_app()) as client:
        document = client.get("/api/v1/events/roundtable", headers=headers).json()
        document["title"] = "A New Title"
        answer = client.put(
            "/api/v1/events/roundtable", params={"note": NOTE}, json=document, headers=headers
        )
    assert answer.status_code == 200, answer.text
    [update] = _updates()
    assert update.note == NOTE and [c.field for c in update.changes] == ["title"]
