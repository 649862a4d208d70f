"""Every role against every page and API call: what each may not do is refused.

Two events: "ours", granted to the organizer, and "theirs", granted to nobody.
Anonymous pages go to /login and anonymous API calls get 401; a viewer's every
change is 403; an organizer's look at "theirs" is 404 (it does not exist for them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from tests.staff.staff_support import (
    Seeded,
    add_member,
    client_for,
    seed_mix,
    signed_in,
    token_for,
)

ADMIN, ORGANIZER, VIEWER = "admin@un.example.org", "org@un.example.org", "viewer@un.example.org"


@dataclass
class World:
    client: TestClient
    ours_message: int
    theirs_message: int
    ours_invitation: int
    theirs_invitation: int
    organizer_id: int


@pytest.fixture
def world(sqlite_engine: Engine) -> Iterator[World]:
    ours = seed_mix("ours", count=10)
    theirs = seed_mix("theirs", count=10, start=100)
    add_member(ADMIN, "admin")
    organizer_id = add_member(ORGANIZER, "organizer", events=(ours.event_id,))
    add_member(VIEWER, "viewer")

    def failed(seeded: Seeded) -> int:
        return next(m.id for m in seeded.messages if m.status == "failed")

    with client_for(create_app()) as client:
        yield World(
            client=client,
            ours_message=failed(ours),
            theirs_message=failed(theirs),
            ours_invitation=ours.invitations[0].id,
            theirs_invitation=theirs.invitations[0].id,
            organizer_id=organizer_id,
        )


def pages(w: World, slug: str) -> list[str]:
    """Every page that shows something of an event."""
    invitation = w.ours_invitation if slug == "ours" else w.theirs_invitation
    message = w.ours_message if slug == "ours" else w.theirs_message
    return [
        f"/dashboard/events/{slug}",
        f"/dashboard/events/{slug}?q=guest&status=accepted&sort=organization&desc=1",
        f"/dashboard/events/{slug}/invitees/{invitation}",
        f"/dashboard/events/{slug}/messages",
        f"/dashboard/messages/{message}",
        f"/dashboard/events/{slug}/invitees.csv",
        f"/dashboard/events/{slug}/invitees.xlsx",
    ]


def management_pages(slug: str) -> list[str]:
    return [
        f"/dashboard/events/{slug}/edit",
        f"/dashboard/events/{slug}/import",
        f"/dashboard/events/{slug}/recommendations",
    ]


def changes(w: World, slug: str) -> list[tuple[str, dict[str, str]]]:
    """Every form that changes something of an event, with harmless valid contents."""
    invitation = w.ours_invitation if slug == "ours" else w.theirs_invitation
    message = w.ours_message if slug == "ours" else w.theirs_message
    return [
        (f"/dashboard/events/{slug}/send", {}),
        (f"/dashboard/events/{slug}/invitees/{invitation}/checkin", {}),
        (
            f"/dashboard/events/{slug}/invitees/{invitation}/reply",
            {"response": "decline", "reason": "phoned"},
        ),
        (f"/dashboard/messages/{message}/resend", {}),
        (f"/dashboard/events/{slug}/recommendations", {"text": "# Thanks"}),
        (f"/dashboard/events/{slug}/edit", {"toml": 'slug = "x"'}),
    ]


def api_reads(slug: str) -> list[str]:
    base = f"/api/v1/events/{slug}"
    return [base, f"{base}/invitees", f"{base}/report", f"{base}/messages"]


def api_writes(slug: str) -> list[tuple[str, str, dict[str, object]]]:
    base = f"/api/v1/events/{slug}"
    first_guest = "guest1@example.org" if slug == "ours" else "guest100@example.org"
    return [
        ("POST", f"{base}/invitations/send", {}),
        ("POST", f"{base}/invitees", {"invitees": [{"email": "n@example.org", "name": "N"}]}),
        (
            "POST",
            f"{base}/replies",
            {"email": first_guest, "response": "accept", "reason": "phoned"},
        ),
    ]


ADMIN_ONLY = ["/dashboard/staff"]


def test_anonymous_pages_go_to_login_and_the_api_answers_401(world: World) -> None:
    web = world.client
    for path in [
        "/dashboard",
        "/dashboard/messages",
        "/dashboard/events/new",
        *ADMIN_ONLY,
        *pages(world, "ours"),
        *management_pages("ours"),
    ]:
        response = web.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/dashboard"), path
    for path, data in changes(world, "ours"):
        response = web.post(path, data=data)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    for path in ["/api/v1/events", *api_reads("ours")]:
        for headers in ({}, {"Authorization": "Bearer rt_unknown"}, {"Authorization": "Basic x"}):
            response = web.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json()["detail"]
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_viewer_reads_every_event_and_changes_nothing(world: World) -> None:
    web = world.client
    csrf = signed_in(web, VIEWER)
    for path in [
        "/dashboard",
        "/dashboard/messages",
        *pages(world, "ours"),
        *pages(world, "theirs"),
    ]:
        assert web.get(path).status_code == 200, path
    for path in ["/dashboard/events/new", *ADMIN_ONLY, *management_pages("ours")]:
        assert web.get(path).status_code == 403, path
    for path, data in changes(world, "ours") + changes(world, "theirs"):
        assert web.post(path, data={"csrf_token": csrf, **data}).status_code == 403, path
    assert (
        web.post("/dashboard/events/new", data={"csrf_token": csrf, "toml": ""}).status_code == 403
    )
    assert web.post("/dashboard/staff", data={"csrf_token": csrf}).status_code == 403

    token = {"Authorization": f"Bearer {token_for(VIEWER)}"}
    for path in ["/api/v1/events", *api_reads("ours"), *api_reads("theirs")]:
        assert web.get(path, headers=token).status_code == 200, path
    for method, path, body in api_writes("ours"):
        response = web.request(method, path, json=body, headers=token)
        assert response.status_code == 403, path
        assert response.json()["detail"]
    document = web.get("/api/v1/events/ours", headers=token).json()
    assert web.put("/api/v1/events/ours", json=document, headers=token).status_code == 403
    assert (
        web.post("/api/v1/events", json={**document, "slug": "new-one"}, headers=token).status_code
        == 403
    )


def test_an_organizer_manages_their_event_and_cannot_see_others(world: World) -> None:
    web = world.client
    csrf = signed_in(web, ORGANIZER)
    for path in pages(world, "ours") + management_pages("ours"):
        assert web.get(path).status_code == 200, path
    for path in pages(world, "theirs") + management_pages("theirs"):
        assert web.get(path).status_code == 404, path
    for path, data in changes(world, "theirs"):
        assert web.post(path, data={"csrf_token": csrf, **data}).status_code == 404, path
    for path in ADMIN_ONLY:
        assert web.get(path).status_code == 403
    listing = web.get("/dashboard").text
    assert "/dashboard/events/ours" in listing
    assert "/dashboard/events/theirs" not in listing
    outbox = web.get("/dashboard/messages").text
    assert "theirs" not in outbox

    token = {"Authorization": f"Bearer {token_for(ORGANIZER)}"}
    assert [e["slug"] for e in web.get("/api/v1/events", headers=token).json()] == ["ours"]
    for path in api_reads("theirs"):
        assert web.get(path, headers=token).status_code == 404, path
    for method, path, body in api_writes("theirs"):
        assert web.request(method, path, json=body, headers=token).status_code == 404, path
    for method, path, body in api_writes("ours"):
        assert web.request(method, path, json=body, headers=token).status_code == 200, path
    assert web.post("/dashboard/events/ours/send", data={"csrf_token": csrf}).status_code == 303


def test_an_admin_may_do_everything(world: World) -> None:
    web = world.client
    csrf = signed_in(web, ADMIN)
    for path in [
        "/dashboard/events/new",
        *ADMIN_ONLY,
        *pages(world, "theirs"),
        *management_pages("theirs"),
    ]:
        assert web.get(path).status_code == 200, path
    response = web.post(
        f"/dashboard/staff/{world.organizer_id}/grants",
        data={"csrf_token": csrf, "event": "theirs"},
    )
    assert response.status_code == 303
    assert "theirs" in web.get("/dashboard/staff").text
    token = {"Authorization": f"Bearer {token_for(ADMIN)}"}
    for method, path, body in api_writes("theirs"):
        assert web.request(method, path, json=body, headers=token).status_code == 200, path


def test_an_admin_adds_an_account_and_unlocks_one(world: World) -> None:
    web = world.client
    csrf = signed_in(web, ADMIN)
    created = web.post(
        "/dashboard/staff",
        data={
            "csrf_token": csrf,
            "email": "new@un.example.org",
            "role": "viewer",
            "password": "long enough pw",
        },
    )
    assert created.status_code == 303
    refused = web.post(
        "/dashboard/staff",
        data={
            "csrf_token": csrf,
            "email": "new@un.example.org",
            "role": "boss",
            "password": "short",
        },
    )
    assert refused.status_code == 422
    assert "unknown role" in refused.text
    assert "at least 10 characters" in refused.text
    assert (
        web.post(
            f"/dashboard/staff/{world.organizer_id}/unlock", data={"csrf_token": csrf}
        ).status_code
        == 303
    )
