"""Limits before work: oversized, anonymous and read-only requests are refused unread.

The application is driven as the server drives it (ASGI messages), with a request
body that counts how many bytes the application pulled: a refusal "before the
body is read" pulls none, and a streamed body is cut off just past its limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from roundtable.web.gate import MAX_API_BODY, MAX_FORM_BODY, MAX_UPLOAD_BYTES, MULTIPART_OVERHEAD
from tests.invitations.rsvp_support import invite
from tests.staff.staff_support import add_event, add_member, client_for, signed_in, token_for

ADMIN, VIEWER = "admin@un.example.org", "viewer@un.example.org"
CHUNK = 64 * 1024
MB = 1_000_000


@dataclass
class Exchange:
    """What the application answered, and how much of the body it asked for."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0


def call(
    method: str,
    path: str,
    *,
    size: int,
    headers: dict[str, str] | None = None,
    declare_length: bool = False,
) -> Exchange:
    """One request through the real application; the body (``size`` bytes) is produced lazily."""
    app = create_app()
    exchange = Exchange()
    sent = {"content-type": "application/json"} | (headers or {})
    if declare_length:
        sent["content-length"] = str(size)
    left = size

    async def receive() -> dict[str, object]:
        nonlocal left
        chunk = min(CHUNK, left)
        left -= chunk
        exchange.pulled += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": left > 0}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            exchange.status = int(message["status"])  # type: ignore[call-overload]
            raw = message.get("headers", [])
            exchange.headers = {k.decode(): v.decode() for k, v in raw}  # type: ignore[attr-defined]
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")  # type: ignore[operator]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in sent.items()],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 443),
    }
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    return exchange


@pytest.fixture
def people(sqlite_engine: Engine) -> Iterator[dict[str, str]]:
    add_member(ADMIN, "admin")
    add_member(VIEWER, "viewer")
    yield {"admin": token_for(ADMIN), "viewer": token_for(VIEWER)}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- the API: who asks, before what they send ------------------------------------------------


def test_a_38_mb_body_without_a_token_is_refused_without_being_read(sqlite_engine: Engine) -> None:
    streamed = call("POST", "/api/v1/events", size=38 * MB)
    declared = call("POST", "/api/v1/events", size=38 * MB, declare_length=True)
    assert streamed.status == 401 and streamed.pulled == 0
    assert streamed.headers["www-authenticate"] == 'Bearer realm="roundtable"'
    assert declared.status == 413 and declared.pulled == 0


def test_a_streamed_api_body_stops_just_past_its_limit(people: dict[str, str]) -> None:
    answer = call("POST", "/api/v1/events", size=38 * MB, headers=bearer(people["admin"]))
    assert answer.status == 413
    assert b"1 MiB" in answer.body
    assert MAX_API_BODY < answer.pulled <= MAX_API_BODY + CHUNK


def api_routes() -> list[tuple[str, str]]:
    """Every API route and method, path parameters filled in."""
    found = []
    for path, operations in create_app().openapi()["paths"].items():
        if path.startswith("/api/v1"):
            filled = re.sub(r"\{[^}]+\}", "1", path)
            found.extend((method.upper(), filled) for method in sorted(operations))
    return found


def test_every_api_route_answers_401_to_the_anonymous_without_reading(
    sqlite_engine: Engine,
) -> None:
    routes = api_routes()
    assert len(routes) >= 10
    for method, path in routes:
        for headers in ({}, {"authorization": "Bearer rt_not-a-token"}, {"authorization": "x"}):
            answer = call(method, path, size=10_000, headers=headers)
            assert (answer.status, answer.pulled) == (401, 0), (method, path, headers)
            assert answer.headers["cache-control"] == "no-store"


