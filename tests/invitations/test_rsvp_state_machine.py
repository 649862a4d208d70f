"""The reply rules, without a database: seats, the waiting list, the deadline, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roundtable.invitations.model import Status
from roundtable.invitations.rsvp import (
    CLOSED,
    DEADLINE_PASSED,
    MAX_NOTES,
    Outcome,
    Reply,
    ReplyError,
    ReplyProblem,
    reply_from_form,
    respond,
)


def answer(
    current: str,
    reply: Reply,
    *,
    seats_taken: int = 0,
    capacity: int | None = None,
    max_guests: int = 2,
    deadline_passed: bool = False,
    current_guests: int = 0,
) -> Outcome:
    return respond(
        current,
        reply,
        seats_taken=seats_taken,
        capacity=capacity,
        max_guests=max_guests,
        deadline_passed=deadline_passed,
        current_guests=current_guests,
    )


def test_acceptance_with_room_is_accepted_and_confirmed() -> None:
    outcome = answer(Status.INVITED, Reply("accept", guests=1), seats_taken=5, capacity=10)
    assert outcome.status == Status.ACCEPTED
    assert outcome.guests == 1
    assert outcome.confirmation_due
    assert outcome.seats_freed == 0


def test_acceptance_beyond_capacity_goes_to_the_waiting_list() -> None:
    outcome = answer(Status.INVITED, Reply("accept"), seats_taken=10, capacity=10)
    assert outcome.status == Status.WAITLISTED
    assert outcome.confirmation_due


def test_guests_count_toward_capacity() -> None:
    # 8 of 10 seats taken: one person fits with one guest, not with two.
    assert answer(Status.INVITED, Reply("accept", guests=1), seats_taken=8, capacity=10).status == (
        Status.ACCEPTED
    )
    assert answer(Status.INVITED, Reply("accept", guests=2), seats_taken=8, capacity=10).status == (
        Status.WAITLISTED
    )


def test_no_capacity_means_no_waiting_list() -> None:
    outcome = answer(Status.INVITED, Reply("accept"), seats_taken=10_000, capacity=None)
    assert outcome.status == Status.ACCEPTED


def test_declining_an_acceptance_frees_the_seat_and_the_guests() -> None:
    outcome = answer(
        Status.ACCEPTED, Reply("decline"), seats_taken=10, capacity=10, current_guests=2
    )
    assert outcome.status == Status.DECLINED
    assert outcome.seats_freed == 3


def test_maybe_after_acceptance_frees_the_seat() -> None:
    outcome = answer(Status.ACCEPTED, Reply("tentative"), seats_taken=4, capacity=10)
    assert outcome.status == Status.TENTATIVE
    assert outcome.seats_freed == 1


def test_fewer_guests_frees_seats_and_keeps_the_acceptance() -> None:
    outcome = answer(
        Status.ACCEPTED, Reply("accept", guests=0), seats_taken=10, capacity=10, current_guests=2
    )
    assert outcome.status == Status.ACCEPTED
    assert outcome.seats_freed == 2


def test_an_accepted_invitee_keeps_the_seat_when_more_guests_do_not_fit() -> None:
    with pytest.raises(ReplyError) as raised:
        answer(
            Status.ACCEPTED,
            Reply("accept", guests=2),
            seats_taken=10,
            capacity=10,
            current_guests=0,
        )
    assert raised.value.field == "guests"
    assert "seat is kept" in raised.value.message


def test_a_waiting_invitee_who_accepts_again_stays_waiting() -> None:
    outcome = answer(Status.WAITLISTED, Reply("accept"), seats_taken=10, capacity=10)
    assert outcome.status == Status.WAITLISTED
    assert not outcome.changed


def test_the_same_reply_twice_changes_nothing_and_sends_nothing() -> None:
    outcome = answer(Status.ACCEPTED, Reply("accept"), seats_taken=3, capacity=10)
    assert outcome.status == Status.ACCEPTED
    assert not outcome.changed
    assert not outcome.confirmation_due


def test_after_the_deadline_the_reply_is_refused_and_nothing_changes() -> None:
    outcome = answer(Status.ACCEPTED, Reply("decline"), deadline_passed=True)
    assert outcome.refusal == DEADLINE_PASSED
    assert outcome.status == Status.ACCEPTED
    assert not outcome.confirmation_due


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.NOT_INVITED])
def test_cancelled_or_unsent_invitations_cannot_be_answered(status: str) -> None:
    assert answer(status, Reply("accept")).refusal == CLOSED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"response": "maybe-not"}, "response"),
        ({"response": ""}, "response"),
        ({"response": "accept", "guests": "-1"}, "guests"),
        ({"response": "accept", "guests": "abc"}, "guests"),
        ({"response": "accept", "guests": "1_0"}, "guests"),
        ({"response": "accept", "guests": "3"}, "guests"),
        ({"response": "accept", "notes": "x" * (MAX_NOTES + 1)}, "notes"),
        ({"response": "accept", "notes": "nul\x00byte"}, "notes"),
        (
            {
                "response": "decline",
                "substitute_name": "A\r\nBcc: x",
                "substitute_email": "a@b.org",
            },
            "substitute_name",
        ),
        (
            {"response": "decline", "substitute_name": "Ana", "substitute_email": "not-an-email"},
            "substitute_email",
        ),
        ({"response": "decline", "substitute_email": "ana@example.org"}, "substitute_name"),
        (
            {"response": "accept", "substitute_name": "Ana", "substitute_email": "ana@example.org"},
            "response",
        ),
    ],
)
def test_each_bad_field_is_named(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ReplyError) as raised:
        reply_from_form(fields, max_guests=2)
    assert field in {problem.field for problem in raised.value.problems}
    assert all(problem.message for problem in raised.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ReplyError) as raised:
        reply_from_form({"response": "yes", "guests": "many", "notes": "x" * 3000}, max_guests=1)
    assert {problem.field for problem in raised.value.problems} == {"response", "guests", "notes"}


def test_a_good_form_becomes_a_reply() -> None:
    reply = reply_from_form(
        {
            "response": " Decline ",
            "guests": "0",
            "notes": "Wheelchair access, please.\r\nThank you.",
            "substitute_name": "Ana Lima",
            "substitute_email": "Ana.Lima@Example.org",
        },
        max_guests=0,
    )
    assert reply == Reply(
        response="decline",
        guests=0,
        notes="Wheelchair access, please.\nThank you.",
        substitute_name="Ana Lima",
        substitute_email="Ana.Lima@Example.org",
    )


def test_naming_the_same_representative_again_is_no_change() -> None:
    reply = Reply("decline", substitute_name="Ana", substitute_email="ANA@example.org")
    outcome = respond(
        Status.DECLINED,
        reply,
        seats_taken=0,
        capacity=None,
        max_guests=0,
        deadline_passed=False,
        current_representative="ana@example.org",
    )
    assert not outcome.changed


@given(
    seats_taken=st.integers(0, 60),
    capacity=st.none() | st.integers(1, 60),
    current=st.sampled_from([Status.INVITED, Status.TENTATIVE, Status.DECLINED, Status.WAITLISTED]),
    guests=st.integers(0, 3),
    response=st.sampled_from(["accept", "decline", "tentative"]),
)
def test_a_reply_never_overbooks(
    seats_taken: int, capacity: int | None, current: str, guests: int, response: str
) -> None:
    if capacity is not None and seats_taken > capacity:
        seats_taken = capacity
    outcome = answer(
        current,
        Reply(response, guests=guests),
        seats_taken=seats_taken,
        capacity=capacity,
        max_guests=3,
    )
    if outcome.status == Status.ACCEPTED and capacity is not None:
        assert seats_taken + 1 + guests <= capacity
    assert outcome.seats_freed == 0  # nothing was held before


# --- messages: English for the command line and staff, a catalog entry for the page ------


@pytest.mark.parametrize(
    ("fields", "max_guests", "message"),
    [
        ({"response": "yes"}, 2, "Choose one of: accept, tentative (maybe), decline."),
        (
            {"response": "accept", "guests": "abc"},
            2,
            "The number of guests must be a whole number from 0 to 2.",
        ),
        (
            {"response": "accept", "guests": "1"},
            0,
            "This invitation is for you alone; guests cannot be added.",
        ),
        (
            {"response": "accept", "notes": "x" * (MAX_NOTES + 1)},
            2,
            "Notes can be at most 2,000 characters long.",
        ),
        (
            {"response": "decline", "substitute_name": "A" * 101, "substitute_email": "a@b.org"},
            2,
            "The name can be at most 100 characters long.",
        ),
        (
            {"response": "decline", "substitute_email": "ana@example.org"},
            2,
            "Give your representative's name.",
        ),
    ],
)
def test_problems_read_in_english_and_carry_their_catalog_entry(
    fields: dict[str, str], max_guests: int, message: str
) -> None:
    with pytest.raises(ReplyError) as raised:
        reply_from_form(fields, max_guests=max_guests)
    [problem] = raised.value.problems
    assert problem.message == message
    assert isinstance(problem, ReplyProblem)
    english_numbers = {name: f"{value:,}" for name, value in problem.params.items()}
    assert problem.msgid % english_numbers == message


def test_a_number_travels_as_a_number_beside_its_placeholder() -> None:
    with pytest.raises(ReplyError) as raised:
        reply_from_form({"response": "accept", "notes": "x" * 2500}, max_guests=2)
    [problem] = raised.value.problems
    assert isinstance(problem, ReplyProblem)
    assert problem.msgid == "Notes can be at most %(count)s characters long."
    assert problem.params == {"count": MAX_NOTES}


@pytest.mark.parametrize(
    ("seats_taken", "message"),
    [
        (10, "The meeting is full: your seat is kept, but no guests can be added."),
        (9, "The meeting is nearly full: your seat is kept, and at most one guest can come."),
        (7, "The meeting is nearly full: your seat is kept, and at most 3 guests can come."),
    ],
)
def test_more_guests_than_seats_left_says_how_many_fit(seats_taken: int, message: str) -> None:
    with pytest.raises(ReplyError) as raised:
        answer(
            Status.ACCEPTED,
            Reply("accept", guests=5),
            seats_taken=seats_taken,
            capacity=10,
            max_guests=5,
        )
    assert raised.value.message == message


@given(
    st.dictionaries(
        st.sampled_from(["response", "guests", "notes", "substitute_name", "substitute_email"]),
        st.text(max_size=30) | st.sampled_from(["accept", "decline", "-1", "99", "x" * 2001]),
    ),
    st.integers(min_value=0, max_value=3),
)
def test_every_problem_of_a_form_can_be_translated(fields: dict[str, str], max_guests: int) -> None:
    try:
        reply_from_form(fields, max_guests=max_guests)
    except ReplyError as error:
        for problem in error.problems:
            assert isinstance(problem, ReplyProblem)
            assert problem.msgid and "%(" not in problem.message
