"""Every staff route, read from the app's route table, × every kind of member × objects of A and B.

Event A is granted to one organizer, event B to another. Each route is asked with
A's objects, with B's, and (where it names an event and a row of it) with A's
slug and B's row: that last one is the hole where an organizer of A recorded a
reply on B's invitation. A refused request must change nothing in any table. A
route this test does not know makes it fail, so a new route cannot be forgotten.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import roundtable.models  # noqa: F401 - every table in the metadata
from roundtable.db import read_session
from roundtable.web.app import create_app
from roundtable.workflows.checkin import code_of
from tests.inbound.held import held_reply
from tests.staff.staff_support import (
    PASSWORD,
    Seeded,
    add_member,
    client_for,
    seed_mix,
    signed_in,
    token_for,
)

ADMIN, ORG_A, ORG_B, VIEWER = (
    "admin@un.example.org",
    "org-a@un.example.org",
    "org-b@un.example.org",
    "viewer@un.example.org",
)
#: the order they act in: the admin last, so that what it may change changes nobody's rights
ACTORS = ("anonymous", VIEWER, ORG_B, ORG_A, ADMIN)
SEES = {ADMIN: {"A", "B"}, VIEWER: {"A", "B"}, ORG_A: {"A"}, ORG_B: {"B"}}
MANAGES = {ADMIN: {"A", "B"}, VIEWER: set(), ORG_A: {"A"}, ORG_B: {"B"}}
OK = "ok"

#: (method, path) → (what it needs: list | read | manage | create | admin, body kind)
ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/dashboard"): ("list", ""),
    ("GET", "/dashboard/events/new"): ("create", ""),
    ("POST", "/dashboard/events/new"): ("create", "form:toml"),
    ("GET", "/dashboard/events/{slug}"): ("read", ""),
    ("GET", "/dashboard/events/{slug}/edit"): ("manage", ""),
    ("GET", "/dashboard/events/{slug}/event.toml"): ("manage", ""),
    ("POST", "/dashboard/events/{slug}/edit"): ("manage", "form:toml"),
    ("POST", "/dashboard/events/{slug}/send"): ("manage", "form"),
    ("GET", "/dashboard/events/{slug}/import"): ("manage", ""),
    ("POST", "/dashboard/events/{slug}/import"): ("manage", "form:file"),
    ("GET", "/dashboard/events/{slug}/recommendations"): ("manage", ""),
    ("POST", "/dashboard/events/{slug}/recommendations"): ("manage", "form:text"),
    ("GET", "/dashboard/events/{slug}/invitees.csv"): ("read", ""),
    ("GET", "/dashboard/events/{slug}/invitees.xlsx"): ("read", ""),
    ("GET", "/dashboard/events/{slug}/invitees/{invitation_id}"): ("read", ""),
    ("POST", "/dashboard/events/{slug}/invitees/{invitation_id}/checkin"): ("manage", "form"),
    ("POST", "/dashboard/events/{slug}/invitees/{invitation_id}/reply"): ("manage", "form:reply"),
    ("GET", "/dashboard/events/{slug}/mailbox"): ("read", ""),
    ("POST", "/dashboard/events/{slug}/mailbox/{inbound_id}/apply"): ("manage", "form"),
    ("POST", "/dashboard/events/{slug}/mailbox/{inbound_id}/ignore"): ("manage", "form"),
    ("GET", "/dashboard/mailbox"): ("admin", ""),
    ("GET", "/dashboard/events/{slug}/write"): ("manage", ""),
    ("POST", "/dashboard/events/{slug}/write"): ("manage", "form:message"),
    ("POST", "/dashboard/events/{slug}/nudge"): ("manage", "form"),
    ("POST", "/dashboard/events/{slug}/invitees/{invitation_id}/checkin/undo"): ("manage", "form"),
    ("GET", "/dashboard/events/{slug}/checkin"): ("read", ""),
    ("POST", "/dashboard/events/{slug}/walk-ins"): ("manage", "form:walkin"),
    ("GET", "/checkin/{code}"): ("read", ""),
    ("GET", "/dashboard/events/{slug}/badges.pdf"): ("read", ""),
    ("GET", "/dashboard/events/{slug}/place-cards.pdf"): ("read", ""),
    ("POST", "/checkin/{code}"): ("manage", "form"),
    ("GET", "/dashboard/events/{slug}/invitees/new"): ("manage", ""),
    ("POST", "/dashboard/events/{slug}/invitees/new"): ("manage", "form:invitee"),
    ("POST", "/dashboard/events/{slug}/invitees/{invitation_id}/edit"): ("manage", "form"),
    ("POST", "/dashboard/events/{slug}/invitees/{invitation_id}/withdraw"): ("manage", "form"),
    ("POST", "/dashboard/events/{slug}/cancel"): ("manage", "form"),
    ("GET", "/dashboard/messages"): ("list", ""),
    ("GET", "/dashboard/events/{slug}/messages"): ("read", ""),
    ("GET", "/dashboard/messages/{message_id}"): ("read", ""),
    ("GET", "/dashboard/messages/{message_id}/body.html"): ("manage", ""),
    ("POST", "/dashboard/messages/{message_id}/resend"): ("manage", "form"),
    ("GET", "/dashboard/staff"): ("admin", ""),
    ("POST", "/dashboard/staff"): ("admin", "form:staff"),
    ("POST", "/dashboard/staff/{staff_id}/grants"): ("admin", "form:grant"),
    ("POST", "/dashboard/staff/{staff_id}/grants/{event_id}/delete"): ("admin", "form"),
    ("POST", "/dashboard/staff/{staff_id}/unlock"): ("admin", "form"),
    ("POST", "/dashboard/staff/{staff_id}/tokens/revoke"): ("admin", "form"),
    ("POST", "/dashboard/staff/{staff_id}/disable"): ("admin", "form"),
    ("POST", "/dashboard/staff/{staff_id}/enable"): ("admin", "form"),
    ("POST", "/dashboard/staff/{staff_id}/password"): ("admin", "form"),
    ("GET", "/api/v1/events"): ("list", ""),
    ("POST", "/api/v1/events"): ("create", "json:empty"),
    ("GET", "/api/v1/events/{slug}"): ("read", ""),
    ("PUT", "/api/v1/events/{slug}"): ("manage", "json:empty"),
    ("POST", "/api/v1/events/{slug}/invitees"): ("manage", "json:invitees"),
    ("GET", "/api/v1/events/{slug}/invitees"): ("read", ""),
    ("PATCH", "/api/v1/events/{slug}/invitees/{email}"): ("manage", "json:patch"),
    ("DELETE", "/api/v1/events/{slug}/invitees/{email}"): ("manage", "json:empty"),
    ("GET", "/api/v1/events/{slug}/invitees/{email}/replies"): ("read", ""),
    ("POST", "/api/v1/events/{slug}/invitations/send"): ("manage", "json:empty"),
    ("POST", "/api/v1/events/{slug}/replies"): ("manage", "json:reply"),
    ("GET", "/api/v1/events/{slug}/report"): ("read", ""),
    ("GET", "/api/v1/events/{slug}/messages"): ("read", ""),
    ("POST", "/api/v1/events/{slug}/messages"): ("manage", "json:message"),
    ("POST", "/api/v1/events/{slug}/nudge"): ("manage", "json:empty"),
    ("POST", "/api/v1/events/{slug}/recommendations"): ("manage", "json:text"),
    ("GET", "/api/v1/events/{slug}/invitees.csv"): ("read", ""),
    ("GET", "/api/v1/events/{slug}/invitees.xlsx"): ("read", ""),
    ("POST", "/api/v1/messages/{message_id}/resend"): ("manage", "json:empty"),
    ("POST", "/api/v1/events/{slug}/cancel"): ("manage", "json:cancel"),
    ("POST", "/api/v1/events/{slug}/invitees/{email}/checkin"): ("manage", "json:empty"),
    ("DELETE", "/api/v1/events/{slug}/invitees/{email}/checkin"): ("manage", "json:empty"),
    ("GET", "/api/v1/events/{slug}/badges.pdf"): ("read", ""),
    ("GET", "/api/v1/events/{slug}/place-cards.pdf"): ("read", ""),
}
#: Routes that are not staff actions on objects: signing in is for anyone, signing out
#: ends the session the matrix runs in (both are covered by test_staff_login).
NOT_STAFF_ACTIONS = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


@dataclass
class Objects:
    slug: str
    event_id: int
    invitation_id: int
    message_id: int
    guest: str
    inbound_id: int
    email: str
    code: str


@dataclass
class World:
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    tokens: dict[str, str]
    objects: dict[str, Objects]
    spare_staff_id: int


def _api_routes(routes: Any, prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every route, including those of included routers (however FastAPI keeps them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(inner.routes, prefix + getattr(context, "prefix", ""))


def staff_routes() -> list[tuple[str, str]]:
    """(method, path) of every route for staff: the dashboard, the API, signing in and out."""
    found = []
    for path, route in _api_routes(create_app().routes):
        if path.startswith(("/dashboard", "/api/", "/login", "/logout", "/checkin/")):
            found += [(method, path) for method in sorted(route.methods - {"HEAD"})]
    return found


@pytest.fixture
def world(sqlite_engine: Engine) -> Iterator[World]:
    a = seed_mix("event-a", count=10)
    b = seed_mix("event-b", count=10, start=100)
    add_member(ADMIN, "admin")
    add_member(ORG_A, "organizer", events=(a.event_id,))
    add_member(ORG_B, "organizer", events=(b.event_id,))
    add_member(VIEWER, "viewer")
    spare = add_member("spare@un.example.org", "organizer")

    def objects(seeded: Seeded, slug: str, first: int) -> Objects:
        return Objects(
            slug=slug,
            event_id=seeded.event_id,
            invitation_id=seeded.invitations[0].id,
            message_id=next(m.id for m in seeded.messages if m.status == "failed"),
            guest=f"guest{first}@example.org",
            inbound_id=held_reply(seeded.event_id, seeded.invitations[0].id, slug),
            email=seeded.invitations[0].email,
            code=code_of(seeded.invitations[0].id),
        )

    app = create_app()
    clients = {actor: client_for(app) for actor in ACTORS}
    for client in clients.values():
        client.__enter__()
    try:
        yield World(
            clients=clients,
            csrf={actor: signed_in(clients[actor], actor) for actor in ACTORS[1:]},
            tokens={actor: token_for(actor) for actor in ACTORS[1:]},
            objects={"A": objects(a, "event-a", 1), "B": objects(b, "event-b", 100)},
            spare_staff_id=spare,
        )
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare before and after a refused request."""
    with read_session() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(text(f"SELECT * FROM {table.name} ORDER BY 1"))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def expected(actor: str, needs: str, owner: str, method: str, path: str) -> int | str:
    """The status a refusal answers, or ``OK`` for anything short of a refusal."""
    api = path.startswith("/api/")
    if actor == "anonymous":
        return 401 if api else 303
    if needs == "list":
        return OK
    if needs == "admin":
        return OK if actor == ADMIN else 403
    if needs == "create":
        return OK if actor in (ADMIN, ORG_A, ORG_B) else 403
    event = "A" if owner == "cross" else owner
    if needs == "manage" and actor == VIEWER:
        return 403
    if event not in SEES[actor]:
        return 404
    if needs == "manage" and event not in MANAGES[actor]:
        return 403
    return 404 if owner == "cross" else OK


