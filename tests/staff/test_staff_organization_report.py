"""The "by organization" report for 150 missions: the largest drawn, all in a sortable table."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.db import write_session
from roundtable.invitations.model import Invitation, Status
from roundtable.people.model import Organization
from roundtable.web.app import create_app
from roundtable.web.charts import breakdown, text_width, wrap_label
from tests.factories import invitee_details, make_contact
from tests.staff.staff_support import add_event, add_member, client_for, signed_in

LONG = "Permanent Mission of the Bolivarian Republic of Venezuela to the United Nations"
MISSIONS = [LONG, "中华人民共和国常驻联合国代表团", *(f"Mission {n:03d}" for n in range(148))]


@pytest.fixture
def page(sqlite_engine: Engine) -> Iterator[TestClient]:
    event_id = add_event("missions")
    with write_session() as session:
        number = 0
        for rank, mission in enumerate(MISSIONS):
            organization = Organization(name=mission)
            session.add(organization)
            session.flush()
            # The first missions send the most people: 3, 3, 2, 2, …, then 1 each.
            for _ in range(3 if rank < 2 else 2 if rank < 20 else 1):
                number += 1
                contact = make_contact(number)
                session.add(contact)
                session.flush()
                assert contact.id is not None
                session.add(
                    Invitation(
                        event_id=event_id,
                        contact_id=contact.id,
                        organization_id=organization.id,
                        status=Status.ACCEPTED if number % 2 else Status.INVITED,
                        token_hash=secrets.token_hex(32),
                        **invitee_details(number),
                    )
                )
    add_member("admin@un.example.org", "admin")
    with client_for(create_app()) as client:
        signed_in(client, "admin@un.example.org")
        yield client


def test_the_largest_are_drawn_and_every_mission_is_in_the_table(page: TestClient) -> None:
    html = page.get("/dashboard/events/missions").text
    section = html[html.index('id="org-heading"') :]
    chart = section[section.index("<svg") : section.index("</svg>") + 6]
    ElementTree.fromstring(chart)
    assert chart.count("<g>") == 12
    # Full names, never cut: a long name is wrapped over lines, each within the label's room.
    assert "…" not in chart
    spans = re.findall(r"<tspan [^>]*>([^<]*)</tspan>", chart)
    assert " ".join(s for s in spans if s in LONG) == LONG
    assert all(text_width(s) <= 222 for s in spans)
    assert "and 138 more" in section
    table = section[section.index('id="organization-table"') : section.index("</table>")]
    names = re.findall(r'<th scope="row">([^<]*)</th>', table)
    # A page at a time: 5,000 organizations once made the page a megabyte.
    assert len(names) == 100 and names[:2] == [LONG, "中华人民共和国常驻联合国代表团"]
    assert "Organizations 1–100 of 150" in section

    names = []
    for number in (1, 2):
        by_name = page.get(f"/dashboard/events/missions?org_sort=name&org_desc=0&org_page={number}")
        html = by_name.text
        table = html[html.index('id="organization-table"') : html.index("</table>")]
        names += re.findall(r'<th scope="row">([^<]*)</th>', table)
        assert '<details class="more" id="organizations" open>' in html
    assert names == sorted(MISSIONS, key=str.casefold)
    assert "Organizations 101–150 of 150" in html
    assert 'org_sort=name&amp;org_desc=0&amp;org_page=1#organizations" rel="prev"' in html


def test_a_label_wraps_at_spaces_and_a_cjk_name_anywhere() -> None:
    lines = wrap_label(LONG, 222)
    assert " ".join(lines) == LONG and len(lines) == 4
    assert all(text_width(line) <= 222 for line in lines)
    assert lines[0] == "Permanent Mission of the"
    lines = wrap_label("中华人民共和国常驻联合国代表团", 100)
    assert "".join(lines) == "中华人民共和国常驻联合国代表团" and len(lines) == 2
    assert "…" not in str(breakdown({LONG: {"accepted": 1}}))
