"""The dashboard and the API report show the numbers the raw rows say, on SQLite and PostgreSQL.

The expected figures are counted here in Python from what the test wrote, never
with the SQL under test.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.db import read_session
from roundtable.invitations.model import Status
from roundtable.mail.model import MessageStatus
from roundtable.reports.event_report import NO_ORGANIZATION, SCHEDULED, event_report
from roundtable.web.app import create_app
from tests.staff.staff_support import (
    Seeded,
    add_member,
    client_for,
    seed_mix,
    signed_in,
    token_for,
)

ADMIN = "admin@un.example.org"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def expected_report(seeded: Seeded) -> dict[str, object]:
    rows = seeded.invitations
    status = Counter(str(row.status) for row in rows)
    invited = sum(1 for row in rows if row.invited)
    replies = sum(status[s] for s in Status.REPLIED)
    by_organization: dict[str, Counter[str]] = {}
    by_role: dict[str, Counter[str]] = {}
    for row in rows:
        name = str(row.organization or NO_ORGANIZATION)
        by_organization.setdefault(name, Counter())[str(row.status)] += 1
        by_role.setdefault(str(row.role), Counter())[str(row.status)] += 1
    delivery = Counter(str(message.status) for message in seeded.messages)
    return {
        "invitees": len(rows),
        "status": {s: status[s] for s in Status.ALL},
        "response_rate": round(replies / invited, 4),
        "by_organization": {k: dict(v) for k, v in sorted(by_organization.items())},
        "by_role": {k: dict(v) for k, v in sorted(by_role.items())},
        # seeded rows are due at once: none is scheduled for later
        "delivery": {"scheduled": 0, **{s: delivery[s] for s in MessageStatus.ALL}},
        "attended": sum(1 for row in rows if row.attended),
    }


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert found, element_id
    return found.group(1).strip()


def test_the_report_and_the_event_page_agree_with_the_rows(client: TestClient) -> None:
    seeded = seed_mix("inter-ethnic-city", count=43)
    seed_mix("another-event", count=5, start=500)  # must not leak into the first one's numbers
    expected = expected_report(seeded)
    add_member(ADMIN, "admin")
    token = {"Authorization": f"Bearer {token_for(ADMIN)}"}

    report = client.get("/api/v1/events/inter-ethnic-city/report", headers=token).json()
    for key, value in expected.items():
        assert report[key] == value, key
    assert report["event"] == "inter-ethnic-city"

    signed_in(client, ADMIN)
    page = client.get("/dashboard/events/inter-ethnic-city").text
    assert figure(page, "count-invitees") == str(expected["invitees"])
    status = expected["status"]
    assert isinstance(status, dict)
    for name in ("accepted", "tentative", "declined", "waitlisted", "invited", "not_invited"):
        assert figure(page, f"count-{name}") == str(status[name]), name
    rate = expected["response_rate"]
    assert isinstance(rate, float)
    assert figure(page, "response-rate") == f"{rate * 100:.1f}%"
    assert figure(page, "count-attended") == str(expected["attended"])
    delivery = expected["delivery"]
    assert isinstance(delivery, dict)
    for state, count in delivery.items():
        assert figure(page, f"delivery-{state}") == str(count), state

    failed_rows = page.split('id="failed-messages"')[1].split("</table>")[0].count("<tr>") - 1
    assert failed_rows == delivery["failed"]
    assert f"of {expected['invitees']} invitees" in page


def test_the_replies_chart_counts_each_invitee_once_on_the_day_of_their_first_reply(
    client: TestClient,
) -> None:
    seeded = seed_mix("chart", count=30)
    first_days = Counter(min(times).date() for times in seeded.replies.values())
    running, expected_points = 0, []
    for day in sorted(first_days):
        running += first_days[day]
        expected_points.append(f"{day.isoformat()}: {running}")
    add_member(ADMIN, "admin")
    signed_in(client, ADMIN)

    page = client.get("/dashboard/events/chart").text

    chart = page.split('id="time-heading"')[1].split("</svg>")[0]
    assert re.findall(r"<title>(\d{4}-\d\d-\d\d: \d+)</title>", chart) == expected_points
    assert running == len(seeded.replies)


def test_the_events_list_and_the_invitee_filters_count_like_the_rows(client: TestClient) -> None:
    seeded = seed_mix("filters", count=25)
    add_member(ADMIN, "admin")
    signed_in(client, ADMIN)
    rows = seeded.invitations

    listing = client.get("/dashboard").text
    accepted = sum(1 for row in rows if row.status == Status.ACCEPTED)
    assert f'<td class="num">{len(rows)}</td>' in listing
    assert f'<td class="num">{accepted}</td>' in listing

    def shown(query: str) -> int:
        page = client.get(f"/dashboard/events/filters?{query}").text
        found = re.search(r"of (\d+) invitees", page)
        return int(found.group(1)) if found else 0

    assert shown("status=declined") == sum(1 for r in rows if r.status == "declined")
    assert shown("role=participant") == sum(1 for r in rows if r.role == "participant")
    assert shown("organization=IOM") == sum(1 for r in rows if r.organization == "IOM")
    assert shown("q=iom") == sum(1 for r in rows if r.organization == "IOM")
    assert shown("q=person+007") == 1
    assert shown("q=%25") == 0  # a LIKE wildcard is searched for, not obeyed
    assert shown("status=accepted&role=speaker") == sum(
        1 for r in rows if r.status == "accepted" and r.role == "speaker"
    )


def test_a_long_list_of_delivery_problems_shows_the_latest_and_links_to_all(
    client: TestClient,
) -> None:
    """Every tenth invitee of the mix has a failed message: 250 invitees, 25 failures."""
    seeded = seed_mix("many-failures", count=250)
    failures = sum(1 for message in seeded.messages if message.status == MessageStatus.FAILED)
    assert failures == 25
    add_member(ADMIN, "admin")
    signed_in(client, ADMIN)
    page = client.get("/dashboard/events/many-failures").text

    shown = page.split('id="failed-messages"')[1].split("</table>")[0].count("<tr>") - 1
    assert shown == 20
    assert "The 20 most recent of 25" in page
    link = client.get("/dashboard/events/many-failures/messages?status=failed")
    assert link.status_code == 200
    assert link.text.count('href="/dashboard/messages/') == failures


def test_queued_messages_not_yet_due_are_reported_as_scheduled(engine: Engine) -> None:
    """Seen from before every row was due, each queued row is scheduled; the rest stay put."""
    seeded = seed_mix("inter-ethnic-city", count=43)
    delivery = Counter(str(message.status) for message in seeded.messages)
    assert delivery[MessageStatus.QUEUED], "the mix must hold queued rows"
    with read_session() as session:
        now = event_report(session, "inter-ethnic-city").delivery
        before = event_report(
            session, "inter-ethnic-city", now=datetime(2000, 1, 1, tzinfo=UTC)
        ).delivery
    assert now[SCHEDULED] == 0 and now[MessageStatus.QUEUED] == delivery[MessageStatus.QUEUED]
    assert before[SCHEDULED] == delivery[MessageStatus.QUEUED]
    assert before[MessageStatus.QUEUED] == 0
    others = set(MessageStatus.ALL) - {MessageStatus.QUEUED}
    assert {s: before[s] for s in others} == {s: delivery[s] for s in others}