def request(w: World, actor: str, method: str, path: str, body: str, owner: str) -> Any:
    event = w.objects["A" if owner == "cross" else owner]
    row = w.objects["B" if owner == "cross" else owner]
    url = path.format(
        slug=event.slug,
        invitation_id=row.invitation_id,
        message_id=row.message_id,
        staff_id=w.spare_staff_id,
        event_id=event.event_id,
        inbound_id=row.inbound_id,
        email=row.email,
        code=row.code,
    )
    client = w.clients[actor]
    headers = {"Authorization": f"Bearer {w.tokens[actor]}"} if actor in w.tokens else {}
    if url.startswith("/api/"):
        payloads: dict[str, object] = {
            "json:empty": {},
            "json:invitees": {"invitees": [{"email": "new@example.org", "name": "New"}]},
            "json:reply": {"email": row.guest, "response": "decline", "reason": "phoned"},
            "json:message": {"subject": "Logistics", "body": "Doors at *noon*", "to": ["accepted"]},
            "json:text": {"text": "# Thanks for coming"},
            "json:cancel": {"note": "Postponed"},
            "json:patch": {"position": "Minister Counsellor"},
        }
        if method == "GET":
            return client.get(url, headers=headers)
        return client.request(method, url, json=payloads[body], headers=headers)
    if method == "GET":
        return client.get(url)
    form = {"csrf_token": w.csrf.get(actor, "none"), "next": ""}
    files = None
    extra = {
        "form": {},
        "form:toml": {"toml": 'slug = "x"'},
        "form:text": {"text": "# Thanks for coming"},
        "form:message": {
            "subject": "Logistics",
            "body": "Doors",
            "to": "accepted",
            "action": "send",
        },
        "form:reply": {"response": "decline", "reason": "phoned"},
        "form:invitee": {"email": "new@example.org", "name": "New"},
        "form:staff": {"email": "new.staff@un.example.org", "role": "viewer", "password": PASSWORD},
        "form:grant": {"event": event.slug},
        "form:walkin": {"name": "Walk In", "email": "walk.in@example.org"},
        "form:file": {},
    }[body]
    if body == "form:file":
        files = {"file": ("list.csv", b"email,name\nnew@example.org,New\n", "text/csv")}
    return client.post(url, data=form | extra, files=files)


