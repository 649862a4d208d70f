"""The representative flow is not a mail cannon: few representatives, the replaced ones
withdrawn, names that are names, and replies limited in number. Through the real app."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.policy import SMTP
from email.utils import getaddresses
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.model import ReplyLog, RepresentativeNaming, Status
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.mail.transports import open_transport
from roundtable.types import utcnow
from roundtable.web.app import create_app
from roundtable.web.security import ReplyLimiter
from tests.invitations.rsvp_support import add_event, invitation, invite, snapshot, token_of
from tests.web.test_rsvp_pages import BASE_URL


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


def reply(client: TestClient, token: str, **fields: str) -> httpx.Response:
    return client.post(
        f"/rsvp/{token}",
        data=fields,
        headers={"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"},
    )


def name(client: TestClient, token: str, who: str, address: str) -> httpx.Response:
    return reply(client, token, response="decline", substitute_name=who, substitute_email=address)


def opens_nothing(client: TestClient, token: str) -> bool:
    return (
        client.get(f"/rsvp/{token}").status_code == 404
        and client.get(f"/rsvp/{token}/invite.ics").status_code == 404
        and reply(client, token, response="accept").status_code == 404
    )


def test_naming_another_representative_or_accepting_withdraws_the_previous_one(
    client: TestClient,
) -> None:
    original, token = invite(add_event(capacity=10), 1)
    assert name(client, token, "Ana Lima", "ana@example.org").status_code == 303
    ana = invitation(original).represented_by_id
    assert ana is not None
    ana_token = token_of(ana)
    assert client.get(f"/rsvp/{ana_token}").status_code == 200
    assert reply(client, ana_token, response="accept").status_code == 303  # Ana takes a seat

    assert name(client, token, "Bo Chen", "bo@example.org").status_code == 303
    bo = invitation(original).represented_by_id
    assert bo is not None and bo != ana
    assert invitation(ana).status == Status.CANCELLED
    assert opens_nothing(client, ana_token)
    with read_session() as session:
        (log,) = session.exec(
            select(ReplyLog).where(ReplyLog.invitation_id == ana, ReplyLog.to_status == "cancelled")
        ).all()
    assert (log.from_status, log.reason) == (Status.ACCEPTED, "replaced as representative")

    bo_token = token_of(bo)
    assert reply(client, token, response="accept").status_code == 303  # after all
    assert invitation(original).represented_by_id is None
    assert invitation(bo).status == Status.CANCELLED
    assert opens_nothing(client, bo_token)


def test_a_withdrawn_representative_gets_no_invitation_reminder_or_nudge(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    original, token = invite(add_event(), 1)
    with TestClient(create_app(), follow_redirects=False) as web:
        assert name(web, token, "Ana Lima", "ana@example.org").status_code == 303
        ana = invitation(original).represented_by_id
        assert ana is not None
        event_id = invitation(ana).event_id
        with write_session() as session:
            for kind, mailing in (("reminder", "reminder:3600@0"), ("nudge", "nudge")):
                queue_message(
                    session,
                    OutgoingMessage(event_id, ana, kind, mailing, due_at=utcnow()),
                )
        assert name(web, token, "Bo Chen", "bo@example.org").status_code == 303

    delivered_at = utcnow()
    with read_session() as session:
        due = [m.id for m in session.exec(select(Message)).all() if m.id is not None]
    outbox = tmp_path / "outbox"
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch(due, transport)
    recipients = [
        address
        for path in outbox.glob("*.eml")
        for _n, address in getaddresses(
            [str(email.message_from_bytes(path.read_bytes(), policy=SMTP)["To"])]
        )
    ]
    assert "ana@example.org" not in recipients and "bo@example.org" in recipients
    with read_session() as session:
        to_ana = session.exec(select(Message).where(Message.invitation_id == ana)).all()
    # The schedule's later rows for Ana wait, and are dropped when their time comes.
    assert {(m.kind, m.status) for m in to_ana if m.due_at <= delivered_at} == {
        ("invitation", MessageStatus.DROPPED),
        ("reminder", MessageStatus.DROPPED),
        ("nudge", MessageStatus.DROPPED),
    }


def test_an_invitation_names_at_most_three_different_representatives(client: TestClient) -> None:
    original, token = invite(add_event(), 1)
    for who in ("ana", "bo", "cy"):
        assert name(client, token, who.title(), f"{who}@example.org").status_code == 303
    ana_first_token = None
    with read_session() as session:
        namings = session.exec(
            select(RepresentativeNaming).where(RepresentativeNaming.invitation_id == original)
        ).all()
        ana_id = next(n.representative_id for n in namings if n.email == "ana@example.org")
    assert ana_id is not None
    ana_first_token = token_of(ana_id)
    before = snapshot()

    fourth = name(client, token, "Dee", "dee@example.org")
    assert fourth.status_code == 422
    assert "already named 3 different representatives" in fourth.text
    assert snapshot() == before

    # Going back to one named before is no new representative: Ana is invited again,
    # with a new link (the old one stays dead).
    assert name(client, token, "Ana", "ana@example.org").status_code == 303
    assert invitation(original).represented_by_id == ana_id
    assert invitation(ana_id).status == Status.INVITED
    assert opens_nothing(client, ana_first_token)
    assert client.get(f"/rsvp/{token_of(ana_id)}").status_code == 200
    with read_session() as session:
        mails = session.exec(
            select(Message.mailing)
            .where(Message.invitation_id == ana_id, Message.kind == "invitation")
            .order_by(col(Message.id))
        ).all()
    assert len(mails) == 2


HOSTILE_NAMES = [
    "Dear Click http://phish.example/login",
    "Click www.phish.example now",
    "Visit phish.com today",
    "ceo@victim.example",
    "=?utf-8?q?a=2C_ceo=40victim=2Eexample=2C_b?=",
    "Ana <b>Lima</b>",
    "Ana\rBcc: x@evil.example",
    "Ana\u202eamiL",
    "Ana\x07",
    "A" * 101,
]


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_a_representatives_name_must_be_a_persons_name(web: TestClient, hostile: str) -> None:
    _, token = invite(add_event(), 1)
    before = snapshot()
    answer = name(web, token, hostile, "ana@example.org")
    assert answer.status_code == 422
    assert 'id="substitute_name-error"' in answer.text or "substitute_name" in answer.text
    assert snapshot() == before


@pytest.mark.parametrize(
    "fine", ["Dr. Ciarán O'Brien, Jr.", "王建国", "María-José Pérez", "Anne St. John"]
)
def test_real_names_are_taken(web: TestClient, fine: str) -> None:
    _, token = invite(add_event(), 1)
    assert name(web, token, fine, "ana@example.org").status_code == 303
    assert fine.replace("'", "&#39;") in web.get(f"/rsvp/{token}").text


def test_the_page_shows_the_name_typed_never_the_stored_contact_name(web: TestClient) -> None:
    invite(add_event(slug="other"), 2, full_name="Secret Stored Name", email="boss@example.org")
    _, token = invite(add_event(), 1)
    assert name(web, token, "Ana Lima", "boss@example.org").status_code == 303
    page = web.get(f"/rsvp/{token}").text
    assert "Represented by Ana Lima" in page
    assert 'value="Ana Lima"' in page
    assert "Secret Stored Name" not in page


def test_reply_posts_are_limited_per_invitation_in_the_invitees_language(
    web: TestClient,
) -> None:
    _, token = invite(add_event(), 1, language="fr")
    answers = [reply(web, token, response="accept" if n % 2 else "decline") for n in range(11)]
    assert [a.status_code for a in answers[:10]] == [303] * 10
    assert answers[10].status_code == 429
    assert int(answers[10].headers["Retry-After"]) > 0
    assert "Trop de réponses" in answers[10].text
    _, other = invite(add_event(slug="second"), 2)
    assert reply(web, other, response="accept").status_code == 303


def test_reply_posts_are_limited_per_client(web: TestClient) -> None:
    web.app.state.reply_limiter = ReplyLimiter(per_invitation=100, per_client=3)  # type: ignore[attr-defined]
    tokens = [invite(add_event(slug=f"e{n}"), n)[1] for n in range(4)]
    assert [reply(web, t, response="accept").status_code for t in tokens] == [303, 303, 303, 429]
    limiter = ReplyLimiter(per_invitation=100, per_client=1)
    limiter.record(1, "203.0.113.7")
    assert limiter.retry_after(2, "203.0.113.7") > 0 and limiter.retry_after(2, "198.51.100.1") == 0
