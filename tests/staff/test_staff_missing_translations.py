"""The dashboard's event page lists the words some invitees will read untranslated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.db import write_session
from roundtable.events.service import load_event
from roundtable.events.spec import parse_event_file
from roundtable.paths import examples_dir
from roundtable.types import utcnow
from roundtable.web.app import create_app
from tests.staff.staff_support import add_member, client_for, signed_in

ORGANIZER = "org@un.example.org"
SLUG = "inter-ethnic-city"
INVITEES = (
    "email,first_name,last_name,language\n"
    "claire@example.org,Claire,Dubois,fr\n"
    "ahmed@example.org,Ahmed,Al-Qasimi,ar\n"
    "amal@example.org,Amal,Haddad,ar\n"
    "ann@example.org,Ann,Smith,en\n"
)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def test_the_languages_of_the_invitees_without_a_translation_are_listed(
    client: TestClient,
) -> None:
    with write_session() as session:
        load_event(session, parse_event_file(examples_dir() / f"{SLUG}.toml"), utcnow())
    add_member(ORGANIZER, "admin")
    csrf = signed_in(client, ORGANIZER)
    imported = client.post(
        f"/dashboard/events/{SLUG}/import",
        data={"csrf_token": csrf},
        files={"file": ("guests.csv", INVITEES.encode(), "text/csv")},
    )
    assert imported.status_code == 200, imported.text

    page = client.get(f"/dashboard/events/{SLUG}").text
    assert 'id="missing-translations"' in page
    section = page[page.index('id="missing-translations"') :]
    section = section[: section.index("</section>")]
    # French is given in full; Arabic not at all; English is the event's own
    assert "<td><code>ar</code></td><td>2</td>" in section
    assert "title, format, description, access, agenda[1]" in section
    assert "<code>fr</code>" not in section and "<code>en</code>" not in section
