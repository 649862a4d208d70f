"""The dashboard's forms: import, edit, recommendations, replies on behalf, check-in, new events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, ReplyLog
from roundtable.paths import examples_dir
from roundtable.people.model import Contact
from roundtable.staff.model import EventGrant
from roundtable.web.app import create_app
from tests.staff.staff_support import add_member, client_for, seed_mix, signed_in

ADMIN, ORGANIZER = "admin@un.example.org", "org@un.example.org"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def test_an_invalid_invitee_file_is_reported_line_by_line_and_writes_nothing(
    client: TestClient,
) -> None:
    seed_mix("tour", count=3)
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    bad = b"email,name,role\nok@example.org,Ok Person,speaker\nnot-an-address,Bad,chef\n"

    refused = client.post(
        "/dashboard/events/tour/import",
        data={"csrf_token": csrf},
        files={"file": ("guests.csv", bad, "text/csv")},
    )

    assert refused.status_code == 422
    assert '<td class="num">3</td><td><code>email</code></td>' in refused.text
    assert '<td class="num">3</td><td><code>role</code></td>' in refused.text
    with read_session() as session:
        assert (
            session.exec(select(Contact).where(Contact.email == "ok@example.org")).first() is None
        )

    good = (examples_dir() / "invitees.csv").read_bytes()
    imported = client.post(
        "/dashboard/events/tour/import",
        data={"csrf_token": csrf},
        files={"file": ("invitees.csv", good, "text/csv")},
    )
    assert imported.status_code == 200
    assert 'id="import-result"' in imported.text
    skipped = client.post(
        "/dashboard/events/tour/import",
        data={"csrf_token": csrf, "skip_invalid": "1"},
        files={"file": ("guests.csv", bad, "text/csv")},
    )
    assert skipped.status_code == 200
    assert "<strong>1</strong> added" in skipped.text


def test_editing_the_event_goes_through_the_event_files_parser(client: TestClient) -> None:
    seed_mix("tour", count=3)
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    form = client.get("/dashboard/events/tour/edit")
    assert form.status_code == 200
    text = form.text.split('class="code">')[1].split("</textarea>")[0]
    text = text.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")

    broken = client.post(
        "/dashboard/events/tour/edit",
        data={"csrf_token": csrf, "toml": text + "\ncolour = 'blue'\n"},
    )
    assert broken.status_code == 422
    assert "colour" in broken.text

    moved_text = text.replace("Conference Room 6", "Conference Room 4")
    asked = client.post(
        "/dashboard/events/tour/edit", data={"csrf_token": csrf, "toml": moved_text}
    )
    assert asked.status_code == 200
    assert "will get an update" in asked.text and "This changes room" in asked.text
    with read_session() as session:
        assert session.exec(select(Event).where(Event.slug == "tour")).one().sequence == 0

    moved = client.post(
        "/dashboard/events/tour/edit",
        data={"csrf_token": csrf, "toml": moved_text, "confirm": "1"},
    )
    assert moved.status_code == 303
    assert "notice=updates" in moved.headers["location"]
    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == "tour")).one()
        assert (event.room, event.sequence) == ("Conference Room 4", 1)


def test_staff_reply_on_behalf_check_in_and_publish(client: TestClient) -> None:
    seeded = seed_mix("tour", count=6)
    invited = next(row for row in seeded.invitations if row.status == "invited")
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)
    base = f"/dashboard/events/tour/invitees/{invited.id}"

    no_reason = client.post(f"{base}/reply", data={"csrf_token": csrf, "response": "accept"})
    assert no_reason.status_code == 422
    recorded = client.post(
        f"{base}/reply",
        data={"csrf_token": csrf, "response": "accept", "reason": "Phoned the office"},
    )
    assert recorded.status_code == 303
    page = client.get(base).text
    assert f"staff:{ADMIN}" in page and "Phoned the office" in page

    checked = client.post(f"{base}/checkin", data={"csrf_token": csrf, "next": base})
    assert checked.headers["location"] == f"{base}?notice=checked_in"
    again = client.post(f"{base}/checkin", data={"csrf_token": csrf})
    assert again.headers["location"] == "/dashboard/events/tour?notice=already_checked_in"
    with read_session() as session:
        invitation = session.get(Invitation, invited.id)
        assert invitation is not None
        assert invitation.status == "accepted" and invitation.attended_at is not None
        log = session.exec(select(ReplyLog).where(ReplyLog.invitation_id == invited.id)).one()
        assert log.reason == "Phoned the office"

    empty = client.post(
        "/dashboard/events/tour/recommendations", data={"csrf_token": csrf, "text": "   "}
    )
    assert empty.status_code == 422
    assert "recommendations" in empty.text and "/tmp" not in empty.text
    published = client.post(
        "/dashboard/events/tour/recommendations",
        data={"csrf_token": csrf, "text": "# Recommendations\n\n1. Act."},
    )
    assert published.status_code == 303
    assert "notice=published" in published.headers["location"]


def test_an_organizer_who_creates_an_event_is_granted_it(client: TestClient) -> None:
    organizer_id = add_member(ORGANIZER, "organizer")
    csrf = signed_in(client, ORGANIZER)
    text = (examples_dir() / "inter-ethnic-city.toml").read_text("utf-8")

    created = client.post("/dashboard/events/new", data={"csrf_token": csrf, "toml": text})

    assert created.status_code == 303
    assert created.headers["location"] == "/dashboard/events/inter-ethnic-city?notice=created"
    assert client.get("/dashboard/events/inter-ethnic-city").status_code == 200
    with read_session() as session:
        grant = session.exec(select(EventGrant).where(EventGrant.staff_id == organizer_id)).one()
        assert grant.event_id is not None
    twice = client.post("/dashboard/events/new", data={"csrf_token": csrf, "toml": text})
    assert twice.status_code == 409