def test_a_viewer_change_is_403_whatever_the_body(people: dict[str, str]) -> None:
    with client_for(create_app()) as client:
        empty = client.post("/api/v1/events", json={}, headers=bearer(people["viewer"]))
        broken = client.post(
            "/api/v1/events",
            content=b"{not json",
            headers=bearer(people["viewer"]) | {"content-type": "application/json"},
        )
        put = client.put("/api/v1/events/nothing-here", json={}, headers=bearer(people["viewer"]))
        read = client.get("/api/v1/events", headers=bearer(people["viewer"]))
        # What the gate learnt about one request stays with it.
        after = client.get("/api/v1/events")
        admin_broken = client.post(
            "/api/v1/events",
            content=b"{not json",
            headers=bearer(people["admin"]) | {"content-type": "application/json"},
        )
    assert [empty.status_code, broken.status_code, put.status_code] == [403, 403, 403]
    assert empty.json() == {"detail": "your role (viewer) may not change anything"}
    assert read.status_code == 200
    assert after.status_code == 401
    assert read.headers["cache-control"] == "no-store"
    assert admin_broken.status_code == 422
    streamed = call("POST", "/api/v1/events", size=5 * MB, headers=bearer(people["viewer"]))
    assert (streamed.status, streamed.pulled) == (403, 0)


# --- forms: the login, the dashboard, the upload, the reply -----------------------------------


def test_an_80_mb_login_post_is_refused_unread(sqlite_engine: Engine) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    declared = call("POST", "/login", size=80 * MB, headers=form, declare_length=True)
    streamed = call("POST", "/login", size=80 * MB, headers=form)
    assert (declared.status, declared.pulled) == (413, 0)
    assert streamed.status == 413
    assert MAX_FORM_BODY < streamed.pulled <= MAX_FORM_BODY + CHUNK


def test_a_dashboard_post_without_a_session_goes_to_login_unread(sqlite_engine: Engine) -> None:
    form = {"content-type": "multipart/form-data; boundary=x"}
    for path in ("/dashboard/events/roundtable/import", "/dashboard/staff", "/logout"):
        answer = call("POST", path, size=3 * MB, headers=form)
        assert (answer.status, answer.pulled) == (303, 0), path
        assert answer.headers["location"].startswith("/login"), path


def test_the_import_takes_files_up_to_its_size_and_other_forms_64_kib(
    people: dict[str, str],
) -> None:
    add_event("roundtable")
    rows = "email,first_name,last_name\n" + "".join(
        f"guest{i}@example.org,Guest,Number {i}\n" for i in range(4000)
    )
    assert MAX_FORM_BODY < len(rows) < MAX_UPLOAD_BYTES
    with client_for(create_app()) as client:
        csrf = signed_in(client, ADMIN)
        imported = client.post(
            "/dashboard/events/roundtable/import",
            data={"csrf_token": csrf},
            files={"file": ("guests.csv", rows.encode(), "text/csv")},
        )
        oversized = client.post(
            "/dashboard/events/roundtable/import",
            data={"csrf_token": csrf},
            files={"file": ("big.csv", b"x" * (MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD), "text/csv")},
        )
        big_form = client.post("/dashboard/staff", data={"csrf_token": csrf, "email": "x" * 70_000})
    assert imported.status_code == 200, imported.text
    assert "Invitees imported" in imported.text or "4000" in imported.text
    assert oversized.status_code == 413
    assert big_form.status_code == 413


def test_a_reply_too_large_gets_the_invitees_page(sqlite_engine: Engine) -> None:
    _, token = invite(add_event(), 1)
    with TestClient(create_app()) as client:
        answer = client.post(f"/rsvp/{token}", data={"notes": "n" * 100_000})
    assert answer.status_code == 413
    assert "too long" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    streamed = call(
        "POST",
        f"/rsvp/{token}",
        size=80 * MB,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status == 413 and b"too long" in streamed.body
    assert streamed.pulled <= MAX_FORM_BODY + CHUNK


def test_a_long_event_file_still_saves_from_the_editor(people: dict[str, str]) -> None:
    """The event editor carries a whole event file: far more than a small form's 64 KiB."""
    add_event("roundtable")
    long_note = "# Une réunion de haut niveau sur l'intégration des migrants.\n" * 1_500
    with client_for(create_app()) as client:
        csrf = signed_in(client, ADMIN)
        editor = client.get("/dashboard/events/roundtable/edit")
        found = re.search(
            r'<textarea id="toml" name="toml"[^>]*>(.*?)</textarea>', editor.text, re.S
        )
        assert found is not None
        text = long_note + html.unescape(found[1])
        saved = client.post(
            "/dashboard/events/roundtable/edit", data={"csrf_token": csrf, "toml": text}
        )
    assert len(text.encode()) > MAX_FORM_BODY
    assert saved.status_code == 303, saved.text[:300]