def test_every_staff_route_is_known_to_the_matrix() -> None:
    unknown = [r for r in staff_routes() if r not in ROUTES and r not in NOT_STAFF_ACTIONS]
    assert not unknown, f"routes the permission matrix does not exercise: {unknown}"
    gone = [r for r in ROUTES if r not in staff_routes()]
    assert not gone, f"routes the matrix knows but the app no longer has: {gone}"


def test_every_member_against_every_route_and_object(world: World) -> None:
    routes = [r for r in staff_routes() if r not in NOT_STAFF_ACTIONS]
    failures = []
    for actor in ACTORS:
        for method, path in routes:
            needs, body = ROUTES[(method, path)]
            cross = "{slug}" in path and ("{invitation_id}" in path or "{inbound_id}" in path)
            cross = "{slug}" in path and ("{invitation_id}" in path or "{email}" in path)
            for owner in ("A", "B", "cross") if cross else ("A", "B"):
                want = expected(actor, needs, owner, method, path)
                before = snapshot() if want != OK else None
                response = request(world, actor, method, path, body, owner)
                got = response.status_code
                where = f"{actor} {method} {path} [{owner}]"
                if got >= 500:
                    failures.append(f"{where}: {got}")
                elif want == OK:
                    if got in (401, 403, 404):
                        failures.append(f"{where}: refused with {got}")
                elif got != want:
                    failures.append(f"{where}: {got}, expected {want}")
                elif before is not None and snapshot() != before:
                    failures.append(f"{where}: refused with {got} but changed the database")
                if want == 303 and got == 303:
                    assert response.headers["location"].startswith("/login")
    assert not failures, "\n".join(failures)


