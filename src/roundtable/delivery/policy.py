"""Pure rules of delivery: whether a message still applies, and when to try again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from roundtable.events.model import EventStatus
from roundtable.invitations.model import Status
from roundtable.mail.model import MessageKind

#: after this many attempts a temporary failure becomes a permanent one
MAX_ATTEMPTS = 8
#: after this many attempts an unexpected error (not an SMTP reply, not a lost
#: connection) fails the message: it rarely goes away by itself
MAX_UNEXPECTED_ATTEMPTS = 3
#: backoff after the first temporary failure, doubled each time, capped
FIRST_BACKOFF = 5.0
MAX_BACKOFF = 600.0
#: share of the lease after which a worker still busy with its batch renews it
RENEW_AFTER = 0.25
#: messages of a batch composed in a row before they are sent (delivery/ahead.py): all of
#: a task's rows (at most 100, roundtable.broker); 32 at a time gained about half as much
#: (bench/README.md, "Composing ahead")
COMPOSE_AHEAD = 100
#: ... but only this many before the batch's first send: four children composing a whole
#: task each before their first send left the SMTP server idle for a fifth of a second
FIRST_COMPOSED_AHEAD = 10
#: a message composed ahead longer ago than this is composed again before it is sent
COMPOSED_FRESH_FOR = timedelta(seconds=5)


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``attempts`` failed tries: exponential, capped, with jitter.

    The cap stays far below the broker's visibility timeout (one hour for Redis),
    so a retried task is never redelivered while it is still waiting.
    """
    base = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.75, 1.25)
    return round(base * jitter, 3)


def lease_needs_renewal(renewed_at: datetime, now: datetime, lease: float) -> bool:
    """Whether a worker about to send the next row of its batch should renew its claims first.

    The whole batch is claimed at once with one lease, but its rows are sent one
    after the other: against a slow server the last ones would wait past the lease
    and the sweep would give them to another worker while this one still sends
    them. Renewing once a quarter of the lease has gone leaves each send at least
    three quarters of it (225 s of the default 300, against an SMTP timeout of
    30 s), and costs nothing when a batch goes quickly.
    """
    return now - renewed_at >= timedelta(seconds=lease * RENEW_AFTER)


def composed_recently(composed_at: datetime | None, now: datetime) -> bool:
    """Whether a message composed at ``composed_at`` may still be sent at ``now``.

    A message says when it was written (``Date``, the calendar's DTSTAMP); one
    composed ahead of a slow or paced server would otherwise say so minutes late.
    """
    return composed_at is not None and now - composed_at <= COMPOSED_FRESH_FOR


def reason_to_drop(
    kind: str,
    *,
    event_status: str,
    invitation_status: str,
    unsubscribed: bool,
    bounced: bool,
) -> str | None:
    """Why a queued message no longer applies at send time, or ``None`` when it does.

    Rows can wait for days (reminders); by then the invitee may have declined, the
    event may be cancelled, the address may have bounced. Re-checking here is what
    keeps stale mail from going out.
    """
    if bounced:
        return "the address bounced earlier"
    if kind == MessageKind.CANCELLATION:
        return None
    if event_status == EventStatus.CANCELLED:
        return "the event was cancelled"
    if invitation_status == Status.CANCELLED:
        return "the invitation was withdrawn"
    if kind == MessageKind.REMINDER and invitation_status not in (
        Status.ACCEPTED,
        Status.TENTATIVE,
    ):
        return f"the invitee is {invitation_status}, reminders go to those attending"
    if kind == MessageKind.NUDGE and invitation_status != Status.INVITED:
        return "the invitee has replied"
    if kind == MessageKind.UPDATE and invitation_status == Status.DECLINED:
        return "the invitee declined"
    if kind == MessageKind.FOLLOWUP and unsubscribed:
        return "the contact unsubscribed"
    return None


def is_bad_address(code: int | None, text: str | None) -> bool:
    """A 5.1.x answer (unknown mailbox, bad address): stop writing to that address."""
    if code is None or not 500 <= code < 600:
        return False
    return bool(text) and " 5.1." in f" {text}"
