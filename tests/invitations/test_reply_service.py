"""Recording replies in the database, on SQLite and PostgreSQL: seats, waiting list, mail."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.events.model import Event, EventStatus
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.rsvp import CLOSED, DEADLINE_PASSED, Reply, ReplyError
from roundtable.invitations.service import find_invitation_by_token
from roundtable.invitations.tokens import new_salt
from roundtable.people.model import Contact
from roundtable.types import utcnow
from roundtable.workflows.replies import ReplyResult, record_reply, record_reply_by_token
from tests.invitations.rsvp_support import (
    add_event,
    invitation,
    invite,
    logs,
    messages,
    token_of,
)


def reply(invitation_id: int, response: str, **fields: Any) -> ReplyResult:
    return record_reply(invitation_id, Reply(response, **fields), actor="invitee", now=utcnow())


def reply_by_token(token: str, response: str, *, hint_reversed: bool = False) -> ReplyResult:
    """The invitee's own reply from the page: the token opens it (an acceptance that knows its
    event limits seats locks the event and the invitation in one statement; any other reply
    finds and locks its invitation in one). The page says whether the form accepts before
    the reply is read; ``hint_reversed`` says the opposite, which must change nothing."""
    accepting = (response == "accept") != hint_reversed
    result = record_reply_by_token(
        token, lambda _: Reply(response), now=utcnow(), accepting=accepting
    )
    assert result is not None
    return result


#: The ways in: staff and the API by invitation, the invitee's page by token (and the page
#: with its hint of an acceptance wrong, which only costs a second start).
WAYS = ("by id", "by token", "by token, hint reversed")


def invited(event_id: int, count: int, way: str) -> list[tuple[int, Any]]:
    """``count`` invitees of the event and, for each, a function that replies their way."""
    answerers = []
    for n in range(count):
        invitation_id, token = invite(event_id, n)
        if way == "by id":
            answerers.append((invitation_id, lambda r, i=invitation_id: reply(i, r)))
        else:
            reversed_hint = way.endswith("hint reversed")
            answerers.append(
                (
                    invitation_id,
                    lambda r, t=token, h=reversed_hint: reply_by_token(t, r, hint_reversed=h),
                )
            )
    return answerers


def test_a_reply_is_stored_logged_and_confirmed(engine: Engine) -> None:
    event_id = add_event(max_guests=2)
    invitation_id, _ = invite(event_id, 1)

    result = reply(invitation_id, "accept", guests=2, notes="Vegetarian")

    assert (result.from_status, result.status, result.changed) == ("invited", "accepted", True)
    stored = invitation(invitation_id)
    assert (stored.status, stored.guests, stored.notes) == ("accepted", 2, "Vegetarian")
    assert stored.responded_at is not None
    [entry] = logs(invitation_id)
    assert (entry.actor, entry.from_status, entry.to_status, entry.guests, entry.notes) == (
        "invitee",
        "invited",
        "accepted",
        2,
        "Vegetarian",
    )
    [confirmation] = messages("confirmation")
    assert confirmation.mailing == f"confirmation:{entry.id}"
    assert confirmation.context == {"response": "accepted", "guests": 2}


def test_a_change_of_mind_is_logged_and_confirmed_again(engine: Engine) -> None:
    invitation_id, _ = invite(add_event(), 1)
    reply(invitation_id, "accept")
    reply(invitation_id, "decline")
    reply(invitation_id, "decline")  # the same answer again: nothing new

    assert invitation(invitation_id).status == Status.DECLINED
    assert [(e.from_status, e.to_status) for e in logs(invitation_id)] == [
        ("invited", "accepted"),
        ("accepted", "declined"),
    ]
    assert len(messages("confirmation")) == 2


def test_after_the_deadline_nothing_changes_unless_staff_override(engine: Engine) -> None:
    event_id = add_event(rsvp_deadline=utcnow() - timedelta(hours=1))
    invitation_id, _ = invite(event_id, 1)

    refused = reply(invitation_id, "accept")
    assert refused.refusal == DEADLINE_PASSED
    assert invitation(invitation_id).status == Status.INVITED
    assert logs(invitation_id) == [] and messages() == []

    late = record_reply(
        invitation_id,
        Reply("accept"),
        actor="staff:desk@iom.example.org",
        reason="accepted by telephone",
        now=utcnow(),
        override_deadline=True,
    )
    assert late.status == Status.ACCEPTED
    [entry] = logs(invitation_id)
    assert (entry.actor, entry.reason) == ("staff:desk@iom.example.org", "accepted by telephone")


def test_a_cancelled_event_takes_no_replies(engine: Engine) -> None:
    event_id = add_event(status=EventStatus.CANCELLED)
    invitation_id, _ = invite(event_id, 1)
    assert reply(invitation_id, "accept").refusal == CLOSED
    assert invitation(invitation_id).status == Status.INVITED


def test_waiting_list_and_promotion_of_the_first_waiter(engine: Engine) -> None:
    event_id = add_event(capacity=2)
    first, second, third, fourth = (invite(event_id, n)[0] for n in range(4))
    assert reply(first, "accept").status == Status.ACCEPTED
    assert reply(second, "accept").status == Status.ACCEPTED
    assert reply(third, "accept").status == Status.WAITLISTED
    assert reply(fourth, "accept").status == Status.WAITLISTED
    assert invitation(third).waitlisted_at is not None
    assert messages("confirmation")[-1].context == {"response": "waitlisted", "guests": 0}

    result = reply(first, "decline")

    assert result.promoted == (third,)
    promoted = invitation(third)
    assert promoted.status == Status.ACCEPTED and promoted.waitlisted_at is None
    assert invitation(fourth).status == Status.WAITLISTED
    [promotion] = messages("promotion")
    assert promotion.invitation_id == third
    system_entry = logs(third)[-1]
    assert (system_entry.actor, system_entry.from_status, system_entry.to_status) == (
        "system",
        "waitlisted",
        "accepted",
    )


def test_promotion_keeps_the_queue_order_and_stops_at_a_party_that_does_not_fit(
    engine: Engine,
) -> None:
    event_id = add_event(capacity=4, max_guests=2)
    host, big_party, single, late = (invite(event_id, n)[0] for n in range(4))
    assert reply(host, "accept", guests=2).status == Status.ACCEPTED  # 3 of 4 seats
    assert reply(big_party, "accept", guests=2).status == Status.WAITLISTED  # needs 3
    assert reply(single, "accept").status == Status.ACCEPTED  # fits: 4 of 4
    assert reply(late, "accept").status == Status.WAITLISTED  # behind the big party

    # One seat frees up: the big party does not fit, and the late single may not overtake it.
    assert reply(host, "accept", guests=1).promoted == ()
    assert invitation(late).status == Status.WAITLISTED

    # Two more seats: the big party comes in first; then the hall is full again.
    assert reply(host, "decline").promoted == (big_party,)
    assert invitation(late).status == Status.WAITLISTED


def test_guests_count_toward_capacity(engine: Engine) -> None:
    event_id = add_event(capacity=4, max_guests=3)
    first, second = invite(event_id, 1)[0], invite(event_id, 2)[0]
    assert reply(first, "accept", guests=3).status == Status.ACCEPTED
    assert reply(second, "accept").status == Status.WAITLISTED
    assert reply(first, "accept", guests=2).promoted == (second,)


def test_more_guests_than_seats_left_keeps_the_acceptance(engine: Engine) -> None:
    event_id = add_event(capacity=2, max_guests=3)
    first, second = invite(event_id, 1)[0], invite(event_id, 2)[0]
    reply(first, "accept")
    reply(second, "accept")
    with pytest.raises(ReplyError) as raised:
        reply(first, "accept", guests=1)
    assert raised.value.field == "guests"
    assert invitation(first).status == Status.ACCEPTED


def test_a_representative_gets_an_invitation_of_their_own(engine: Engine) -> None:
    event_id = add_event()
    original, _ = invite(event_id, 1)
    with write_session() as session:
        stored = session.get(Invitation, original)
        assert stored is not None
        stored.role = "panellist"

    result = reply(
        original, "decline", substitute_name="Ana Lima", substitute_email="Ana.Lima@Example.org"
    )

    representative_id = result.representative_invitation_id
    assert representative_id is not None
    declined = invitation(original)
    assert (declined.status, declined.represented_by_id) == (Status.DECLINED, representative_id)
    substitute = invitation(representative_id)
    assert substitute.status == Status.INVITED
    assert substitute.representative_of_id == original
    assert substitute.role == "panellist"
    assert substitute.token_hash is not None
    with read_session() as session:
        found = find_invitation_by_token(session, token_of(representative_id))
        contact = session.get(Contact, substitute.contact_id)
    assert found is not None and found.id == representative_id
    assert contact is not None
    assert (contact.email, substitute.full_name) == ("ana.lima@example.org", "Ana Lima")
    [sent] = messages("invitation")
    assert sent.invitation_id == representative_id

    # Naming the same person again reuses the invitation and sends nothing new.
    again = reply(
        original, "decline", substitute_name="Ana Lima", substitute_email="ana.lima@example.org"
    )
    assert not again.changed
    assert len(messages("invitation")) == 1


def test_a_representative_already_on_the_list_keeps_their_invitation(engine: Engine) -> None:
    event_id = add_event()
    original, _ = invite(event_id, 1)
    colleague, _ = invite(event_id, 2)
    result = reply(
        original, "decline", substitute_name="Colleague", substitute_email="guest2@example.org"
    )
    assert result.representative_invitation_id == colleague
    assert messages("invitation") == []


def test_the_invitee_cannot_name_themselves(engine: Engine) -> None:
    original, _ = invite(add_event(), 1)
    with pytest.raises(ReplyError) as raised:
        reply(original, "decline", substitute_name="Me", substitute_email="guest1@example.org")
    assert raised.value.field == "substitute_email"
    assert invitation(original).status == Status.INVITED


def test_tokens_find_live_invitations_only(engine: Engine) -> None:
    invitation_id, token = invite(add_event(), 1)
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    with read_session() as session:
        found = find_invitation_by_token(session, token)
        assert found is not None and found.id == invitation_id
        assert find_invitation_by_token(session, tampered) is None
        assert find_invitation_by_token(session, "short") is None
        assert find_invitation_by_token(session, token + "x") is None

    with write_session() as session:  # revoking: a new salt and hash
        stored = session.get(Invitation, invitation_id)
        assert stored is not None
        stored.token_salt = new_salt()
        stored.token_hash = "0" * 64
    with read_session() as session:
        assert find_invitation_by_token(session, token) is None


@pytest.mark.parametrize("way", WAYS)
def test_fifty_concurrent_acceptances_for_ten_seats_never_overbook(
    engine: Engine, way: str
) -> None:
    event_id = add_event(capacity=10)
    answerers = invited(event_id, 50, way)
    start = threading.Barrier(len(answerers))

    def accept(answerer: tuple[int, Any]) -> str:
        start.wait()
        return str(answerer[1]("accept").status)

    with ThreadPoolExecutor(max_workers=len(answerers)) as pool:
        statuses = Counter(pool.map(accept, answerers))

    assert statuses == {Status.ACCEPTED: 10, Status.WAITLISTED: 40}
    with read_session() as session:
        stored = Counter(
            session.exec(select(Invitation.status).where(Invitation.event_id == event_id)).all()
        )
        event = session.get(Event, event_id)
    assert stored == {Status.ACCEPTED: 10, Status.WAITLISTED: 40}
    assert event is not None and event.capacity == 10
    assert len(messages("confirmation")) == 50


@pytest.mark.parametrize("way", WAYS)
def test_changes_of_mind_racing_acceptances_keep_the_count_and_the_order(
    engine: Engine, way: str
) -> None:
    """Each of 24 invitees sends an acceptance and a decline at once, for 8 seats.

    A decline only finds out under its invitation's lock whether it frees a seat, and
    then starts again holding the event's lock first: whatever the interleaving, the
    seats are never overbooked, nobody waits while a seat is free, and every
    invitation ends as its reply log says.
    """
    event_id = add_event(capacity=8)
    answerers = invited(event_id, 24, way)
    invitation_ids = [invitation_id for invitation_id, _ in answerers]
    replies = [(answer, response) for _, answer in answerers for response in ("accept", "decline")]
    start = threading.Barrier(len(replies))

    def answer(job: tuple[Any, str]) -> None:
        start.wait()
        job[0](job[1])

    with ThreadPoolExecutor(max_workers=len(replies)) as pool:
        list(pool.map(answer, replies))

    with read_session() as session:
        final = dict(
            session.exec(
                select(Invitation.id, Invitation.status).where(Invitation.event_id == event_id)
            ).all()
        )
        logged = {
            invitation_id: session.exec(
                select(ReplyLog.to_status)
                .where(ReplyLog.invitation_id == invitation_id)
                .order_by(col(ReplyLog.id).desc())
            ).first()
            for invitation_id in invitation_ids
        }
    counts = Counter(final.values())
    assert counts[Status.ACCEPTED] <= 8
    assert counts[Status.WAITLISTED] == 0 or counts[Status.ACCEPTED] == 8
    assert final == logged
