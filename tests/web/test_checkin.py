"""At the door: the confirmation's QR code, the page it opens, the check-in page and the API.

The real path: an invitee accepts on their page, the confirmation is composed and
written out by the file transport, and the QR code in its bytes is the address of
a page that only staff can open and act on.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.model import Invitation, Status
from roundtable.mail.model import MessageKind
from roundtable.mail.qr import qr_png
from roundtable.mail.transports import open_transport
from roundtable.web.app import create_app
from roundtable.workflows.checkin import code_of
from tests.invitations.rsvp_support import invitation, invite, messages, snapshot
from tests.staff.staff_support import add_event, add_member, client_for, signed_in, token_for
from tests.web.test_rsvp_pages import BASE_URL, post_reply

ORGANIZER, OTHER, VIEWER = "org@un.example.org", "other@un.example.org", "viewer@un.example.org"


@pytest.fixture
def door(sqlite_engine: Engine) -> Iterator[tuple[TestClient, dict[str, int]]]:
    ids = {"event": add_event("door-event"), "other": add_event("other-event")}
    add_member(ORGANIZER, "organizer", events=(ids["event"],))
    add_member(OTHER, "organizer", events=(ids["other"],))
    add_member(VIEWER, "viewer")
    with client_for(create_app()) as client:
        yield client, ids


def written_mail(tmp_path: Path, kind: str) -> list[EmailMessage]:
    """The messages of ``kind`` as the file transport wrote them."""
    outbox = tmp_path / "outbox"
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch([m.id for m in messages(kind) if m.id is not None], transport)
    return [
        email.message_from_bytes(path.read_bytes(), policy=SMTP)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


def test_an_acceptance_carries_a_qr_code_of_a_staff_only_check_in_page(
    door: tuple[TestClient, dict[str, int]], tmp_path: Path
) -> None:
    client, ids = door
    accepted, token = invite(ids["event"], 1, full_name="Ana Rossi", honorific="H.E. Ms.")
    declined, other_token = invite(ids["event"], 2)
    assert post_reply(client, token, response="accept").status_code in (200, 303)
    assert post_reply(client, other_token, response="decline").status_code in (200, 303)

    mails = written_mail(tmp_path, MessageKind.CONFIRMATION)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in mails}
    assert len(by_recipient) == 2
    code = code_of(accepted)
    url = f"{BASE_URL}/checkin/{code}"
    assert token not in url and code_of(declined) != code
    mail = next(m for m in mails if "Rossi" in str(m["To"]))
    (related,) = [p for p in mail.walk() if p.get_content_type() == "multipart/related"]
    html, image = related.get_payload()  # type: ignore[misc]
    assert html.get_content_type() == "text/html"
    assert 'src="cid:checkin-qr"' in html.get_content()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<checkin-qr>"
    assert image.get_content() == qr_png(url)
    # The decline's confirmation has no code.
    other = next(m for m in mails if m is not mail)
    assert not [p for p in other.walk() if p.get_content_maintype() == "image"]

    # Without a login the code opens only the sign-in page, and comes back after it.
    path = f"/checkin/{code}"
    anonymous = client.get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={path}"
    csrf = signed_in(client, ORGANIZER)
    page = client.get(path)
    assert page.status_code == 200
    assert "H.E. Ms. Ana Rossi" in page.text and ">Check in</button>" in page.text

    done = client.post(path, data={"csrf_token": csrf, "action": "checkin"})
    assert done.status_code == 303 and "notice=checked_in" in done.headers["location"]
    first = invitation(accepted).attended_at
    assert first is not None
    again = client.post(path, data={"csrf_token": csrf, "action": "checkin"})
    assert "notice=already_checked_in" in again.headers["location"]
    assert invitation(accepted).attended_at == first
    shown = client.get(path).text
    assert "Checked in at" in shown and "Undo check-in" in shown

    undone = client.post(path, data={"csrf_token": csrf, "action": "undo"})
    assert "notice=checkin_undone" in undone.headers["location"]
    assert invitation(accepted).attended_at is None


def test_a_code_opens_nothing_for_the_wrong_member_or_when_forged(
    door: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = door
    invitation_id, _ = invite(ids["event"], 1)
    path = f"/checkin/{code_of(invitation_id)}"
    before = snapshot()
    csrf = signed_in(client, OTHER)  # an organizer of another event: not found
    assert client.get(path).status_code == 404
    assert client.post(path, data={"csrf_token": csrf}).status_code == 404
    with client_for(create_app()) as viewer:  # a viewer may look, not check in
        csrf = signed_in(viewer, VIEWER)
        page = viewer.get(path)
        assert page.status_code == 200 and ">Check in</button>" not in page.text
        assert "Not among those who accepted" in page.text
        assert viewer.post(path, data={"csrf_token": csrf}).status_code == 403
        forged = f"/checkin/{invitation_id}-AAAAAAAAAAAAAAAA"
        assert viewer.get(forged).status_code == 404
        assert viewer.get("/checkin/<script>").status_code == 404
    after = snapshot()  # signing in records itself on the accounts; nothing else changed
    assert {k: v for k, v in after.items() if not k.startswith("staff")} == {
        k: v for k, v in before.items() if not k.startswith("staff")
    }


def test_the_event_check_in_page_finds_by_name_checks_in_and_undoes(
    door: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = door
    invitation_id, _ = invite(ids["event"], 1, full_name="Zhang Wei")
    invite(ids["event"], 2, full_name="Ana Rossi")
    csrf = signed_in(client, ORGANIZER)
    page = client.get("/dashboard/events/door-event/checkin", params={"q": "zhang"})
    assert page.status_code == 200
    assert "Zhang Wei" in page.text and "Ana Rossi" not in page.text
    assert "camera=(self)" in page.headers["permissions-policy"]
    assert '<script src="/static/vendor/jsQR.js">' in page.text
    assert client.get("/static/vendor/jsQR.js").status_code == 200
    checkin = f"/dashboard/events/door-event/invitees/{invitation_id}/checkin"
    here = "/dashboard/events/door-event/checkin?q=zhang"
    done = client.post(checkin, data={"csrf_token": csrf, "next": here})
    assert done.headers["location"].startswith(here)
    assert invitation(invitation_id).attended_at is not None
    assert re.search(r'id="door-count">1<', client.get(here).text)
    undo = client.post(f"{checkin}/undo", data={"csrf_token": csrf, "q": "zhang"})
    assert "notice=checkin_undone" in undo.headers["location"]
    assert invitation(invitation_id).attended_at is None


def test_the_api_checks_in_by_address_for_scripts(
    door: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = door
    invitation_id, _ = invite(ids["event"], 1, email="ana.rossi@example.org")
    url = "/api/v1/events/door-event/invitees/Ana.Rossi@example.org/checkin"
    headers = {"Authorization": f"Bearer {token_for(ORGANIZER)}"}
    first = client.post(url, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["changed"] is True and first.json()["attended_at"]
    assert client.post(url, headers=headers).json()["changed"] is False
    viewer = {"Authorization": f"Bearer {token_for(VIEWER)}"}
    assert client.post(url, headers=viewer).status_code == 403
    unknown = "/api/v1/events/door-event/invitees/nobody@example.org/checkin"
    assert client.post(unknown, headers=headers).status_code == 404
    undone = client.delete(url, headers=headers)
    assert undone.json()["changed"] is True and undone.json()["attended_at"] is None
    assert invitation(invitation_id).attended_at is None


def test_a_walk_in_is_added_as_accepted_and_checked_in_once(
    door: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = door
    csrf = signed_in(client, ORGANIZER)
    url = "/dashboard/events/door-event/walk-ins"
    refused = client.post(url, data={"csrf_token": csrf, "name": "No Address", "email": "nope"})
    assert refused.status_code == 422 and "email" in refused.text
    assert not messages()
    form = {"csrf_token": csrf, "name": "Wang Fang", "email": "Wang.Fang@example.org"}
    added = client.post(url, data=form | {"organization": "中国常驻联合国代表团"})
    assert added.status_code == 303 and "notice=walked_in" in added.headers["location"]
    page = client.get(added.headers["location"]).text
    assert "Wang Fang" in page and "中国常驻联合国代表团" in page
    assert re.search(r'id="door-count">1<', page)
    assert client.post(url, data=form).status_code == 303  # the same person again: no second row
    with read_session() as session:
        (walk_in,) = session.exec(select(Invitation)).all()
    assert walk_in.status == Status.ACCEPTED and walk_in.attended_at is not None
    assert not messages()  # no mail to someone standing at the door


def test_a_promotion_from_the_waiting_list_carries_the_code_too(
    door: tuple[TestClient, dict[str, int]], tmp_path: Path
) -> None:
    client, _ids = door
    event_id = add_event("one-seat", capacity=1)
    first, first_token = invite(event_id, 1)
    second, second_token = invite(event_id, 2)
    post_reply(client, first_token, response="accept")
    post_reply(client, second_token, response="accept")
    assert invitation(second).status == Status.WAITLISTED
    post_reply(client, first_token, response="decline")
    assert invitation(second).status == Status.ACCEPTED

    (promotion,) = written_mail(tmp_path, MessageKind.PROMOTION)
    (image,) = [p for p in promotion.walk() if p.get_content_type() == "image/png"]
    assert image.get_content() == qr_png(f"{BASE_URL}/checkin/{code_of(second)}")
    assert first != second
