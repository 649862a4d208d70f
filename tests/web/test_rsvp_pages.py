"""The invitee's pages, driven over HTTP against the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine

from roundtable.db import write_session
from roundtable.events.model import AgendaItem
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import new_salt
from roundtable.presentation import i18n
from roundtable.types import utcnow
from roundtable.web import rsvp
from roundtable.web.app import create_app
from tests.invitations.rsvp_support import (
    add_event,
    invitation,
    invite,
    messages,
    snapshot,
    token_of,
)

BASE_URL = "https://rsvp.example.org"  # what the ``env`` fixture configures


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app on SQLite and on PostgreSQL in turn, for tests about what gets stored."""
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    """The app on SQLite only, for tests about the HTTP layer itself."""
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


def form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', page)
    assert found, "the page carries its form token"
    return found.group(1)


def post_reply(client: TestClient, token: str, **fields: str) -> httpx.Response:
    """A reply as the page's own form sends it: with its hidden token, from the same site."""
    page = client.get(f"/rsvp/{token}").text
    return client.post(
        f"/rsvp/{token}",
        data={"form_token": form_token(page), **fields},
        headers={"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"},
    )


def test_looking_at_the_page_twice_changes_nothing(client: TestClient) -> None:
    event_id = add_event(capacity=5)
    _, token = invite(event_id, 1)
    before = snapshot()

    for path in (f"/rsvp/{token}", f"/rsvp/{token}?response=accept", f"/rsvp/{token}/invite.ics"):
        assert client.get(path).status_code == 200
        assert client.get(path).status_code == 200  # a mail scanner, minutes later

    assert snapshot() == before


def test_the_page_shows_the_event_in_both_time_zones(web: TestClient) -> None:
    event_id = add_event(
        co_organizers=["IOM", "UNAoC"],
        description="Opening **remarks**.<script>alert(1)</script>",
        webcast_url="https://webtv.un.org/",
        max_guests=2,
        rsvp_deadline=utcnow() + timedelta(days=30),
    )
    with write_session() as session:
        session.add(
            AgendaItem(
                event_id=event_id,
                position=0,
                time="13:15",
                title="Opening",
                speakers=["Director General, IOM"],
            )
        )
    _, token = invite(event_id, 1, timezone="Asia/Tokyo")

    page = web.get(f"/rsvp/{token}")

    assert page.status_code == 200
    html = page.text
    assert '<html lang="en" dir="ltr">' in html
    assert 'name="viewport"' in html
    for text in (
        "The Inter-Ethnic City",
        "High-Level Roundtable",
        "IOM",
        "UNAoC",
        "United Nations Headquarters",
        "Conference Room 6",
        "13:15",
        "Director General, IOM",
        "https://webtv.un.org/",
        "You have not replied yet",
    ):
        assert text in html
    assert "Thursday, 23 September 2027" in html  # at the venue (13:15 in New York)
    assert "Friday, 24 September 2027" in html  # and in Tokyo, where it is already Friday
    assert "<strong>remarks</strong>" in html
    assert "<script" not in html
    assert '<form method="post"' in html
    assert 'name="guests"' in html
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "outlook.live.com/calendar/0/deeplink/compose" in html
    assert f"/rsvp/{token}/invite.ics" in html
    third_party = re.findall(r'href="(https://(?:calendar\.google|outlook\.live)\.com[^"]*)"', html)
    assert len(third_party) == 2
    assert all(token not in link for link in third_party), (
        "the token never leaves for a third party"
    )


def test_guests_are_only_asked_for_when_allowed(web: TestClient) -> None:
    _, token = invite(add_event(max_guests=0), 1)
    assert 'name="guests"' not in web.get(f"/rsvp/{token}").text


