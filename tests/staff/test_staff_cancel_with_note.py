"""The dashboard cancels an event with the organizers' note, once the slug is typed.

Through the real path: the form, the outbox, delivery over SMTP to a sink, and the text
of every cancellation that arrives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from tests.mail.smtp_server import SmtpSink
from tests.staff.staff_support import add_member, client_for, signed_in
from tests.staff.test_desk_api import deliver, invited_event, text_of

SLUG = "inter-ethnic-city"
ADMIN = "admin@un.example.org"
NOTE = "Please use the <Visitors' Entrance> on 46th Street & First Avenue."


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def test_the_dashboard_cancels_with_a_note_once_the_slug_is_typed(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    invited_event(api, smtp_sink)
    add_member(ADMIN, "admin")
    csrf = signed_in(api, ADMIN)
    path = f"/dashboard/events/{SLUG}/cancel"
    unconfirmed = api.post(path, data={"csrf_token": csrf, "note": NOTE, "confirm": "yes"})
    assert unconfirmed.status_code == 422 and "to confirm the cancellation" in unconfirmed.text
    assert deliver(smtp_sink) == []
    cancelled = api.post(path, data={"csrf_token": csrf, "note": NOTE, "confirm": SLUG})
    assert cancelled.status_code == 303 and "notice=cancelled" in cancelled.headers["location"]
    mails = deliver(smtp_sink)
    assert len(mails) == 4
    assert all(NOTE in text_of(message) for message in mails)
    again = api.post(path, data={"csrf_token": csrf, "confirm": SLUG})
    assert again.status_code == 422 and "already cancelled" in again.text
