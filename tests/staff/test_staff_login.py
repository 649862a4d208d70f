"""Signing in and out of the dashboard: passwords, CSRF, the session cookie (throttling: see
test_staff_throttle)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from roundtable.db import read_session
from roundtable.staff.model import LoginThrottle, StaffUser
from roundtable.staff.throttle import account_key
from roundtable.web.app import create_app
from roundtable.web.auth import LOGIN_FAILED, SESSION_COOKIE, safe_next_path
from tests.staff.staff_support import (
    PASSWORD,
    add_event,
    add_member,
    client_for,
    csrf_of,
    log_in,
    signed_in,
)

ADMIN = "admin@un.example.org"


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def _account(email: str) -> StaffUser:
    with read_session() as session:
        return session.exec(select(StaffUser).where(StaffUser.email == email)).one()


def test_signing_in_sets_a_safe_session_cookie_and_opens_the_dashboard(web: TestClient) -> None:
    add_member(ADMIN, "admin")

    response = log_in(web, "  Admin@UN.example.org ", PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" in cookie  # the site's base URL is https
    assert "Max-Age=43200" in cookie
    page = web.get("/dashboard")
    assert page.status_code == 200
    assert ADMIN in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_signing_in_goes_back_to_the_page_asked_for_but_never_off_site(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    event_id = add_event("tour")
    assert event_id

    first = web.get("/dashboard/events/tour?status=accepted")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/dashboard/events/tour%3Fstatus%3Daccepted"
    form = web.get(first.headers["location"]).text
    response = web.post(
        "/login",
        data={
            "email": ADMIN,
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": "/dashboard/events/tour?status=accepted",
        },
    )
    assert response.headers["location"] == "/dashboard/events/tour?status=accepted"
    for hostile in (
        "https://evil.example/",
        "//evil.example/dashboard",
        "/dashboard\\..",
        "/logout",
        "/dashboard//evil.example",
    ):
        assert safe_next_path(hostile) == "/dashboard"


def _failures(session: Session, key: str) -> int:
    row = session.get(LoginThrottle, key)
    return row.failures if row is not None else 0


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(web: TestClient) -> None:
    add_member(ADMIN, "admin")

    wrong = log_in(web, ADMIN, "not the password")
    unknown = log_in(web, "nobody@un.example.org", PASSWORD)
    malformed = log_in(web, "not an address", PASSWORD)

    for response in (wrong, unknown, malformed):
        assert response.status_code == 200
        assert LOGIN_FAILED in response.text
        assert not any(
            SESSION_COOKIE in h and "staff" in h for h in response.headers.get_list("set-cookie")
        )
    assert web.get("/dashboard").status_code == 303
    with read_session() as session:
        assert _failures(session, account_key(ADMIN)) == 1
        assert _failures(session, account_key("nobody@un.example.org")) == 1


def test_signing_out_ends_the_session(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(web, ADMIN)

    response = web.post("/logout", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert web.get("/dashboard").status_code == 303


def test_a_copied_cookie_is_void_after_signing_out(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    csrf = signed_in(web, ADMIN)
    copied = dict(web.cookies)
    assert web.get("/dashboard").status_code == 200

    web.post("/logout", data={"csrf_token": csrf})
    web.cookies.clear()
    web.cookies.update(copied)  # someone kept the cookie from before the sign-out

    assert web.get("/dashboard").status_code == 303
    signed_in(web, ADMIN)  # signing in again works, with a fresh session
    assert web.get("/dashboard").status_code == 200


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_form_without_the_sessions_csrf_token_is_refused(
    web: TestClient, token: str | None
) -> None:
    add_member(ADMIN, "admin")
    add_event("tour")
    signed_in(web, ADMIN)
    data = {} if token is None else {"csrf_token": token}

    assert web.post("/dashboard/events/tour/send", data=data).status_code == 403
    assert web.post("/logout", data=data).status_code == 403
    assert web.get("/dashboard").status_code == 200  # still signed in


def test_the_login_form_needs_its_own_token(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    web.get("/login")

    response = web.post("/login", data={"email": ADMIN, "password": PASSWORD})

    assert response.status_code == 403
    assert web.get("/dashboard").status_code == 303


def test_a_session_cookie_tampered_with_signs_the_browser_out(web: TestClient) -> None:
    viewer_id = add_member("viewer@un.example.org", "viewer")
    admin_id = add_member(ADMIN, "admin")
    signed_in(web, "viewer@un.example.org")
    genuine = web.cookies[SESSION_COOKIE]
    assert viewer_id != admin_id

    payload, _, signature = genuine.rpartition(".")
    web.cookies.set(SESSION_COOKIE, payload + "." + signature[::-1], domain="testserver.local")
    assert web.get("/dashboard").status_code == 303

    forged = URLSafeTimedSerializer("another secret", salt="roundtable.staff-session").dumps(
        {"staff": admin_id, "csrf": "x"}
    )
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, forged, domain="testserver.local")
    response = web.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
