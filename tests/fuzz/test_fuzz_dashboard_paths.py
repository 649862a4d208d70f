"""What fuzzing the dashboard's forms found in their paths: made-up ids and slugs.

An id beyond the database's integers, or a slug with a NUL, used to reach the
query and fail there (500); both are refused with a 4xx now.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from tests.invitations.rsvp_support import invite
from tests.staff.staff_support import APP_URL, add_event, add_member, signed_in

ADMIN = "admin@un.example.org"
#: larger than any integer column: SQLite and PostgreSQL raise instead of finding nothing
HUGE = 10**20


@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/events/gap/invitees/{HUGE}/reply",
        f"/dashboard/events/gap/invitees/{HUGE}/checkin",
        f"/dashboard/staff/{HUGE}/unlock",
        f"/dashboard/messages/{HUGE}/resend",
    ],
)
def test_an_id_beyond_the_database_integer_is_refused(sqlite_engine: Engine, path: str) -> None:
    add_member(ADMIN, "admin")
    invite(add_event("gap"), 1)
    with TestClient(
        create_app(), base_url=APP_URL, follow_redirects=False, raise_server_exceptions=False
    ) as client:
        csrf = signed_in(client, ADMIN)
        response = client.post(path, data={"csrf_token": csrf, "response": "accept", "reason": "x"})
    assert 400 <= response.status_code < 500, response.status_code


def test_a_slug_with_nul_is_not_found_on_postgresql(pg_engine: Engine) -> None:
    """PostgreSQL refuses a NUL in text outright (SQLite compares it like any character)."""
    add_member(ADMIN, "admin")
    with TestClient(
        create_app(), base_url=APP_URL, follow_redirects=False, raise_server_exceptions=False
    ) as client:
        signed_in(client, ADMIN)
        response = client.get("/dashboard/events/%00")
    assert response.status_code == 404, response.status_code
