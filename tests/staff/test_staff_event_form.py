"""The event as a form: every field checked with the event file's messages, TOML in and out,
and a change of time or place confirmed with its recipients before anything is sent."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session
from roundtable.errors import InputError
from roundtable.events.model import Event
from roundtable.events.service import agenda_of
from roundtable.events.spec import parse_event_mapping
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import Message, MessageKind
from roundtable.web.app import create_app
from roundtable.workflows.event_changes import UPDATE_RECIPIENTS
from tests.staff.staff_support import add_member, client_for, seed_mix, signed_in

ADMIN = "admin@example.org"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def _fields(html: str) -> dict[str, str]:
    """The form's single-valued fields as the page fills them in."""
    form = html.split('class="event-form"')[1].split("</form>")[0]
    values = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input id="([^"]+)" name="[^"]+"[^>]*?value="([^"]*)"', form
        )
    }
    for name, text in re.findall(
        r'<textarea id="([^"]+)" name="[^"]+"[^>]*>(.*?)</textarea>', form, re.S
    ):
        values[name] = unescape(text)
    return values


NEW = {
    "slug": "by-form",
    "title": "Made by the form",
    "timezone": "Europe/Paris",
    "starts": "2027-05-03T10:00",
    "ends": "2027-05-03T12:00",
    "venue": "Palais",
    "capacity": "40",
    "reminders": "7d\n1d",
    "description": "**Bold** words",
    "organizer.name": "The Office",
    "organizer.email": "office@example.org",
    "co_organizers": "UNDP\nUNHCR",
    "agenda.time": ["10:00", "11:00", ""],
    "agenda.title": ["Opening", "Closing", ""],
    "agenda.speakers": ["A. One\nB. Two", "", ""],
    "agenda.description": ["", "", ""],
}


def test_a_form_makes_the_event_the_file_would(client: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    page = client.get("/dashboard/events/new")
    assert page.status_code == 200 and 'list="zones"' in page.text

    preview = client.post(
        "/dashboard/events/new", data={"csrf_token": csrf, **NEW, "action": "preview"}
    )
    assert preview.status_code == 200 and "<strong>Bold</strong>" in preview.text
    with read_session() as session:
        assert session.exec(select(Event)).all() == []

    created = client.post(
        "/dashboard/events/new", data={"csrf_token": csrf, **NEW, "action": "save"}
    )
    assert created.status_code == 303, created.text
    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == "by-form")).one()
        assert (event.capacity, event.timezone, event.co_organizers) == (
            40,
            "Europe/Paris",
            ["UNDP", "UNHCR"],
        )
        assert event.starts_at.isoformat().startswith("2027-05-03T08:00")
        agenda = agenda_of(session, event)
        assert [(a.time, a.title, list(a.speakers)) for a in agenda] == [
            ("10:00", "Opening", ["A. One", "B. Two"]),
            ("11:00", "Closing", []),
        ]

    exported = client.get("/dashboard/events/by-form/event.toml")
    assert exported.headers["content-disposition"] == 'attachment; filename="by-form.toml"'
    again = tomllib.loads(exported.text)
    assert again["agenda"][1]["title"] == "Closing" and again["reminders"] == ["7d", "1d"]

    # The reordered agenda comes back in the order of the page.
    edit = _fields(client.get("/dashboard/events/by-form/edit").text)
    assert edit["starts"] == "2027-05-03T10:00" and edit["organizer.email"] == "office@example.org"
    swapped = {
        **NEW,
        "agenda.time": ["11:00", "10:00"],
        "agenda.title": ["Closing", "Opening"],
        "agenda.speakers": ["", "A. One\nB. Two"],
        "agenda.description": ["", ""],
    }
    saved = client.post("/dashboard/events/by-form/edit", data={"csrf_token": csrf, **swapped})
    assert saved.status_code == 303
    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == "by-form")).one()
        assert [a.title for a in agenda_of(session, event)] == ["Closing", "Opening"]


