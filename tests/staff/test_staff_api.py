"""The organizer API over HTTP: events as JSON twins of their TOML file, imports checked like
the CSV file, invitations, replies on behalf, the outbox."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.events.spec import parse_event_file
from roundtable.events.spec_export import toml_string
from roundtable.invitations.model import Invitation, ReplyLog
from roundtable.paths import examples_dir
from roundtable.people.model import Contact
from roundtable.web.app import create_app
from roundtable.web.schemas import EventDocument
from tests.staff.staff_support import add_member, client_for, token_for

ADMIN, ORGANIZER = "admin@un.example.org", "org@un.example.org"


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def example_document() -> dict[str, object]:
    """The example event file, read by tomllib and turned into the API's JSON."""
    data = tomllib.loads((examples_dir() / "inter-ethnic-city.toml").read_text("utf-8"))
    return EventDocument.model_validate(data).model_dump(exclude_none=True)


def bearer(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(email)}"}


def test_an_organizer_creates_reads_and_changes_an_event(api: TestClient) -> None:
    add_member(ORGANIZER, "organizer")
    token = bearer(ORGANIZER)
    document = example_document()

    created = api.post("/api/v1/events", json=document, headers=token)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "event": "inter-ethnic-city",
        "created": True,
        "changed": [],
        "sequence": 0,
        "updates_queued": 0,
    }
    read = api.get("/api/v1/events/inter-ethnic-city", headers=token)
    assert read.status_code == 200
    # multi-line texts are stored without the file's surrounding line breaks
    spec = parse_event_file(examples_dir() / "inter-ethnic-city.toml")
    translations = {language: dict(words) for language, words in spec.translations.items()}
    stored = {"description": spec.description, "access": spec.access, "translations": translations}
    assert read.json() == {**document, **stored}
    assert api.post("/api/v1/events", json=document, headers=token).status_code == 409

    moved = {**document, "room": "Trusteeship Council Chamber"}
    changed = api.put("/api/v1/events/inter-ethnic-city", json=moved, headers=token)
    assert changed.status_code == 200, changed.text
    assert changed.json()["changed"] == ["room"]
    assert changed.json()["sequence"] == 1
    listing = api.get("/api/v1/events", headers=token).json()
    assert [(e["slug"], e["invitees"]) for e in listing] == [("inter-ethnic-city", 0)]


def test_an_event_document_is_checked_by_the_event_files_parser(api: TestClient) -> None:
    add_member(ADMIN, "admin")
    token = bearer(ADMIN)
    document = example_document()
    bad = {
        **document,
        "starts": "2027-09-23T25:00:00",
        "timezone": "Mars/Olympus",
        "reminders": ["7 days"],
        "organizer": {"name": "IOM", "email": "not-an-address"},
    }

    response = api.post("/api/v1/events", json=bad, headers=token)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"].endswith("nothing was written")
    fields = {problem["field"] for problem in body["problems"]}
    assert {"timezone", "reminders[1]", "organizer.email"} <= fields
    assert all(problem["line"] is None for problem in body["problems"])
    unknown = api.post("/api/v1/events", json={**document, "colour": "blue"}, headers=token)
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "colour"
    renamed = api.put("/api/v1/events/inter-ethnic-city", json=document, headers=token)
    assert renamed.status_code == 404
    api.post("/api/v1/events", json=document, headers=token)
    slug_change = api.put(
        "/api/v1/events/inter-ethnic-city", json={**document, "slug": "other"}, headers=token
    )
    assert slug_change.status_code == 422
    assert slug_change.json()["problems"][0]["field"] == "slug"
    assert api.get("/api/v1/events/NOT%20A%20SLUG", headers=token).status_code == 422


def test_the_toml_written_for_a_document_reads_back_the_same(tmp_path: Path) -> None:
    original = parse_event_file(examples_dir() / "inter-ethnic-city.toml")
    document = EventDocument.model_validate(example_document())
    path = tmp_path / "again.toml"
    path.write_text(document.to_toml_text(), encoding="utf-8")

    again = parse_event_file(path)

    assert again.__dict__ | {"source": ""} == original.__dict__ | {"source": ""}
    assert toml_string('a "quoted" \\ line\x00') == '"a \\"quoted\\" \\\\ line\\u0000"'
    assert (
        tomllib.loads("x = " + toml_string('two\nlines """ here\\'))["x"] == 'two\nlines """ here\\'
    )