def test_the_web_layer_opens_no_write_transaction() -> None:
    """Writes happen in the workflows and the domain, never in a route."""
    web = Path(__file__).resolve().parents[2] / "src" / "roundtable" / "web"
    offenders = []
    for source in sorted(web.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            name = None
            if isinstance(node, ast.Name):
                name = node.id
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.alias):
                name = node.name
            if name == "write_session":
                offenders.append(f"{source.relative_to(web)}:{getattr(node, 'lineno', '?')}")
    assert not offenders, f"write transactions opened in the web layer: {offenders}"


def test_an_organizer_of_a_cannot_reply_for_an_invitee_of_b(world: World) -> None:
    """The hole: A's reply form posted with B's invitation id recorded the reply on B."""
    a, b = world.objects["A"], world.objects["B"]
    before = snapshot()
    response = world.clients[ORG_A].post(
        f"/dashboard/events/{a.slug}/invitees/{b.invitation_id}/reply",
        data={"csrf_token": world.csrf[ORG_A], "response": "decline", "reason": "phoned"},
    )
    assert response.status_code == 404
    assert "no such invitee on this event" in response.text
    assert snapshot() == before  # no reply, no log entry, no confirmation queued


def test_a_viewers_write_is_refused_whatever_the_body(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.tokens[VIEWER]}"}
    a = world.objects["A"]
    writes = [("POST", "/api/v1/events")] + [
        (method, path.format(slug=a.slug, message_id=a.message_id, email=a.email))
        for (method, path), (needs, _body) in ROUTES.items()
        if method != "GET" and path.startswith("/api/v1/") and needs == "manage"
    ]
    before = snapshot()
    for method, url in writes:
        for body in ({}, {"slug": 3}, [], {"subject": "x", "body": "y", "to": ["accepted"]}):
            response = world.clients[VIEWER].request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (url, response.text)
            assert "viewer" in response.json()["detail"]
    after = snapshot()
    del before["api_token"], after["api_token"]  # the token's last use is recorded, rightly
    assert after == before
