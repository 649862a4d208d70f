"""No query value makes a dashboard page fail: odd numbers, long ones, other scripts."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from roundtable.web.dashboard.rendering import MAX_PAGE_NUMBER, page_number
from tests.staff.staff_support import add_member, client_for, seed_mix, signed_in

ADMIN = "admin@un.example.org"

#: what a hand-edited or hostile URL may carry: superscripts, other digits, huge numbers
HOSTILE_VALUES = [
    "²",
    "¹²",
    "١٢",  # Arabic-Indic digits: int() reads them
    "１２",  # full-width digits
    "9" * 5000,  # more digits than int() parses
    "0" * 50 + "3",
    "-1",
    "1.5",
    " 2 ",
    "",
    "\x00",
    "%ff",
    "<script>",
    "nan",
]
PARAMETERS = ("page", "n", "q", "status", "role", "organization", "sort", "desc", "kind", "notice")


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    seed_mix("odd", count=5)
    add_member(ADMIN, "admin")
    with client_for(create_app()) as client:
        signed_in(client, ADMIN)
        yield client


def test_no_query_value_is_a_server_error(web: TestClient) -> None:
    pages = ["/dashboard", "/dashboard/events/odd", "/dashboard/messages"]
    pages += ["/dashboard/events/odd/messages", "/dashboard/staff"]
    for page in pages:
        for value in HOSTILE_VALUES:
            query = {name: value for name in PARAMETERS}
            answer = web.get(f"{page}?{urlencode(query)}")
            assert answer.status_code == 200, (page, value)
    notice = web.get("/dashboard?" + urlencode({"notice": "sent", "n": "²"}))
    assert "0 invitation(s) queued." in notice.text


@pytest.mark.parametrize(
    ("value", "number"),
    [("3", 3), ("²", 1), ("١٢", 1), ("１２", 1), ("9" * 5000, MAX_PAGE_NUMBER), ("0003", 3)],
)
def test_page_numbers_are_ascii_digits_within_bounds(value: str, number: int) -> None:
    assert page_number(value) == number
