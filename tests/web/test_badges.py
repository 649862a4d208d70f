"""Badges and place cards: real PDFs (WeasyPrint), read back with pypdf for names and order."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from roundtable.printing.protocol import Card, protocol_order
from roundtable.web.app import create_app
from tests.invitations.rsvp_support import invite
from tests.staff.staff_support import add_event, add_member, client_for, signed_in, token_for
from tests.web.test_checkin import ORGANIZER, VIEWER
from tests.web.test_rsvp_pages import post_reply

#: (n, honorific, full name, family name, role, language); all accept but the last
INVITEES = [
    (1, "Mr.", "Adam Zimmer", "Zimmer", "participant", "en"),
    (2, "H.E. Ms.", "Beatriz Ortega", "Ortega", "participant", "es"),
    (3, "Dr.", "Carla Bruni", "Bruni", "speaker", "fr"),
    (4, "سعادة السيدة", "سارة القاسمي", "القاسمي", "participant", "ar"),
    (5, "", "王伟", "王", "moderator", "zh"),
    (6, "Ms.", "Declined Person", "Person", "participant", "en"),
]


@pytest.fixture
def printed(sqlite_engine: Engine) -> Iterator[TestClient]:
    event_id = add_event("print-event")
    add_member(ORGANIZER, "organizer", events=(event_id,))
    add_member(VIEWER, "viewer")
    with client_for(create_app()) as client:
        for n, honorific, name, last, role, language in INVITEES:
            _, token = invite(
                event_id,
                n,
                honorific=honorific,
                full_name=name,
                last_name=last,
                role=role,
                language=language,
                email=f"guest{n}@example.org",
            )
            response = "decline" if n == 6 else "accept"
            assert post_reply(client, token, response=response).status_code in (200, 303)
        yield client


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def positions(text: str, names: list[str]) -> list[int]:
    found = [text.find(name) for name in names]
    assert all(at >= 0 for at in found), (names, text)
    return found


def test_badges_are_in_protocol_order_with_every_script(printed: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token_for(VIEWER)}"}
    answer = printed.get("/api/v1/events/print-event/badges.pdf", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text = text_of(answer.content)
    # Excellencies first (in any language), then moderator, speaker, participants by name.
    order = ["Beatriz Ortega", "القاسمي", "王伟", "Carla Bruni", "Adam Zimmer"]
    at = positions(text, order)
    assert at == sorted(at), text
    assert "Declined Person" not in text
    declined = printed.get("/api/v1/events/print-event/badges.pdf?status=declined", headers=headers)
    assert "Declined Person" in text_of(declined.content)


def test_an_organizer_puts_someone_first_and_prints_place_cards(printed: TestClient) -> None:
    signed_in(printed, ORGANIZER)
    answer = printed.get(
        "/dashboard/events/print-event/place-cards.pdf",
        params={"status": ["accepted"], "order": "guest1@example.org\r\nGUEST3@example.org"},
    )
    assert answer.status_code == 200
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) == 5  # one folded card per sheet
    firsts = [page.extract_text() for page in reader.pages[:2]]
    assert "Adam Zimmer" in firsts[0] and "Carla Bruni" in firsts[1]


def test_an_unknown_status_is_refused_by_name(printed: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token_for(ORGANIZER)}"}
    answer = printed.get("/api/v1/events/print-event/badges.pdf?status=present", headers=headers)
    assert answer.status_code == 422
    assert "present" in answer.text and "status" in answer.text


def test_protocol_order_without_a_database() -> None:
    def card(email: str, honorific: str, name: str, role: str = "participant") -> Card:
        return Card(email, honorific, name, name.split()[-1], "", "", role, "en")

    cards = [
        card("c@x", "Mr.", "Carl Able"),
        card("b@x", "S.E. M.", "Jean Zola"),
        card("a@x", "", "Ann Young", "moderator"),
    ]
    assert [c.email for c in protocol_order(cards)] == ["b@x", "a@x", "c@x"]
    assert [c.email for c in protocol_order(cards, ["C@x "])] == ["c@x", "b@x", "a@x"]
