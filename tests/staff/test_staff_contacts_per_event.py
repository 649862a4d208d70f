"""An organizer's import writes only their own event's list, and tells nothing of the others.

The organizer of "ours" imports, through the dashboard (CSV) and through the API
(JSON), a row for an address that only "theirs" has invited, with other details.
"theirs" must show, mail and report exactly what it did before, "ours" what its
organizer typed, and the organizer must see the same counts as for an address
never seen anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.delivery.compose import compose, load_bundle
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.mail.model import Message
from roundtable.web.app import create_app
from roundtable.workflows.sending import send_invitations
from tests.staff.staff_support import add_event, add_member, client_for, signed_in, token_for

ADMIN, ORGANIZER = "admin@un.example.org", "org@un.example.org"
SHARED, NEVER_SEEN = "ana.lima@example.org", "never.seen@example.org"
NOW = datetime(2027, 8, 1, 12, 0, tzinfo=UTC)

THEIRS_FILE = (
    b"email,honorific,first_name,last_name,position,organization,role,language,timezone\n"
    b"ana.lima@example.org,Dr.,Ana,Lima,Director,IOM,speaker,es,Europe/Madrid\n"
)
#: what the organizer of "ours" types about the same address
OURS = {
    "honorific": "H.E. Ms.",
    "first_name": "Ana Paula",
    "last_name": "Lima Souza",
    "position": "Ambassador",
    "organization": "Permanent Mission of Brazil",
    "language": "fr",
    "timezone": "America/Sao_Paulo",
}


@dataclass
class World:
    client: TestClient
    admin: dict[str, str]
    organizer: dict[str, str]
    #: the organizer's dashboard session, once signed in
    csrf: str = ""


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    ours = add_event("ours")
    add_event("theirs", uid="theirs-uid@roundtable.test")
    import_invitee_file(THEIRS_FILE, "theirs", skip_invalid=False)
    assert send_invitations("theirs", now=NOW) == 1
    add_member(ADMIN, "admin")
    add_member(ORGANIZER, "organizer", events=(ours,))
    with client_for(create_app()) as client:
        yield World(
            client=client,
            admin={"Authorization": f"Bearer {token_for(ADMIN)}"},
            organizer={"Authorization": f"Bearer {token_for(ORGANIZER)}"},
        )


def what_theirs_shows(w: World) -> dict[str, Any]:
    """Everything "theirs" shows of its invitee: list, export, report and invitation mail."""
    base = "/api/v1/events/theirs"
    with read_session() as session:
        message_id = session.exec(select(Message.id).where(Message.kind == "invitation")).one()
        assert message_id is not None
        mail = compose(load_bundle(session, message_id), NOW)
    return {
        "list": w.client.get(f"{base}/invitees", headers=w.admin).json(),
        "export": w.client.get(f"{base}/invitees.csv", headers=w.admin).text,
        "report": w.client.get(f"{base}/report", headers=w.admin).json(),
        "to": mail["To"],
        "language": mail["Content-Language"],
        "text": mail.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
    }


def ours_list(w: World) -> dict[str, dict[str, Any]]:
    page = w.client.get("/api/v1/events/ours/invitees", headers=w.organizer).json()
    return {item["email"]: item for item in page["items"]}


def row(email: str, name_prefix: str = "") -> dict[str, str]:
    return {"email": email, **OURS, "first_name": name_prefix + OURS["first_name"]}


def import_by_dashboard(w: World, email: str) -> str:
    """The result the organizer reads after uploading a one-row file."""
    w.csrf = w.csrf or signed_in(w.client, ORGANIZER)
    values = row(email)
    header = ",".join(values)
    data = f"{header}\n{','.join(values.values())}\n".encode()
    response = w.client.post(
        "/dashboard/events/ours/import",
        data={"csrf_token": w.csrf},
        files={"file": ("guests.csv", data, "text/csv")},
    )
    assert response.status_code == 200, response.text
    found = re.search(r'id="import-result">\s*<p>(.*?)</p>', response.text, re.S)
    assert found, "the page shows what the import did"
    return found.group(1)


def import_by_api(w: World, email: str) -> Any:
    response = w.client.post(
        "/api/v1/events/ours/invitees", headers=w.organizer, json={"invitees": [row(email)]}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("channel", ["dashboard", "api"])
def test_an_organizer_importing_another_events_invitee_changes_only_their_own_list(
    world: World, channel: str
) -> None:
    before = what_theirs_shows(world)
    assert before["list"]["items"][0]["name"] == "Ana Lima"
    assert before["to"] == '"Dr. Ana Lima" <ana.lima@example.org>'

    do_import = import_by_dashboard if channel == "dashboard" else import_by_api
    never_seen = do_import(world, NEVER_SEEN)
    known_elsewhere = do_import(world, SHARED)

    # What the organizer learns is the same as for an address nobody has seen.
    assert known_elsewhere == never_seen
    if channel == "api":
        assert known_elsewhere == {"created": 1, "updated": 0, "unchanged": 0, "skipped": []}
    else:
        assert "<strong>1</strong> added to this event's list" in known_elsewhere

    # "theirs" shows, exports, reports and mails exactly what it did.
    assert what_theirs_shows(world) == before

    # "ours" shows what its organizer typed.
    ours = ours_list(world)[SHARED]
    assert {key: ours[key] for key in ("honorific", "first_name", "last_name", "position")} == {
        key: OURS[key] for key in ("honorific", "first_name", "last_name", "position")
    }
    assert (ours["name"], ours["organization"], ours["language"]) == (
        "Ana Paula Lima Souza",
        "Permanent Mission of Brazil",
        "fr",
    )


def test_a_second_import_counts_only_what_changed_on_this_events_list(world: World) -> None:
    """Updating is told of an invitee on this list only, whatever another event does meanwhile."""
    import_by_api(world, SHARED)
    import_invitee_file(
        THEIRS_FILE.replace(b"Director", b"Deputy Director"), "theirs", skip_invalid=False
    )
    assert import_by_api(world, SHARED) == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
        "skipped": [],
    }
    assert ours_list(world)[SHARED]["position"] == "Ambassador"
