"""Accounts and tokens over time, from the command line and the staff page: list, grant and
ungrant, revoke every token, disable and enable, set a password, token expiry and last use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session, write_session
from roundtable.staff.accounts import LAST_USE_RESOLUTION, password_matches
from roundtable.staff.model import ApiToken, EventGrant, StaffUser
from roundtable.types import utcnow
from roundtable.web.app import create_app
from roundtable.web.auth import LOGIN_FAILED
from tests.staff.staff_support import (
    PASSWORD,
    add_event,
    add_member,
    client_for,
    log_in,
    signed_in,
    token_for,
)

runner = CliRunner()
ADMIN = "admin@un.example.org"
OFFICER = "officer@un.example.org"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


def _cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _user(email: str) -> StaffUser:
    with read_session() as session:
        return session.exec(select(StaffUser).where(StaffUser.email == email)).one()


def _tokens(email: str) -> list[ApiToken]:
    user = _user(email)
    with read_session() as session:
        return list(session.exec(select(ApiToken).where(ApiToken.staff_id == user.id)).all())


def test_list_shows_roles_grants_tokens_and_last_use(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    event_id = add_event("tour")
    add_member(OFFICER, "organizer", events=(event_id,))
    token = token_for(OFFICER)
    token_for(OFFICER)
    assert web.get("/api/v1/events", headers=_bearer(token)).status_code == 200

    code, out, _ = _cli("staff", "list", "--json")
    assert code == 0
    accounts = {a["email"]: a for a in json.loads(out)["accounts"]}
    officer = accounts[OFFICER]
    assert officer["role"] == "organizer" and officer["grants"] == ["tour"]
    assert officer["tokens"] == {"active": 2, "total": 2}
    assert officer["last_token_use_at"] is not None and not officer["disabled"]
    assert accounts[ADMIN]["tokens"] == {"active": 0, "total": 0}
    assert accounts[ADMIN]["last_token_use_at"] is None

    code, out, _ = _cli("staff", "list")
    assert code == 0 and OFFICER in out and "tour" in out


def test_grant_and_ungrant_by_email_and_slug(web: TestClient) -> None:
    add_event("tour")
    add_member(OFFICER, "organizer")

    assert _cli("staff", "grant", OFFICER, "tour")[0] == 0
    assert _cli("staff", "grant", OFFICER.upper(), "tour")[0] == 0  # twice: still one grant
    with read_session() as session:
        assert len(session.exec(select(EventGrant)).all()) == 1
    code, out, _ = _cli("staff", "ungrant", OFFICER, "tour", "--json")
    assert code == 0 and json.loads(out) == {"email": OFFICER, "slug": "tour", "changed": True}
    with read_session() as session:
        assert session.exec(select(EventGrant)).all() == []

    code, _, err = _cli("staff", "grant", "nobody@un.example.org", "tour")
    assert code == 1 and "email" in err and "no staff account" in err
    code, _, err = _cli("staff", "grant", OFFICER, "no-such-event")
    assert code == 1 and "slug" in err and "no event" in err
    assert _cli("staff", "grant", OFFICER)[0] == 2


def test_revoke_stops_every_token_of_the_account_at_once(web: TestClient) -> None:
    add_member(OFFICER, "organizer")
    add_member(ADMIN, "admin")
    first, second, other = token_for(OFFICER), token_for(OFFICER), token_for(ADMIN)
    assert web.get("/api/v1/events", headers=_bearer(first)).status_code == 200

    code, out, _ = _cli("staff", "revoke", OFFICER, "--json")
    assert code == 0 and json.loads(out) == {"email": OFFICER, "revoked": 2}
    answers = [web.get("/api/v1/events", headers=_bearer(t)) for t in (first, second)]
    assert [a.status_code for a in answers] == [401, 401]
    assert web.get("/api/v1/events", headers=_bearer(other)).status_code == 200
    assert _cli("staff", "revoke", "nobody@un.example.org")[0] == 1


def test_expired_revoked_and_disabled_tokens_get_the_same_401(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    add_member(OFFICER, "organizer")
    code, out, _ = _cli("staff", "token", OFFICER, "--expires", "90d", "--json")
    assert code == 0
    expiring = json.loads(out)
    expires_at = _tokens(OFFICER)[0].expires_at
    assert expires_at is not None
    assert timedelta(days=89) < expires_at - utcnow() <= timedelta(days=90)
    assert web.get("/api/v1/events", headers=_bearer(expiring["token"])).status_code == 200

    with write_session() as session:  # ninety days later
        row = session.exec(select(ApiToken)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    expired = web.get("/api/v1/events", headers=_bearer(expiring["token"]))

    revoked_token = token_for(ADMIN)
    _cli("staff", "revoke", ADMIN)
    revoked = web.get("/api/v1/events", headers=_bearer(revoked_token))

    disabled_token = token_for(OFFICER)
    assert web.get("/api/v1/events", headers=_bearer(disabled_token)).status_code == 200
    assert _cli("staff", "disable", OFFICER)[0] == 0
    disabled = web.get("/api/v1/events", headers=_bearer(disabled_token))
    unknown = web.get("/api/v1/events", headers=_bearer("rt_" + "x" * 43))

    assert {r.status_code for r in (expired, revoked, disabled, unknown)} == {401}
    assert len({r.json()["detail"] for r in (expired, revoked, disabled, unknown)}) == 1

    assert _cli("staff", "enable", OFFICER)[0] == 0
    assert web.get("/api/v1/events", headers=_bearer(disabled_token)).status_code == 200

    code, _, err = _cli("staff", "token", OFFICER, "--expires", "soon")
    assert code == 1 and "--expires" in err


def test_a_tokens_last_use_is_written_at_most_once_a_minute(web: TestClient) -> None:
    add_member(OFFICER, "viewer")
    token = token_for(OFFICER)
    assert _tokens(OFFICER)[0].last_used_at is None

    web.get("/api/v1/events", headers=_bearer(token))
    first = _tokens(OFFICER)[0].last_used_at
    assert first is not None
    web.get("/api/v1/events", headers=_bearer(token))
    assert _tokens(OFFICER)[0].last_used_at == first  # a second later: no new write

    with write_session() as session:  # as if the last use were over a minute ago
        row = session.exec(select(ApiToken)).one()
        row.last_used_at = utcnow() - LAST_USE_RESOLUTION - timedelta(seconds=1)
        session.add(row)
    web.get("/api/v1/events", headers=_bearer(token))
    later = _tokens(OFFICER)[0].last_used_at
    assert later is not None and later > first


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(web: TestClient) -> None:
    add_member(OFFICER, "viewer")
    signed_in(web, OFFICER)
    assert web.get("/dashboard").status_code == 200

    code, out, _ = _cli("staff", "disable", OFFICER, "--json")
    assert code == 0 and json.loads(out)["disabled"] is True
    assert web.get("/dashboard").status_code == 303  # the open session is over
    refused = log_in(web, OFFICER, PASSWORD)
    assert refused.status_code == 200 and LOGIN_FAILED in refused.text

    assert _cli("staff", "enable", OFFICER)[0] == 0
    assert log_in(web, OFFICER, PASSWORD).status_code == 303
    assert _user(OFFICER).last_login_at is not None


def test_password_from_stdin_replaces_the_old_one_and_ends_sessions(web: TestClient) -> None:
    add_member(OFFICER, "viewer")
    signed_in(web, OFFICER)

    code, _, err = _cli("staff", "password", OFFICER, "--password-stdin", input="short\n")
    assert code == 1 and "password" in err
    assert password_matches(_user(OFFICER).password_hash, PASSWORD)  # nothing changed
    assert _cli("staff", "password", OFFICER)[0] == 2  # never on the command line

    code, _, _ = _cli("staff", "password", OFFICER, "--password-stdin", input=NEW_PASSWORD + "\n")
    assert code == 0
    assert web.get("/dashboard").status_code == 303
    assert LOGIN_FAILED in log_in(web, OFFICER, PASSWORD).text
    assert log_in(web, OFFICER, NEW_PASSWORD).status_code == 303


def test_the_staff_page_does_the_same_for_an_administrator(web: TestClient) -> None:
    add_member(ADMIN, "admin")
    event_id = add_event("tour")
    officer_id = add_member(OFFICER, "organizer")
    token = token_for(OFFICER)
    web.get("/api/v1/events", headers=_bearer(token))
    csrf = signed_in(web, ADMIN)

    page = web.get("/dashboard/staff").text
    assert "1 active" in page and "Revoke all tokens" in page and "last use:" in page

    def post(path: str, **data: str) -> int:
        return web.post(path, data={"csrf_token": csrf, **data}).status_code

    assert post(f"/dashboard/staff/{officer_id}/grants", event="tour") == 303
    assert post(f"/dashboard/staff/{officer_id}/tokens/revoke") == 303
    assert web.get("/api/v1/events", headers=_bearer(token)).status_code == 401
    assert post(f"/dashboard/staff/{officer_id}/disable") == 303
    assert _user(OFFICER).disabled_at is not None
    assert post(f"/dashboard/staff/{officer_id}/enable") == 303
    assert post(f"/dashboard/staff/{officer_id}/password", password="short") == 422
    assert post(f"/dashboard/staff/{officer_id}/password", password=NEW_PASSWORD) == 303
    assert password_matches(_user(OFFICER).password_hash, NEW_PASSWORD)
    assert post(f"/dashboard/staff/{officer_id}/grants/{event_id}/delete") == 303
    with read_session() as session:
        assert session.exec(select(EventGrant)).all() == []

    # no form without the session's token; no disabling oneself; unknown accounts 404
    me = _user(ADMIN).id
    assert web.post(f"/dashboard/staff/{officer_id}/disable").status_code == 403
    assert post(f"/dashboard/staff/{me}/disable") == 403
    assert post("/dashboard/staff/999999/disable") == 404
    assert _user(ADMIN).disabled_at is None


def test_only_administrators_change_accounts_on_the_page(web: TestClient) -> None:
    officer_id = add_member(OFFICER, "organizer")
    add_member("viewer@un.example.org", "viewer")
    csrf = signed_in(web, "viewer@un.example.org")
    for action in ("disable", "tokens/revoke", "password"):
        answer = web.post(
            f"/dashboard/staff/{officer_id}/{action}",
            data={"csrf_token": csrf, "password": NEW_PASSWORD},
        )
        assert answer.status_code == 403, action
    assert _user(OFFICER).disabled_at is None
    assert password_matches(_user(OFFICER).password_hash, PASSWORD)
