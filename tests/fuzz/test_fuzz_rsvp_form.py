"""Fuzzing ``POST /rsvp/{token}`` over HTTP against the real app: never a 5xx; a refusal says
why in words and changes nothing; an accepted reply sends the browser back to the page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from roundtable.web.security import FailedLookupLimiter, form_token
from tests.fuzz.http_support import (
    Body,
    assert_refusal_is_explained,
    bodies,
    field_pairs,
    url_form,
)
from tests.fuzz.strategies import (
    FUZZ,
    LONG_IDNA_EMAIL,
    emails,
    hostile_text,
    huge_text,
    mostly,
    one_in,
    scaled,
)
from tests.invitations.rsvp_support import add_event, invitation, invite, snapshot
from tests.staff.staff_support import APP_URL, client_for

#: stands for the invitation's own token (in the path) or form token (in the body)
VALID = "\x00valid"


@dataclass(frozen=True)
class Page:
    client: TestClient
    token: str
    form_token: str


@pytest.fixture
def page(engine: Engine) -> Iterator[Page]:
    """One invitee's page; every example of a test replies on it, one after the other."""
    event_id = add_event("fuzz-rsvp", capacity=3, max_guests=2)
    invitation_id, token = invite(event_id, 1)
    salt = invitation(invitation_id).token_salt
    assert salt is not None
    app = create_app()
    # Guessed tokens count against the address; here they are part of the fuzzing.
    app.state.rsvp_limiter = FailedLookupLimiter(limit=1_000_000)
    with client_for(app) as client:
        yield Page(client, token, form_token(invitation_id, salt))


REPLY_FIELDS = {
    "response": mostly(
        st.sampled_from(["accept", "decline", "tentative"]),
        st.one_of(st.sampled_from(["ACCEPT", " decline ", "maybe", ""]), hostile_text()),
    ),
    "guests": mostly(
        st.sampled_from(["0", "1", "2", ""]),
        st.one_of(
            st.sampled_from(["3", "-1", "１", "99999999999999999999", "1.5"]), hostile_text()
        ),
    ),
    "notes": mostly(
        st.sampled_from(["", "Happy to come.", "=cmd|' /C calc'!A0", "-1+2"]),
        st.one_of(hostile_text(), huge_text()),
    ),
    "substitute_name": mostly(st.just(""), st.one_of(st.just("Rep Person"), hostile_text())),
    "substitute_email": mostly(st.just(""), emails()),
    "form_token": st.sampled_from([VALID] * 8 + ["", "0" * 64, "not-hex"]),
}
GUESSED_TOKENS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(["", "x" * 5000, "..", "%00", "a/b", VALID + "x"]),
)
TOKENS = one_in(5).flatmap(lambda guessed: GUESSED_TOKENS if guessed else st.just(VALID))
ORIGINS = st.sampled_from(
    [{}] * 4 + [{"Origin": APP_URL}] * 2 + [{"Origin": "null"}, {"Origin": "https://evil.example"}]
)
FETCH_SITES = st.sampled_from(
    [{}] * 5 + [{"Sec-Fetch-Site": "same-origin"}] * 2 + [{"Sec-Fetch-Site": "cross-site"}]
)


def _path(page: Page, token: str) -> str:
    token = page.token if token == VALID else token.replace(VALID, page.token)
    return f"/rsvp/{quote(token, safe='')}"


def _post(page: Page, token: str, body: Body, headers: dict[str, str]) -> None:
    """Post, then check the answer and that a refusal changed nothing."""
    content = body.content.replace(quote(VALID).encode(), page.form_token.encode())
    content = content.replace(VALID.encode(), page.form_token.encode())
    before = snapshot()
    response = page.client.post(_path(page, token), content=content, headers=body.headers(headers))
    assert response.status_code < 500, response.text[:2000]
    event(f"{body.note or 'form'} -> {response.status_code}")
    if response.status_code == 303:
        assert response.headers["location"].startswith(f"/rsvp/{page.token}?done=")
        return
    assert_refusal_is_explained(response)
    assert snapshot() == before, "a refused reply must change nothing"


def _form(**fields: str) -> Body:
    return url_form(form_token=VALID, **fields)


@settings(FUZZ, max_examples=scaled(100))
@given(
    token=TOKENS,
    body=field_pairs(REPLY_FIELDS).flatmap(bodies),
    origin=ORIGINS,
    fetch_site=FETCH_SITES,
)
@example(
    token=VALID,
    body=_form(response="decline", substitute_name="Rep", substitute_email=LONG_IDNA_EMAIL),
    origin={},
    fetch_site={},
)
@example(
    token=VALID,
    body=_form(response="accept", guests="2", notes="=cmd|' /C calc'!A0"),
    origin={},
    fetch_site={},
)
@example(token=VALID, body=_form(response="accept", notes="x" * 70_000), origin={}, fetch_site={})
@example(token=VALID, body=_form(response="tentative", notes="a\x00b"), origin={}, fetch_site={})
def test_any_post_is_recorded_or_refused_in_words_and_changes_nothing(
    page: Page,
    token: str,
    body: Body,
    origin: dict[str, str],
    fetch_site: dict[str, str],
) -> None:
    _post(page, token, body, {**origin, **fetch_site})