def test_the_response_in_the_link_only_preselects(web: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    page = web.get(f"/rsvp/{token}?response=decline").text
    assert re.search(r'value="decline" checked', page)
    assert not re.search(r'value="accept" checked', page)
    assert invitation(invitation_id).status == Status.INVITED
    assert messages() == []


def test_reply_then_change_of_mind(client: TestClient) -> None:
    invitation_id, token = invite(add_event(max_guests=1), 1)

    answer = post_reply(client, token, response="accept", guests="1", notes="Step-free access")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/rsvp/{token}?done=1"
    page = client.get(f"/rsvp/{token}?done=1").text
    assert "Your acceptance is recorded; a confirmation is on its way" in page
    assert "You accepted on" in page and "You are bringing 1 guest." in page
    assert "Step-free access" in page
    assert invitation(invitation_id).status == Status.ACCEPTED

    post_reply(client, token, response="decline")
    page = client.get(f"/rsvp/{token}?done=1").text
    assert "you will not attend" in page
    assert invitation(invitation_id).status == Status.DECLINED
    assert len(messages("confirmation")) == 2

    same = post_reply(client, token, response="decline")
    assert same.headers["location"].endswith("?done=unchanged")
    assert len(messages("confirmation")) == 2


def test_a_plain_scripted_post_with_the_contract_fields_works(client: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    answer = client.post(f"/rsvp/{token}", data={"response": "tentative"})
    assert answer.status_code == 303
    assert invitation(invitation_id).status == Status.TENTATIVE


def test_a_multipart_form_is_read_too(web: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    answer = web.post(f"/rsvp/{token}", files={"response": (None, "accept")})
    assert answer.status_code == 303
    assert invitation(invitation_id).status == Status.ACCEPTED


def test_waiting_list_then_promotion_when_a_seat_is_freed(client: TestClient) -> None:
    event_id = add_event(capacity=1)
    first_id, first = invite(event_id, 1)
    second_id, second = invite(event_id, 2)
    post_reply(client, first, response="accept")
    post_reply(client, second, response="accept")
    page = client.get(f"/rsvp/{second}?done=1").text
    assert "you are on the waiting list" in page
    assert invitation(second_id).status == Status.WAITLISTED

    post_reply(client, first, response="decline")

    assert invitation(first_id).status == Status.DECLINED
    assert invitation(second_id).status == Status.ACCEPTED
    [promotion] = messages("promotion")
    assert promotion.invitation_id == second_id


def test_after_the_deadline_the_page_names_the_contact_and_refuses_replies(
    client: TestClient,
) -> None:
    invitation_id, token = invite(add_event(rsvp_deadline=utcnow() - timedelta(minutes=1)), 1)
    page = client.get(f"/rsvp/{token}").text
    assert "<form" not in page
    assert "The reply period has closed" in page
    assert "Maria Rossi" in page and "mrossi@iom.example.org" in page

    answer = client.post(f"/rsvp/{token}", data={"response": "accept"})
    assert answer.status_code == 409
    assert "The reply period has closed" in answer.text
    assert invitation(invitation_id).status == Status.INVITED


def test_a_representative_gets_a_working_link(client: TestClient) -> None:
    event_id = add_event()
    original_id, token = invite(event_id, 1)

    answer = post_reply(
        client,
        token,
        response="decline",
        substitute_name="Ana Lima",
        substitute_email="ana.lima@example.org",
    )

    assert answer.status_code == 303
    page = client.get(f"/rsvp/{token}?done=1").text
    assert "Represented by Ana Lima" in page
    assert "An invitation is on its way to your representative, Ana Lima" in page
    representative_id = invitation(original_id).represented_by_id
    assert representative_id is not None
    their_page = client.get(f"/rsvp/{token_of(representative_id)}")
    assert their_page.status_code == 200
    assert "You are invited as the representative of Dr. Guest Number 1" in their_page.text


def test_every_token_that_opens_nothing_gets_the_same_404(client: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    _, revoked = invite(add_event("other"), 2)
    with write_session() as session:
        row = session.get(Invitation, invitation_id + 1)
        assert row is not None
        row.token_salt, row.token_hash = new_salt(), "f" * 64
    tampered = ("A" if token[5] != "A" else "B").join((token[:5], token[6:]))
    unknown = "x" * 43

    answers = [
        client.get(f"/rsvp/{candidate}") for candidate in (unknown, "malformed", tampered, revoked)
    ]
    answers += [client.post(f"/rsvp/{tampered}", data={"response": "accept"})]
    answers += [client.get(f"/rsvp/{revoked}/invite.ics")]

    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.text for answer in answers}) == 1
    assert "does not open an invitation" in answers[0].text


BAD_FORMS = [
    ({"response": "accept", "guests": "-1"}, 422, "number of guests"),
    ({"response": "accept", "guests": "abc"}, 422, "number of guests"),
    ({"response": "maybe-not"}, 422, "Choose one of"),
    ({"response": "accept", "notes": "n" * 2001}, 422, "at most 2,000 characters"),
    ({"response": "accept", "notes": "n" * 1_000_000}, 413, "too long"),
    (
        {
            "response": "decline",
            "substitute_name": "Ana\r\nBcc: x@evil.example",
            "substitute_email": "ana@example.org",
        },
        422,
        "single line",
    ),
    (
        {"response": "decline", "substitute_name": "Ana", "substitute_email": "ana@@example"},
        422,
        "email address",
    ),
]


def test_bad_form_fields_get_a_message_and_change_nothing(client: TestClient) -> None:
    _, token = invite(add_event(max_guests=2), 1)
    before = snapshot()
    for fields, status, message in BAD_FORMS:
        answer = client.post(f"/rsvp/{token}", data=fields)
        case = f"{fields!r:.80}"
        assert answer.status_code == status, case
        assert message in answer.text, case
        assert answer.headers["content-type"].startswith("text/html"), case
    assert snapshot() == before


def test_a_body_that_is_not_a_form_is_refused(web: TestClient) -> None:
    _, token = invite(add_event(), 1)
    answer = web.post(
        f"/rsvp/{token}",
        content=b'{"response": "accept"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    bad_bytes = web.post(
        f"/rsvp/{token}",
        content=b"response=%ff%fe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad_bytes.status_code == 400


def test_the_submitted_values_come_back_escaped_with_the_error(web: TestClient) -> None:
    _, token = invite(add_event(), 1)
    answer = web.post(
        f"/rsvp/{token}",
        data={"response": "decline", "substitute_name": "<b>Ana</b>", "substitute_email": "x"},
    )
    assert answer.status_code == 422
    assert "&lt;b&gt;Ana&lt;/b&gt;" in answer.text
    assert "<b>Ana</b>" not in answer.text


CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Origin": BASE_URL, "Sec-Fetch-Site": "cross-site"},
]
SAME_SITE = [
    {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"},
    {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "same-site"},
    # What Chromium sends for the page's own form under Referrer-Policy: no-referrer.
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    {},
]


def test_cross_site_posts_are_refused_and_same_site_posts_accepted(client: TestClient) -> None:
    event_id = add_event()
    for n, headers in enumerate(CROSS_SITE + SAME_SITE):
        invitation_id, token = invite(event_id, n)
        page = client.get(f"/rsvp/{token}").text
        answer = client.post(
            f"/rsvp/{token}",
            data={"response": "accept", "form_token": form_token(page)},
            headers=headers,
        )
        expected = (403, Status.INVITED) if headers in CROSS_SITE else (303, Status.ACCEPTED)
        assert (answer.status_code, invitation(invitation_id).status) == expected, headers


def test_a_forged_form_token_is_refused(web: TestClient) -> None:
    invitation_id, token = invite(add_event(), 1)
    answer = web.post(f"/rsvp/{token}", data={"response": "accept", "form_token": "0" * 64})
    assert answer.status_code == 403
    assert invitation(invitation_id).status == Status.INVITED


def test_security_headers_on_every_response(web: TestClient) -> None:
    _, token = invite(add_event(), 1)
    answers = {
        "page": web.get(f"/rsvp/{token}"),
        "404": web.get("/rsvp/nothing-here"),
        "post": web.post(f"/rsvp/{token}", data={"response": "accept"}),
        "ics": web.get(f"/rsvp/{token}/invite.ics"),
        "css": web.get("/static/roundtable.css"),
    }
    for name, answer in answers.items():
        assert answer.headers["referrer-policy"] == "no-referrer", name
        assert answer.headers["x-content-type-options"] == "nosniff", name
        assert answer.headers["x-frame-options"] == "DENY", name
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, name
        assert "unsafe-inline" not in policy, name
    for name in ("page", "404", "post", "ics"):
        assert answers[name].headers["cache-control"] == "no-store", name
    assert answers["css"].status_code == 200
    assert "text/css" in answers["css"].headers["content-type"]
    assert "<style" not in answers["page"].text and "style=" not in answers["page"].text
    assert "<script" not in answers["page"].text


def test_many_bad_tokens_from_one_address_get_429(sqlite_engine: Engine) -> None:
    _, token = invite(add_event(), 1)
    app = create_app()
    with (
        TestClient(app, client=("203.0.113.7", 5000)) as guesser,
        TestClient(app, client=("198.51.100.1", 5000)) as invitee,
    ):
        statuses = [guesser.get(f"/rsvp/{'g' * 42}{n % 10}").status_code for n in range(20)]
        assert statuses == [404] * 20
        blocked = guesser.get(f"/rsvp/{token}")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert invitee.get(f"/rsvp/{token}").status_code == 200


def test_the_calendar_file_names_the_invitee_and_their_reply(web: TestClient) -> None:
    _, token = invite(add_event(), 1)
    post_reply(web, token, response="accept")

    answer = web.get(f"/rsvp/{token}/invite.ics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    [vevent] = calendar.walk("VEVENT")
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:guest1@example.org"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"


ARABIC_CATALOG = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Will you attend?"
msgstr "هل ستحضرون؟"
"""


@pytest.fixture
def arabic_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An Arabic catalog that covers the page, in place of the package's catalogs."""
    catalog = tmp_path / "locales" / "ar" / "LC_MESSAGES" / "messages.po"
    catalog.parent.mkdir(parents=True)
    catalog.write_text(ARABIC_CATALOG, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path / "locales")
    i18n.translations.cache_clear()
    rsvp._environment.cache_clear()
    yield
    i18n.translations.cache_clear()
    rsvp._environment.cache_clear()


def test_arabic_pages_read_right_to_left(web: TestClient, arabic_catalog: None) -> None:
    _, arabic = invite(add_event(), 1, language="ar")
    _, french = invite(add_event("other"), 2, language="fr")

    html = web.get(f"/rsvp/{arabic}").text
    assert '<html lang="ar" dir="rtl">' in html
    assert "هل ستحضرون؟" in html
    assert "سبتمبر" in html  # the date in Arabic too

    # French mail catalogs exist, but none covers this page: English, not a mixture.
    assert '<html lang="en" dir="ltr">' in web.get(f"/rsvp/{french}").text
