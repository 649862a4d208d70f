"""An event sent as JSON is checked on the mapping itself, with the event file's rules.

Nothing is turned into TOML text on the way: values a TOML writer could not carry
(control characters, lone surrogates, very long lines) get the reader's own message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.events.model import Event
from roundtable.web.app import create_app
from tests.staff.staff_support import add_member, client_for
from tests.staff.test_staff_api import bearer, example_document

ADMIN = "admin@un.example.org"


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("title", "Opening\x00remarks", "NUL character"),
        ("title", "Opening \ud800 remarks", "lone surrogate U+D800"),
        ("venue", "x" * 301, "at most 300"),
        ("reminders", ["7d", 3], "valid string"),
    ],
)
def test_a_bad_value_is_refused_by_field_and_nothing_is_stored(
    api: TestClient, field: str, value: object, words: str
) -> None:
    add_member(ADMIN, "admin")
    document = {**example_document(), field: value}
    # JSON escapes (\\ud800) carry what no UTF-8 text can: a lone surrogate.
    answer = api.post(
        "/api/v1/events",
        content=json.dumps(document),
        headers={**bearer(ADMIN), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert [p["field"].split("[")[0] for p in problems] == [field]
    assert words in problems[0]["message"]
    with read_session() as session:
        assert session.exec(select(Event)).all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"co_organizers": ["IOM", "UN\ud800"]}, "co_organizers[2]"),
        ({"organizer": {"name": "IOM", "email": "ev\ud800@iom.example.org"}}, "organizer.email"),
        ({"contact": {"phone": "+1 \ud800"}}, "contact.phone"),
        ({"agenda": [{"time": "13:15", "title": "Open\ud800"}]}, "agenda[1].title"),
        ({"slug": "a\ud800"}, "slug"),
        ({"timezone": "Europe/\ud800"}, "timezone"),
        ({"description": "Line\ud800"}, "description"),
    ],
)
def test_a_lone_surrogate_anywhere_is_a_problem_not_a_server_error(
    api: TestClient, change: dict[str, object], field: str
) -> None:
    add_member(ADMIN, "admin")
    answer = api.post(
        "/api/v1/events",
        content=json.dumps({**example_document(), **change}),
        headers={**bearer(ADMIN), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["problems"]] == [field]
