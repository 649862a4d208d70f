"""Fuzzing the dashboard's forms over HTTP, signed in and with a valid CSRF token (mostly):
never a 5xx; a refusal says why in words and changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from tests.fuzz.http_support import (
    BOUNDARY,
    Body,
    Part,
    assert_refusal_is_explained,
    bodies,
    field_pairs,
    multipart,
    url_form,
)
from tests.fuzz.strategies import (
    EVENT_BASE,
    FUZZ,
    LONG_IDNA_EMAIL,
    emails,
    event_files,
    hostile_text,
    huge_text,
    invitee_files,
    mostly,
    one_in,
    render_event,
    scaled,
    toml_noise,
)
from tests.invitations.rsvp_support import invite, snapshot
from tests.staff.staff_support import (
    PASSWORD,
    add_event,
    add_member,
    client_for,
    csrf_of,
    signed_in,
)

ADMIN = "admin@un.example.org"
SLUG = "fuzz-staff"
#: stands for the session's CSRF token in a drawn form
CSRF = "\x00csrf"
CSRF_VALUES = st.sampled_from([CSRF] * 9 + ["", "forged"])


@dataclass(frozen=True)
class Dashboard:
    client: TestClient
    csrf: str
    staff_id: int
    invitation_id: int
    event_id: int


@pytest.fixture
def dashboard(engine: Engine) -> Iterator[Dashboard]:
    """An administrator signed in, an event with one invitee; shared by a test's examples."""
    staff_id = add_member(ADMIN, "admin")
    event_id = add_event(SLUG, max_guests=2, capacity=50)
    invitation_id, _ = invite(event_id, 1)
    with client_for(create_app()) as client:
        yield Dashboard(client, signed_in(client, ADMIN), staff_id, invitation_id, event_id)


def _post(
    dashboard: Dashboard,
    path: str,
    body: Body,
    *,
    csrf: str | None = None,
    ignore: tuple[str, ...] = (),
) -> httpx.Response:
    """Post ``body`` with the session's CSRF token put in; check that a refusal says why
    and that it changed nothing (but the tables in ``ignore``)."""
    csrf = csrf or dashboard.csrf
    content = body.content.replace(CSRF.encode(), csrf.encode())
    content = content.replace(b"%00csrf", csrf.encode())
    before = snapshot()
    response = dashboard.client.post(path, content=content, headers=body.headers())
    assert response.status_code < 500, response.text[:2000]
    event(f"{body.note or 'form'} -> {response.status_code}")
    if response.status_code < 400:
        return response
    assert_refusal_is_explained(response)
    after = snapshot()
    for table in ignore:
        del before[table], after[table]
    assert after == before, "a refused form must change nothing"
    return response


def _form(**fields: str) -> Body:
    return url_form(csrf_token=CSRF, **fields)


