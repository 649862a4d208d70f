"""The reply state machine: what an invitee's answer does to their invitation.

Pure: no database, no clock. The caller counts the seats, knows the capacity and
whether the deadline has passed, and stores what :func:`respond` decides. Keeping
the rules here lets them be read, and tested, in one place (docs/architecture.md, "Data flow").

Seats: an accepted invitation holds ``1 + guests`` seats; nobody else holds any.
An acceptance that does not fit goes to the waiting list; a decline, a "maybe"
or fewer guests give seats back, and the caller then promotes whoever waits.

Messages: every problem is an English sentence (for the command line, the API
and staff) that also carries its catalog ``msgid`` and the values that fill it,
so the invitee's page can say it in their language. The domain itself never
translates: :func:`N_` only marks a sentence for the catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from roundtable.errors import InputError, Problem
from roundtable.invitations.model import Status
from roundtable.people.emails import email_problem, normalise_email
from roundtable.people.names import MAX_TYPED_NAME, NameFault, name_fault


class Response(StrEnum):
    """What an invitee answers (the form's ``response`` field)."""

    ACCEPT = "accept"
    DECLINE = "decline"
    TENTATIVE = "tentative"


class Refusal(StrEnum):
    """Why a reply was not taken (``ReplyResult.refusal``); the page then says whom to contact."""

    #: after the RSVP deadline, or once the meeting has ended
    DEADLINE_PASSED = "deadline_passed"
    #: the invitation or its event can no longer be answered (cancelled, never sent)
    CLOSED = "closed"


# The names callers import; the enums are the one definition.
ACCEPT, DECLINE, TENTATIVE = Response.ACCEPT, Response.DECLINE, Response.TENTATIVE
RESPONSES: tuple[Response, ...] = tuple(Response)
DEADLINE_PASSED, CLOSED = Refusal.DEADLINE_PASSED, Refusal.CLOSED

MAX_NOTES = 2000

#: The statuses from which an invitee may answer.
ANSWERABLE = (Status.INVITED, Status.ACCEPTED, Status.TENTATIVE, Status.DECLINED, Status.WAITLISTED)

_GUESTS = re.compile(r"^[0-9]{1,4}$")
_LINE_BREAKS = ("\r", "\n", "\u2028", "\u2029", "\x85")


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs (``N_`` is the name extractors know); it stays English."""
    return message


@dataclass(frozen=True)
class ReplyProblem(Problem):
    """A problem with a reply that can also be said in the invitee's language.

    ``message`` is the English sentence; ``msgid`` is the same sentence as the
    catalogs hold it, with ``%(name)s`` placeholders, and ``params`` fills them.
    Numbers stay numbers in ``params``, so each language can write them its own way.
    """

    msgid: str = field(kw_only=True)
    params: Mapping[str, int | str] = field(default_factory=dict, kw_only=True, hash=False)

    @classmethod
    def of(cls, field_name: str, msgid: str, /, **params: int | str) -> ReplyProblem:
        """The problem with form field ``field_name``, its English message filled in."""
        english = {
            name: f"{value:,}" if isinstance(value, int) else value
            for name, value in params.items()
        }
        return cls(message=msgid % english, field=field_name, msgid=msgid, params=params)


@dataclass(frozen=True)
class Reply:
    """An invitee's answer, as given on the form or by staff on their behalf."""

    response: str
    guests: int = 0
    notes: str = ""
    substitute_name: str = ""
    substitute_email: str = ""

    @property
    def names_representative(self) -> bool:
        return bool(self.substitute_name or self.substitute_email)


class ReplyError(InputError):
    """The reply cannot be taken as given; every problem names its form field."""

    @property
    def field(self) -> str:
        return self.problems[0].field or ""

    @property
    def message(self) -> str:
        return self.problems[0].message


@dataclass(frozen=True)
class Outcome:
    """What a reply does: the status to store, and what must follow from it."""

    status: str
    guests: int
    #: the reply changes something, so it is logged and confirmed by mail
    changed: bool
    #: seats this reply gives back; the caller promotes waiting invitees into them
    seats_freed: int = 0
    #: why nothing was recorded (:data:`DEADLINE_PASSED`, :data:`CLOSED`), else ``None``
    refusal: Refusal | None = None

    @property
    def confirmation_due(self) -> bool:
        return self.changed and self.refusal is None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def representative_email(reply: Reply) -> str:
    """The representative's address as stored (lower case), or ``""`` when none is named."""
    if not reply.names_representative:
        return ""
    return normalise_email(reply.substitute_email) or reply.substitute_email.strip().lower()


def seats_for(status: str, guests: int) -> int:
    """Seats an invitation holds: only accepted invitations hold any."""
    return 1 + guests if status == Status.ACCEPTED else 0


def reply_from_form(fields: Mapping[str, str], *, max_guests: int) -> Reply:
    """Read a reply from submitted form fields, reporting every problem at once."""
    problems: list[Problem] = []
    raw_guests = fields.get("guests", "").strip()
    guests = 0
    if raw_guests:
        if _GUESTS.match(raw_guests):
            guests = int(raw_guests)
        else:
            problems.append(_guests_problem(max_guests))
    reply = Reply(
        response=fields.get("response", "").strip().lower(),
        guests=guests,
        notes=normalise_notes(fields.get("notes", "")),
        substitute_name=fields.get("substitute_name", "").strip(" \t"),
        substitute_email=fields.get("substitute_email", "").strip(" \t"),
    )
    already = {problem.field for problem in problems}
    problems += [p for p in reply_problems(reply, max_guests=max_guests) if p.field not in already]
    if problems:
        raise ReplyError(problems)
    return reply


def normalise_notes(notes: str) -> str:
    """Browsers send CRLF from a textarea; store plain newlines, without outer blanks."""
    return notes.replace("\r\n", "\n").replace("\r", "\n").strip()


def reply_problems(reply: Reply, *, max_guests: int) -> list[Problem]:
    """Everything wrong with ``reply``; an empty list when it can be taken."""
    problems: list[Problem] = []
    if reply.response not in RESPONSES:
        problems.append(
            ReplyProblem.of("response", N_("Choose one of: accept, tentative (maybe), decline."))
        )
    if not 0 <= reply.guests <= max_guests:
        problems.append(_guests_problem(max_guests))
    if len(reply.notes) > MAX_NOTES:
        problems.append(
            ReplyProblem.of(
                "notes", N_("Notes can be at most %(count)s characters long."), count=MAX_NOTES
            )
        )
    elif any(_is_forbidden_control(c, allow_newlines=True) for c in reply.notes):
        problems.append(
            ReplyProblem.of("notes", N_("Notes contain control characters; please remove them."))
        )
    if reply.names_representative:
        problems += _representative_problems(reply)
    return problems


def respond(
    current_status: str,
    reply: Reply,
    *,
    seats_taken: int,
    capacity: int | None,
    max_guests: int,
    deadline_passed: bool,
    current_guests: int = 0,
    current_notes: str = "",
    current_representative: str = "",
) -> Outcome:
    """Decide what ``reply`` does to an invitation that stands at ``current_status``.

    ``seats_taken`` counts every accepted invitation of the event, this one
    included (only an acceptance with a ``capacity`` reads it);
    ``current_representative`` is the email of the representative the
    invitee named before, if any. Raises :class:`ReplyError` when the reply itself
    is invalid, or when an accepted invitee asks for more guests than there are
    seats left (they keep the seat they have rather than fall onto the waiting list).
    """
    unchanged = Outcome(status=current_status, guests=current_guests, changed=False)
    if current_status not in ANSWERABLE:
        return _refused(unchanged, CLOSED)
    if deadline_passed:
        return _refused(unchanged, DEADLINE_PASSED)
    problems = reply_problems(reply, max_guests=max_guests)
    if problems:
        raise ReplyError(problems)

    held = seats_for(current_status, current_guests)
    others = seats_taken - held
    if reply.response == ACCEPT:
        wanted = 1 + reply.guests
        fits = capacity is None or others + wanted <= capacity
        if fits:
            status = Status.ACCEPTED
        elif current_status == Status.ACCEPTED:
            room = max(capacity - others - 1, 0) if capacity is not None else 0
            raise ReplyError([_no_room_problem(room)])
        else:
            status = Status.WAITLISTED
    elif reply.response == TENTATIVE:
        status = Status.TENTATIVE
    else:
        status = Status.DECLINED

    freed = max(held - seats_for(status, reply.guests), 0)
    changed = (
        status != current_status
        or reply.guests != current_guests
        or reply.notes != current_notes
        or representative_email(reply) != current_representative.lower()
    )
    return Outcome(status=status, guests=reply.guests, changed=changed, seats_freed=freed)


def _refused(unchanged: Outcome, refusal: Refusal) -> Outcome:
    return Outcome(status=unchanged.status, guests=unchanged.guests, changed=False, refusal=refusal)


def _representative_problems(reply: Reply) -> list[Problem]:
    problems: list[Problem] = []
    name, email = reply.substitute_name, reply.substitute_email
    if reply.response != DECLINE:
        problems.append(
            ReplyProblem.of(
                "response",
                N_(
                    "A representative attends in your place: choose “Decline”, "
                    "or leave the representative's name and email empty."
                ),
            )
        )
    fault = name_fault(name, max_length=MAX_TYPED_NAME, typed=True)
    if not name.strip():
        problems.append(ReplyProblem.of("substitute_name", N_("Give your representative's name.")))
    elif fault == NameFault.LINE_BREAK:
        problems.append(
            ReplyProblem.of("substitute_name", N_("The name must be on a single line."))
        )
    elif fault == NameFault.TOO_LONG:
        problems.append(
            ReplyProblem.of(
                "substitute_name",
                N_("The name can be at most %(count)s characters long."),
                count=MAX_TYPED_NAME,
            )
        )
    elif fault == NameFault.NOT_A_NAME:
        problems.append(
            ReplyProblem.of(
                "substitute_name",
                N_(
                    "Give only your representative's name: no web address, email address "
                    "or angle brackets."
                ),
            )
        )
    if not email or email_problem(email) is not None:
        problems.append(
            ReplyProblem.of(
                "substitute_email",
                N_("Give your representative's email address, like name@example.org."),
            )
        )
    return problems


def _is_forbidden_control(char: str, *, allow_newlines: bool) -> bool:
    if allow_newlines and char in "\n\t":
        return False
    if char in _LINE_BREAKS:
        return True
    return ord(char) < 32 or 127 <= ord(char) < 160


def _guests_problem(max_guests: int) -> ReplyProblem:
    if max_guests == 0:
        return ReplyProblem.of(
            "guests", N_("This invitation is for you alone; guests cannot be added.")
        )
    return ReplyProblem.of(
        "guests",
        N_("The number of guests must be a whole number from 0 to %(max_guests)s."),
        max_guests=max_guests,
    )


def _no_room_problem(room: int) -> ReplyProblem:
    """Said without plural agreement in every language; one guest has a sentence of its own."""
    if room == 0:
        message = N_("The meeting is full: your seat is kept, but no guests can be added.")
        return ReplyProblem.of("guests", message)
    if room == 1:
        message = N_(
            "The meeting is nearly full: your seat is kept, and at most one guest can come."
        )
        return ReplyProblem.of("guests", message)
    message = N_(
        "The meeting is nearly full: your seat is kept, and at most %(count)s guests can come."
    )
    return ReplyProblem.of("guests", message, count=room)
