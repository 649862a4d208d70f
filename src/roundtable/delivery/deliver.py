"""Sending outbox rows: claim them, check each still applies, compose, send, record.

Every step is safe to repeat. A duplicate task finds nothing to claim; a worker
killed mid-send leaves a ``sending`` row whose lease expires, and the sweep puts
it back in the queue (the only case where SMTP itself can make a message arrive
twice). The ``Message-ID`` is derived from the row, so such a resend is
recognisable by the receiving side. A worker that is merely slow renews its
claims as it goes, and never sends a row whose claim it lost.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from roundtable.config import get_settings
from roundtable.db import holding_bookkeeping_connection, read_session, write_session
from roundtable.delivery import policy
from roundtable.delivery.ahead import ComposedAhead
from roundtable.delivery.claims import claim, finish, release, renew, requeue
from roundtable.delivery.compose import MessageBundle, followup_variant, load_bundles
from roundtable.mail.mime import raw_header
from roundtable.mail.model import MessageKind, MessageStatus
from roundtable.mail.transports import (
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    Transport,
)
from roundtable.people.model import Contact
from roundtable.types import utcnow

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    DROPPED = "dropped"
    NOT_CLAIMED = "not_claimed"
    #: handed back to the queue unsent: the batch ran out of time (see ``deliver_batch``)
    RELEASED = "released"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    retry_in: float | None = None
    detail: str = ""


def deliver_batch(
    message_ids: Sequence[int],
    transport: Transport,
    now: datetime | None = None,
    *,
    send_for: float | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> dict[int, DeliveryResult]:
    """Claim these rows in one go, read what they need in one go, then send each in turn.

    ``send_for`` is how many seconds the batch may keep starting new sends: against
    a slow server, the rows it has not reached by then go back to the queue at once,
    before the task's time limit could stop it in the middle of a send (which would
    leave that row to be sent again after its lease). ``clock`` tells the time
    between sends; tests pass one that a slow transport moves on, instead of sleeping.
    """
    with holding_bookkeeping_connection():
        return _deliver_batch(message_ids, transport, now or clock(), send_for, clock)


def _deliver_batch(
    message_ids: Sequence[int],
    transport: Transport,
    now: datetime,
    send_for: float | None,
    clock: Callable[[], datetime],
) -> dict[int, DeliveryResult]:
    results = dict.fromkeys(message_ids, DeliveryResult(Outcome.NOT_CLAIMED))
    attempts = claim(message_ids, now)
    if not attempts:
        return results
    with read_session() as session:
        bundles = load_bundles(session, list(attempts))
    ahead = ComposedAhead(bundles, list(attempts), reason_to_drop=_reason_to_drop)
    lease = get_settings().claim_lease
    held, renewed_at = set(attempts), now
    waiting = dict(attempts)
    for message_id, attempt in attempts.items():
        started = clock()
        if send_for is not None and (started - now).total_seconds() >= send_for:
            for unsent in release(waiting, started):
                results[unsent] = DeliveryResult(Outcome.RELEASED, detail="out of time")
            break
        if policy.lease_needs_renewal(renewed_at, started, lease):
            held, renewed_at = renew(waiting, started), started
        del waiting[message_id]
        if message_id not in held:
            # The lease ran out (a stall longer than the lease): the sweep gave it away.
            results[message_id] = DeliveryResult(Outcome.NOT_CLAIMED, detail="claim lost")
            continue
        bundle = bundles.get(message_id)
        if bundle is None:
            finish(
                message_id,
                MessageStatus.FAILED,
                attempt=attempt,
                response="the message's rows are gone",
            )
            results[message_id] = DeliveryResult(Outcome.FAILED, detail="rows gone")
            continue
        results[message_id] = _deliver_claimed(bundle, attempt, transport, started, ahead)
    return results


def _deliver_claimed(
    bundle: MessageBundle,
    attempts: int,
    transport: Transport,
    now: datetime,
    ahead: ComposedAhead,
) -> DeliveryResult:
    message_id = bundle.message.id
    assert message_id is not None
    try:
        drop = _reason_to_drop(bundle)
        if drop:
            finish(message_id, MessageStatus.DROPPED, attempt=attempts, response=drop)
            return DeliveryResult(Outcome.DROPPED, detail=drop)
        email = ahead.take(message_id, now)
    except Exception as exc:
        # A message we cannot build will not build on retry either: fail it visibly.
        log.exception("could not compose message %s", message_id)
        detail = f"could not compose the message: {type(exc).__name__}: {exc}"
        finish(message_id, MessageStatus.FAILED, attempt=attempts, response=detail[:1000])
        return DeliveryResult(Outcome.FAILED, detail=detail)
    try:
        transport.send(email)
    except TemporaryFailure as failure:
        if attempts >= policy.MAX_ATTEMPTS:
            return _failed(message_id, attempts, failure)
        delay = policy.retry_delay(attempts)
        if not requeue(message_id, now, delay, failure.code, failure.text, attempt=attempts):
            return DeliveryResult(Outcome.NOT_CLAIMED, detail="claim lost")
        return DeliveryResult(Outcome.RETRY, retry_in=delay, detail=failure.text)
    except PermanentFailure as failure:
        result = _failed(message_id, attempts, failure)
        if policy.is_bad_address(failure.code, failure.text):
            _mark_bounced(bundle.contact, now, f"{failure.code} {failure.text}")
        return result
    except Exception as exc:
        # Neither a reply nor a lost connection (an address the transport cannot
        # write, a bug): the row must not sit in ``sending`` until its lease runs
        # out and come back forever. Tried again a few times, then failed, with why.
        log.exception("could not send message %s", message_id)
        return _unexpected(message_id, attempts, now, f"{type(exc).__name__}: {exc}")
    finish(
        message_id,
        MessageStatus.SENT,
        attempt=attempts,
        code=250,
        response="accepted",
        message_id_header=raw_header(email, "Message-ID"),
        sent_at=now,
    )
    return DeliveryResult(Outcome.SENT)


def _failed(message_id: int, attempts: int, failure: DeliveryFailure) -> DeliveryResult:
    """Record the server's refusal as the row's end, with its code and words."""
    finish(
        message_id,
        MessageStatus.FAILED,
        attempt=attempts,
        code=failure.code,
        response=failure.text,
    )
    return DeliveryResult(Outcome.FAILED, detail=failure.text)


def _unexpected(message_id: int, attempts: int, now: datetime, error: str) -> DeliveryResult:
    """An unexpected error while sending: back to the queue, or failed once tried enough."""
    if attempts >= policy.MAX_UNEXPECTED_ATTEMPTS:
        detail = f"could not send the message after {attempts} attempts: {error}"[:1000]
        finish(message_id, MessageStatus.FAILED, attempt=attempts, response=detail)
        return DeliveryResult(Outcome.FAILED, detail=detail)
    delay = policy.retry_delay(attempts)
    if not requeue(message_id, now, delay, None, error[:1000], attempt=attempts):
        return DeliveryResult(Outcome.NOT_CLAIMED, detail="claim lost")
    return DeliveryResult(Outcome.RETRY, retry_in=delay, detail=error)


def _reason_to_drop(bundle: MessageBundle) -> str | None:
    if bundle.message.kind == MessageKind.FOLLOWUP and followup_variant(bundle) is None:
        return "the follow-up goes to attendees and to those who declined"
    return policy.reason_to_drop(
        bundle.message.kind,
        event_status=bundle.event.status,
        invitation_status=bundle.invitation.status,
        unsubscribed=bundle.contact.unsubscribed_at is not None,
        bounced=bundle.contact.bounced_at is not None,
    )


def _mark_bounced(contact: Contact, now: datetime, reason: str) -> None:
    with write_session() as session:
        session.execute(
            update(Contact)
            .where(col(Contact.id) == contact.id)
            .values(bounced_at=now, bounce_reason=reason[:500], updated_at=now)
        )