def _with_csrf(fields: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[Body]:
    return field_pairs({"csrf_token": CSRF_VALUES, **fields}).flatmap(bodies)


# -- signing in -----------------------------------------------------------------------------


LOGIN_FIELDS = {
    "email": mostly(
        st.sampled_from([ADMIN, "ADMIN@UN.example.org", "nobody@un.example.org"]), emails()
    ),
    "password": mostly(st.sampled_from([PASSWORD, "wrong password"]), hostile_text()),
    "next": mostly(
        st.sampled_from(["", "/dashboard", f"/dashboard/events/{SLUG}"]),
        st.sampled_from(
            ["//evil.example", "https://evil.example", "/dashboard\\..", "/dashboard\r\nX: y"]
        ),
    ),
}


@settings(FUZZ, max_examples=scaled(15))
@given(body=_with_csrf(LOGIN_FIELDS))
@example(body=_form(email=LONG_IDNA_EMAIL, password="x" * 5000))
@example(body=_form(email="a@example.org\x00", password="\x00", next="/dashboard\x00"))
def test_the_login_form_signs_in_or_says_why(dashboard: Dashboard, body: Body) -> None:
    # Signing in again starts a new session with a new token: read the current one.
    page = dashboard.client.get("/login")
    csrf = csrf_of(
        dashboard.client.get("/dashboard").text if page.status_code == 303 else page.text
    )
    # A wrong password counts towards the account's lock: that is the one change allowed.
    response = _post(dashboard, "/login", body, csrf=csrf, ignore=("staff_user",))
    if response.status_code == 303:
        location = response.headers["location"]
        assert location.startswith("/dashboard") and "//" not in location


# -- events ---------------------------------------------------------------------------------

fresh_slugs = itertools.count(1)
EVENT_TEXTS = st.one_of(
    event_files().map(lambda case: case.text),
    event_files().map(lambda case: case.text.replace("\n", "\r\n")),
    toml_noise(),
)


@settings(FUZZ, max_examples=scaled(30))
@given(body=_with_csrf({"toml": EVENT_TEXTS}))
def test_a_new_event_is_created_or_refused_in_words(dashboard: Dashboard, body: Body) -> None:
    # A slug of its own for each example, so that a valid file creates rather than conflicts.
    fresh = f"fuzz-new-{next(fresh_slugs)}".encode()
    body = Body(body.content.replace(b"fuzz-roundtable", fresh), body.content_type, body.note)
    response = _post(dashboard, "/dashboard/events/new", body)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/dashboard/events/")


@settings(FUZZ, max_examples=scaled(30))
@given(
    body=_with_csrf(
        {"toml": st.one_of(event_files(slug=SLUG).map(lambda case: case.text), toml_noise())}
    )
)
@example(
    body=_form(
        toml=render_event(
            {**EVENT_BASE, "slug": SLUG, "organizer": {"name": "IOM", "email": LONG_IDNA_EMAIL}}
        ).text
    )
)
@example(body=_form(toml=render_event({**EVENT_BASE, "slug": "another-slug"}).text))
def test_an_event_edit_is_saved_or_refused_in_words(dashboard: Dashboard, body: Body) -> None:
    _post(dashboard, f"/dashboard/events/{SLUG}/edit", body)


@settings(FUZZ, max_examples=scaled(20))
@given(body=_with_csrf({"text": st.one_of(hostile_text(), huge_text())}))
@example(body=_form(text="# Recommendations\n\x00"))
def test_recommendations_are_published_or_refused_in_words(
    dashboard: Dashboard, body: Body
) -> None:
    _post(dashboard, f"/dashboard/events/{SLUG}/recommendations", body)


# -- invitees -------------------------------------------------------------------------------

FILENAMES = mostly(
    st.sampled_from(["invitees.csv", "Invitees (2).CSV"]),
    st.one_of(
        st.sampled_from(
            [
                "",
                "../../etc/passwd",
                "a\x00b.csv",
                "x" * 300 + ".csv",
                "名单.csv",
                "=cmd.csv",
                "\r\n.csv",
            ]
        ),
        hostile_text(20),
    ),
)


@st.composite
def uploads(draw: st.DrawFn) -> Body:
    """The import form as a browser sends it, with a hostile file and file name."""
    parts = [Part("csrf_token", draw(CSRF_VALUES).encode())]
    files = draw(st.sampled_from([1, 1, 1, 1, 0, 2]))
    for _ in range(files):
        parts.append(
            Part(
                "file",
                draw(invitee_files()),
                draw(FILENAMES),
                draw(
                    st.sampled_from(
                        ["text/csv", "application/octet-stream", "text/plain; charset=utf-16"]
                    )
                ),
            )
        )
    if draw(one_in(2)):
        parts.append(Part("skip_invalid", draw(st.sampled_from([b"1", b"0", b"yes"]))))
    if draw(one_in(6)):  # the file as a plain field, not an upload
        parts.append(Part("file", b"email,name\nana@example.org,Ana\n"))
    parts = draw(st.permutations(parts))
    return Body(multipart(list(parts)), f"multipart/form-data; boundary={BOUNDARY}", "upload")


@settings(FUZZ, max_examples=scaled(40))
@given(body=st.one_of(uploads(), uploads(), uploads(), _with_csrf({"file": hostile_text()})))
@example(
    body=Body(
        multipart(
            [
                Part("csrf_token", CSRF.encode()),
                Part(
                    "file",
                    f"email,name\nana@example.org,Ana\n{LONG_IDNA_EMAIL},Long\n".encode(),
                    "invitees.csv",
                ),
            ]
        ),
        f"multipart/form-data; boundary={BOUNDARY}",
    )
)
@example(
    body=Body(
        multipart(
            [
                Part("csrf_token", CSRF.encode()),
                Part("file", b"email,name\n" + b"a@example.org,Ana\n" * 300_000, "big.csv"),
            ]
        ),
        f"multipart/form-data; boundary={BOUNDARY}",
    )
)
def test_an_upload_is_imported_whole_or_refused_whole(dashboard: Dashboard, body: Body) -> None:
    response = _post(dashboard, f"/dashboard/events/{SLUG}/import", body)
    assert response.status_code in (200, 400, 403, 413, 422)


REPLY_FIELDS: dict[str, Any] = {
    "response": mostly(
        st.sampled_from(["accept", "decline", "tentative"]),
        st.one_of(st.sampled_from(["", "maybe", "ACCEPT"]), hostile_text()),
    ),
    "guests": mostly(
        st.sampled_from(["0", "1", "2"]),
        st.one_of(st.sampled_from(["3", "-1", "9" * 30]), hostile_text()),
    ),
    "notes": mostly(
        st.sampled_from(["", "By phone.", "=cmd|' /C calc'!A0"]),
        st.one_of(hostile_text(), huge_text()),
    ),
    "reason": mostly(
        st.sampled_from(["Phoned the office", "  "]), st.one_of(hostile_text(), huge_text())
    ),
    "override_deadline": st.sampled_from(["", "1", "on"]),
}
#: ids that name no invitation but fit the database's integer
OTHER_IDS = st.sampled_from([0, -1, 999_999, 2**31 - 1])


@settings(FUZZ, max_examples=scaled(30))
@given(body=_with_csrf(REPLY_FIELDS), other=mostly(st.none(), OTHER_IDS))
def test_a_reply_on_behalf_is_recorded_or_refused_in_words(
    dashboard: Dashboard, body: Body, other: int | None
) -> None:
    invitation_id = dashboard.invitation_id if other is None else other
    _post(dashboard, f"/dashboard/events/{SLUG}/invitees/{invitation_id}/reply", body)


STAFF_FIELDS = {
    "email": emails(),
    "role": mostly(st.sampled_from(["organizer", "viewer", "admin"]), hostile_text()),
    "password": mostly(st.just("a long enough password"), hostile_text()),
}


@settings(FUZZ, max_examples=scaled(15))
@given(body=_with_csrf(STAFF_FIELDS))
@example(body=_form(email=LONG_IDNA_EMAIL, role="viewer", password="a long enough password"))
def test_a_staff_account_is_added_or_refused_in_words(dashboard: Dashboard, body: Body) -> None:
    _post(dashboard, "/dashboard/staff", body)


@settings(FUZZ, max_examples=scaled(20))
@given(
    path=st.sampled_from(
        [
            "/dashboard/events/{slug}/invitees/{invitation}/checkin",
            "/dashboard/events/{slug}/send",
            "/dashboard/staff/{staff}/grants",
            "/dashboard/staff/{staff}/unlock",
            "/dashboard/staff/{staff}/grants/{event}/delete",
            "/dashboard/messages/{other}/resend",
        ]
    ),
    body=_with_csrf({"event": mostly(st.just(SLUG), hostile_text()), "next": hostile_text()}),
    other=OTHER_IDS,
    slug=mostly(st.just(SLUG), st.sampled_from(["nope", "é", "x" * 300])),
)
def test_small_forms_act_or_refuse_in_words(
    dashboard: Dashboard, path: str, body: Body, other: int, slug: str
) -> None:
    url = path.format(
        slug=slug,
        invitation=dashboard.invitation_id,
        staff=dashboard.staff_id,
        event=dashboard.event_id,
        other=other,
    )
    _post(dashboard, url, body)
