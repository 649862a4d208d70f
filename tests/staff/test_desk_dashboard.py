"""The composer and the nudge button on the dashboard, through the real path to the SMTP sink."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.mail.model import GroupMessage
from roundtable.web.app import create_app
from tests.mail.smtp_server import SmtpSink
from tests.staff.staff_support import client_for, signed_in
from tests.staff.test_desk_api import BASE, ORGANIZER, deliver, invited_event, reply, text_of

PAGE = "/dashboard/events/inter-ethnic-city"


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def test_compose_count_preview_send_and_follow_progress(
    api: TestClient, smtp_sink: SmtpSink, env: pytest.MonkeyPatch
) -> None:
    env.setenv("ROUNDTABLE_MAIL_URL", smtp_sink.url)  # where "send a test to me" sends
    get_settings.cache_clear()
    token = invited_event(api, smtp_sink)
    reply(api, token, "anna@example.org", "accept")
    reply(api, token, "jean@example.org", "accept")
    deliver(smtp_sink)
    csrf = signed_in(api, ORGANIZER)

    page = api.get(f"{PAGE}/write")
    assert page.status_code == 200
    assert "2 recipients" in page.text  # accepted and tentative, ticked by default
    form = {
        "csrf_token": csrf,
        "to": ["accepted"],
        "subject": "Logistics <b>Thursday</b>",
        "body": "Doors open at **12:45**.",
        "subject_fr": "Logistique",
        "body_fr": "Portes à 12h45.",
    }
    choice = re.search(r"<option value=\"(\d+)\">M. Jean Dupont", page.text)
    assert choice, page.text
    preview = api.post(
        f"{PAGE}/write", data={**form, "action": "preview", "preview": choice.group(1)}
    )
    assert preview.status_code == 200
    assert "Subject:</strong> Logistique" in preview.text and "Portes à 12h45." in preview.text
    assert "<b>Thursday</b>" not in preview.text  # what staff type is text, never markup
    with read_session() as session:
        assert session.exec(select(GroupMessage)).all() == []  # previewing sends nothing

    test = api.post(f"{PAGE}/write", data={**form, "action": "test", "preview": choice.group(1)})
    assert test.status_code == 200 and f"A test copy was sent to {ORGANIZER}" in test.text
    (copy,) = smtp_sink.messages[-1:]
    assert copy.recipients == (ORGANIZER,) and copy.message["Subject"] == "[Test] Logistique"
    assert "Portes à 12h45." in text_of(copy.message)
    with read_session() as session:
        assert session.exec(select(GroupMessage)).all() == []  # a test queues nothing

    bad = api.post(f"{PAGE}/write", data={**form, "subject": "", "action": "send"})
    assert bad.status_code == 422 and "subject" in bad.text

    sent = api.post(f"{PAGE}/write", data={**form, "action": "send"})
    assert sent.status_code == 303
    received = {m["To"].addresses[0].addr_spec: m for m in deliver(smtp_sink)}
    assert set(received) == {"anna@example.org", "jean@example.org"}
    assert received["jean@example.org"]["Subject"] == "Logistique"
    assert "Doors open at 12:45." in text_of(received["anna@example.org"])

    history = api.get(sent.headers["location"]).text
    assert "Message queued: 2 copies" in history
    assert "Logistics &lt;b&gt;Thursday&lt;/b&gt;" in history and "sent</span> 2" in history


def test_the_nudge_button_reminds_the_silent_once_a_day(
    api: TestClient, smtp_sink: SmtpSink
) -> None:
    token = invited_event(api, smtp_sink)
    reply(api, token, "anna@example.org", "decline")
    deliver(smtp_sink)
    csrf = signed_in(api, ORGANIZER)
    assert "Remind the silent ones now" in api.get(PAGE).text

    first = api.post(f"{PAGE}/nudge", data={"csrf_token": csrf})
    assert first.status_code == 303
    assert "3 nudge(s) queued" in api.get(first.headers["location"]).text
    assert len(deliver(smtp_sink)) == 3
    again = api.post(f"{PAGE}/nudge", data={"csrf_token": csrf})
    assert "reminded today" in api.get(again.headers["location"]).text
    assert deliver(smtp_sink) == []
    assert api.post(f"{BASE}/nudge", headers=token).json()["queued"] == 0


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(
    fields=st.fixed_dictionaries(
        {
            "to": st.lists(
                st.sampled_from(["accepted", "invited", "declined", "x", ""]), max_size=3
            ),
            "role": st.lists(st.sampled_from(["speaker", "observer", "king"]), max_size=2),
            "subject": TEXT,
            "body": TEXT,
            "subject_fr": TEXT,
            "body_ar": TEXT,
            "organizations": TEXT,
            "attendance": st.sampled_from(["", "attended", "absent", "maybe"]),
            "preview": st.sampled_from(["", "1", "0", "-3", "99999999999", "x"]),
            "action": st.sampled_from(["count", "preview", "send", "", "nonsense"]),
        }
    )
)
@example(  # found by this test: a NUL in an organization's name reached PostgreSQL
    fields={"to": ["accepted"], "subject": "", "body": "", "organizations": "\x00"}
)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_composer_form_answers_without_a_server_error(
    composer: tuple[TestClient, str], fields: dict[str, object]
) -> None:
    """Whatever the form holds: a page, a redirect after sending, or a refusal that says why."""
    client, csrf = composer
    response = client.post(f"{PAGE}/write", data={"csrf_token": csrf, **fields})
    assert response.status_code in (200, 303, 422), response.text
    if response.status_code == 422:
        assert "nothing was written" in response.text


@pytest.fixture
def composer(api: TestClient, smtp_sink: SmtpSink) -> tuple[TestClient, str]:
    """An organizer signed in on an event whose invitations were delivered."""
    invited_event(api, smtp_sink)
    return api, signed_in(api, ORGANIZER)