def test_each_field_shows_the_file_readers_own_message(client: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    bad = {
        **NEW,
        "capacity": "many",
        "ends": "2027-05-03T09:00",
        "organizer.email": "nobody",
        "agenda.title": ["", "Closing", ""],
        "agenda.time": ["10:00", "", ""],
    }

    refused = client.post("/dashboard/events/new", data={"csrf_token": csrf, **bad})

    assert refused.status_code == 422
    mapping = {
        "slug": "by-form",
        "title": "t",
        "timezone": "Europe/Paris",
        "starts": "2027-05-03T10:00:00",
        "ends": "2027-05-03T09:00:00",
        "capacity": "many",
        "organizer": {"name": "O", "email": "nobody"},
        "agenda": [{"time": "10:00"}],
    }
    with pytest.raises(InputError) as expected:
        parse_event_mapping(mapping, "event form")
    for problem in expected.value.problems:
        error = f'<p class="field-error" id="{problem.field}-error">{problem.message}</p>'
        assert unescape(error) in unescape(refused.text), problem
    assert 'id="capacity" name="capacity"' in refused.text and 'aria-invalid="true"' in refused.text
    with read_session() as session:
        assert session.exec(select(Event)).all() == []


def test_a_move_shows_who_will_hear_of_it_before_anything_is_sent(client: TestClient) -> None:
    seed_mix("tour", count=6)
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    values = _fields(client.get("/dashboard/events/tour/edit").text)
    moved = {**values, "room": "Room 12", "csrf_token": csrf}

    asked = client.post("/dashboard/events/tour/edit", data=moved)

    assert asked.status_code == 200
    with read_session() as session:
        hearing = session.exec(
            select(Invitation.full_name).where(col(Invitation.status).in_(UPDATE_RECIPIENTS))
        ).all()
        silent = session.exec(
            select(Invitation.full_name).where(Invitation.status == Status.DECLINED)
        ).all()
        assert session.exec(select(Event)).one().room != "Room 12"
        assert session.exec(select(Message).where(Message.kind == MessageKind.UPDATE)).all() == []
    assert hearing and f"{len(hearing)} invitee" in asked.text
    assert all(unescape(name) in unescape(asked.text) for name in hearing)
    assert not any(f"<li>{name} &lt;" in asked.text for name in silent)

    confirmed = client.post("/dashboard/events/tour/edit", data={**moved, "confirm": "1"})

    assert confirmed.status_code == 303 and "notice=updates" in confirmed.headers["location"]
    assert confirmed.headers["location"].endswith(f"n={len(hearing)}")
    with read_session() as session:
        assert session.exec(select(Event)).one().room == "Room 12"


def test_an_uploaded_event_file_is_read_as_the_command_reads_it(client: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    text = (
        client.get("/dashboard/events/new").text.split('class="code">')[1].split("</textarea>")[0]
    )
    data = unescape(text).replace("my-roundtable", "uploaded").encode()

    created = client.post(
        "/dashboard/events/new",
        data={"csrf_token": csrf},
        files={"file": ("uploaded.toml", data, "application/toml")},
    )
    assert created.status_code == 303
    broken = client.post(
        "/dashboard/events/new",
        data={"csrf_token": csrf},
        files={"file": ("bad.toml", data + b"\ncolour = 1\n", "application/toml")},
    )
    assert broken.status_code == 422 and "colour" in broken.text


def test_an_upload_that_is_not_utf8_is_refused_by_name(client: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)

    refused = client.post(
        "/dashboard/events/new",
        data={"csrf_token": csrf},
        files={"file": ("latin.toml", 'title = "Caf\xe9"\n'.encode("latin-1"), "text/plain")},
    )

    assert refused.status_code == 422 and "is not UTF-8 text" in refused.text


def test_saving_the_form_keeps_the_parts_of_the_file_it_does_not_show() -> None:
    from starlette.datastructures import FormData

    from roundtable.events.spec import TOP_LEVEL_KEYS
    from roundtable.web.dashboard.event_fields import FORM_KEYS, mapping_from_form

    # a key a later file may have and this form not yet show
    stored = {"title": "Old", "later": {"fr": {"title": "Ancien"}}}
    mapping = mapping_from_form(FormData([("title", "New")]), stored)

    assert mapping == {"title": "New", "later": {"fr": {"title": "Ancien"}}}
    assert set(FORM_KEYS) == set(TOP_LEVEL_KEYS), "today the form shows every key of the file"


def test_translations_go_through_the_form_and_come_back() -> None:
    from starlette.datastructures import FormData

    from roundtable.web.dashboard.event_fields import form_values, mapping_from_form

    stored = {
        "title": "Opening",
        "access": "Bring ID.",
        "translations": {"fr": {"title": "Ouverture", "access": "Pièce d'identité."}},
        "agenda": [{"title": "Remarks", "translations": {"fr": "Allocution", "es": "Palabras"}}],
    }
    values = form_values(stored)
    assert values["translations.fr.title"] == "Ouverture"
    assert values["translations.es.title"] == ""
    assert values["agenda"][0]["translations"] == "fr = Allocution\nes = Palabras"
    posted = [(name, text) for name, text in values.items() if name != "agenda" and text]
    posted += [(f"agenda.{key}", text) for key, text in values["agenda"][0].items()]
    assert mapping_from_form(FormData(posted), stored) == stored


def test_the_form_with_every_translation_and_a_long_agenda_is_saved(client: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    rows = 12  # five fields a row, the page's fifty more: well over a plain form's limit
    translated = {
        f"translations.{language}.{key}": f"{key} ({language})"
        for language in ("fr", "es", "ar", "zh", "ru")
        for key in ("title", "format", "description", "access")
    }
    posted = {
        **NEW,
        **translated,
        "access": "Bring **photo ID**.",
        "agenda.time": [f"{10 + n // 6}:{n % 6}0" for n in range(rows)],
        "agenda.title": [f"Item {n}" for n in range(rows)],
        "agenda.speakers": [""] * rows,
        "agenda.description": [""] * rows,
        "agenda.translations": [f"fr = Point {n}\nes = Punto {n}" for n in range(rows)],
    }
    created = client.post("/dashboard/events/new", data={"csrf_token": csrf, **posted})
    assert created.status_code == 303, created.text
    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == "by-form")).one()
        assert event.access == "Bring **photo ID**."
        assert event.translations["zh"]["access"] == "access (zh)"
        agenda = agenda_of(session, event)
    assert len(agenda) == rows
    assert agenda[11].translations == {"fr": "Point 11", "es": "Punto 11"}
    edit = _fields(client.get("/dashboard/events/by-form/edit").text)
    assert edit["translations.ru.format"] == "format (ru)"
