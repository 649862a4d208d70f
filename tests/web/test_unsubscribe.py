"""One-click unsubscribe (RFC 8058): a POST with no cookie; a GET that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.db import read_session
from roundtable.people.model import Contact
from roundtable.web.app import create_app
from tests.invitations.rsvp_support import add_event, invitation, invite, snapshot, token_of


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


def _contact(invitation_id: int) -> Contact:
    with read_session() as session:
        contact = session.get(Contact, invitation(invitation_id).contact_id)
        assert contact is not None
        return contact


def test_get_shows_a_button_and_changes_nothing(client: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    before = snapshot()
    for _ in range(2):
        page = client.get(f"/rsvp/{token}/unsubscribe")
        assert page.status_code == 200 and '<form method="post">' in page.text
    assert snapshot() == before
    assert _contact(invitation_id).unsubscribed_at is None


def test_one_click_post_unsubscribes_without_cookie_or_form_token(client: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    answer = client.post(
        f"/rsvp/{token}/unsubscribe",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and "no further follow-up" in answer.text
    assert _contact(invitation_id).unsubscribed_at is not None
    again = client.post(f"/rsvp/{token}/unsubscribe")
    assert again.status_code == 200


def test_unknown_token_is_the_usual_404(client: TestClient) -> None:
    invite(add_event(), 1)
    assert client.post("/rsvp/" + "A" * 43 + "/unsubscribe").status_code == 404
    assert client.get("/rsvp/nonsense/unsubscribe").status_code == 404


def test_token_of_is_the_link_token(client: TestClient) -> None:
    invitation_id, token = invite(add_event(), 2)
    assert token_of(invitation_id) == token