def test_bulk_import_writes_nothing_when_a_row_is_invalid(api: TestClient) -> None:
    add_member(ADMIN, "admin")
    token = bearer(ADMIN)
    api.post("/api/v1/events", json=example_document(), headers=token)
    url = "/api/v1/events/inter-ethnic-city/invitees"
    rows = [
        {
            "email": "a.rossi@example.org",
            "first_name": "Anna",
            "last_name": "Rossi",
            "organization": "Permanent Mission of Italy",
            "role": "speaker",
        },
        {"email": "not an address", "name": "Bad Row"},
        {"email": "c@example.org", "name": "C", "language": "xx", "timezone": "Nowhere/City"},
    ]

    refused = api.post(url, json={"invitees": rows}, headers=token)

    assert refused.status_code == 422
    problems = {(p["field"], p["source"]) for p in refused.json()["problems"]}
    assert ("invitees[1].email", "request body") in problems
    assert ("invitees[2].language", "request body") in problems
    assert ("invitees[2].timezone", "request body") in problems
    with read_session() as session:
        assert session.exec(select(Contact)).all() == []

    skipped = api.post(url, json={"invitees": rows, "skip_invalid": True}, headers=token)
    assert skipped.status_code == 200
    assert skipped.json()["created"] == 1
    assert len(skipped.json()["skipped"]) == 3
    again = api.post(url, json={"invitees": rows[:1]}, headers=token).json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    listing = api.get(f"{url}?per_page=1", headers=token).json()
    assert listing["total"] == 1
    assert listing["items"][0]["organization"] == "Permanent Mission of Italy"
    assert listing["items"][0]["status"] == "not_invited"


def test_invitations_replies_on_behalf_and_the_outbox(api: TestClient) -> None:
    add_member(ADMIN, "admin")
    token = bearer(ADMIN)
    api.post("/api/v1/events", json=example_document(), headers=token)
    base = "/api/v1/events/inter-ethnic-city"
    api.post(
        f"{base}/invitees",
        headers=token,
        json={
            "invitees": [{"email": f"guest{n}@example.org", "name": f"Guest {n}"} for n in range(3)]
        },
    )

    assert api.post(f"{base}/invitations/send", headers=token).json() == {"queued": 3}
    assert api.post(f"{base}/invitations/send", headers=token).json() == {"queued": 0}

    reply = api.post(
        f"{base}/replies",
        headers=token,
        json={
            "email": "GUEST1@example.org",
            "response": "accept",
            "guests": 1,
            "reason": "Replied by phone to the office",
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "email": "guest1@example.org",
        "from_status": "invited",
        "status": "accepted",
        "guests": 1,
        "changed": True,
    }
    with read_session() as session:
        log = session.exec(select(ReplyLog)).one()
        assert log.actor == f"staff:{ADMIN}"
        assert log.reason == "Replied by phone to the office"
        invitation = session.get(Invitation, log.invitation_id)
        assert invitation is not None and invitation.status == "accepted"
    too_many = api.post(
        f"{base}/replies",
        headers=token,
        json={"email": "guest2@example.org", "response": "accept", "guests": 5, "reason": "phone"},
    )
    assert too_many.status_code == 422
    assert too_many.json()["problems"][0]["field"] == "guests"
    stranger = api.post(
        f"{base}/replies",
        headers=token,
        json={"email": "stranger@example.org", "response": "accept", "reason": "phone"},
    )
    assert stranger.status_code == 422
    no_reason = api.post(
        f"{base}/replies",
        headers=token,
        json={"email": "guest2@example.org", "response": "accept", "reason": ""},
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["problems"][0]["field"] == "reason"

    report = api.get(f"{base}/report", headers=token).json()
    assert report["status"]["accepted"] == 1 and report["status"]["invited"] == 2
    outbox = api.get(f"{base}/messages?kind=invitation", headers=token).json()
    assert outbox["total"] == 3
    assert {m["recipient"] for m in outbox["items"]} == {f"guest{n}@example.org" for n in range(3)}
    confirmations = api.get(f"{base}/messages?kind=confirmation", headers=token).json()
    assert confirmations["total"] == 1
    assert api.get(f"{base}/messages?status=bogus", headers=token).status_code == 422
