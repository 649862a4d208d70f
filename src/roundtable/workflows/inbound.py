"""Hearing back: read the organizer's mailbox once and act on each message, at most once.

For each message still in the folder: read it, then in ONE transaction record it
(:class:`InboundMessage`, unique by Message-ID and by IMAP position) together with
what it causes (a reply through :func:`record_reply_in`, a bounce, a note); only
after the commit is it moved out of the folder. A crash before the commit leaves
the message where it was, to be read again; a crash after it leaves a recorded
message that the next fetch only moves (docs/architecture.md, "Hearing back").
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from roundtable.config import get_settings
from roundtable.db import write_session
from roundtable.errors import InputError, NotFound, Problem
from roundtable.inbound.authenticity import authentic
from roundtable.inbound.calendar_reply import CalendarAnswer
from roundtable.inbound.mailbox import (
    IMAP_FAILURES,
    PROCESSED,
    UNREADABLE,
    Mailbox,
    MailboxError,
    open_mailbox,
    parse_mailbox_url,
)
from roundtable.inbound.model import InboundKind, InboundMessage, InboundState
from roundtable.inbound.reading import MAX_MESSAGE, Reading, message_key, read_message
from roundtable.inbound.records import (
    already_processed,
    event_by_uid,
    invitation_for_attendee,
    invitation_of_sender,
    messages_by_header,
    record_bounce,
)
from roundtable.invitations.rsvp import Reply, ReplyError, Response
from roundtable.staff.permissions import StaffMember, event_for
from roundtable.types import utcnow
from roundtable.workflows.replies import record_reply_in

log = logging.getLogger(__name__)

#: the reply log's actor for answers given in a calendar program
CALENDAR = "calendar"

PARTSTATS = {
    "ACCEPTED": Response.ACCEPT,
    "DECLINED": Response.DECLINE,
    "TENTATIVE": Response.TENTATIVE,
    # Delegating is declining in favour of someone: the delegate becomes the representative.
    "DELEGATED": Response.DECLINE,
}


@dataclass
class FetchReport:
    """What one fetch did: ``fetched`` messages, counted by kind and by outcome."""

    fetched: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, object]:
        per_kind = {str(kind): self.kinds[kind] for kind in InboundKind}
        return {"fetched": self.fetched, **per_kind, "states": dict(self.states)}

    def as_text(self) -> str:
        counts = ", ".join(f"{count} {name}" for name, count in sorted(self.kinds.items()))
        return f"{self.fetched} message(s) read" + (f": {counts}" if counts else "")


def fetch_once(url: str | None = None, *, now: datetime | None = None) -> FetchReport:
    """Read every message in the configured folder once; raises InputError without a URL."""
    settings = get_settings()
    url = url or settings.inbound_url
    if not url:
        raise InputError([Problem("not set", source="ROUNDTABLE_INBOUND_URL", field="url")])
    address = parse_mailbox_url(url)
    report = FetchReport()
    try:
        with open_mailbox(address) as mailbox:
            uids = mailbox.uids()
            sizes = mailbox.sizes(uids) if uids else {}
            for uid in uids:
                state = _process_one(mailbox, uid, sizes.get(uid, 0), now or utcnow())
                if state is not None:
                    report.fetched += 1
                    report.kinds[state[0]] += 1
                    report.states[state[1]] += 1
    except IMAP_FAILURES as exc:
        # What was committed stays; what was not is still in the folder for the next fetch.
        raise MailboxError(
            f"mailbox {address.host}:{address.port}/{address.folder}: {exc}"
        ) from exc
    return report


def fetch_if_configured() -> dict[str, object]:
    """The periodic job (beat's task, ``serve``'s thread): a fetch whose failure is only logged.

    An unreachable server is the next interval's problem; what was read stays read.
    """
    if not get_settings().inbound_url:
        return {"fetched": 0, "configured": False}
    try:
        return fetch_once().as_json()
    except MailboxError as error:
        log.warning("inbound fetch failed: %s", error)
        return {"fetched": 0, "error": str(error)}


def poll(stop: threading.Event, interval: float) -> None:
    """Fetch every ``interval`` seconds until ``stop`` is set (``serve`` without a broker)."""
    while not stop.is_set():
        try:
            fetch_if_configured()
        except Exception:  # a thread that dies reads nothing ever again: log and go on
            log.exception("inbound fetch crashed")
        stop.wait(interval)


def _process_one(mailbox: Mailbox, uid: int, size: int, now: datetime) -> tuple[str, str] | None:
    """Record and act on one message, then move it; ``None`` when it was done before."""
    raw = b"" if size > MAX_MESSAGE else mailbox.read(uid)
    if raw is None:  # gone meanwhile (another fetch moved it)
        return None
    reading = read_message(raw) if size <= MAX_MESSAGE else _too_large(uid, mailbox)
    try:
        row = _record(reading, mailbox, uid, now)
    except IntegrityError:  # another fetch recorded it at the same moment
        row = None
    except (OperationalError, InterfaceError):
        raise  # the database is away: leave the message for the next fetch
    except Exception as exc:
        # One message that breaks its processing must not stop every later fetch at
        # the same place: it is kept, as unreadable, with the reason.
        log.exception("inbound message %s/%s could not be processed", mailbox.name, uid)
        reading = replace(
            reading,
            kind=InboundKind.UNREADABLE,
            note=f"could not be processed: {type(exc).__name__}: {exc}"[:300],
        )
        row = _record(reading, mailbox, uid, now)
    folder = UNREADABLE if reading.kind == InboundKind.UNREADABLE else PROCESSED
    mailbox.move(uid, folder)
    return None if row is None else (row.kind, row.state)


def _record(reading: Reading, mailbox: Mailbox, uid: int, now: datetime) -> InboundMessage | None:
    """In one transaction: the message's row and what it causes; ``None`` if done before."""
    with write_session() as session:
        if already_processed(session, reading.key, mailbox.name, mailbox.uidvalidity, uid):
            return None
        return _act(session, reading, mailbox, uid, now)


def _too_large(uid: int, mailbox: Mailbox) -> Reading:
    key = message_key(f"{mailbox.name}:{mailbox.uidvalidity}:{uid}".encode(), None)
    return Reading(InboundKind.UNREADABLE, key, note="message too large")


def _act(
    session: Session, reading: Reading, mailbox: Mailbox, uid: int, now: datetime
) -> InboundMessage:
    row = InboundMessage(
        key=reading.key,
        mailbox=mailbox.name,
        uidvalidity=mailbox.uidvalidity,
        uid=uid,
        message_id=reading.message_id,
        kind=reading.kind,
        state=InboundState.NOTED,
        sender=reading.sender,
        subject=reading.subject,
        summary=reading.note,
        received_at=now,
    )
    if reading.kind == InboundKind.UNREADABLE:
        row.state = InboundState.UNREADABLE
    elif reading.calendar is not None:
        _calendar(session, row, reading, reading.calendar, now)
    elif reading.bounce is not None:
        _bounce(session, row, reading, now)
    else:
        invitation = invitation_of_sender(session, reading.sender, reading.answers)
        if invitation is None:
            row.state = InboundState.UNMATCHED
        else:
            row.invitation_id, row.event_id = invitation.id, invitation.event_id
    session.add(row)
    session.flush()
    return row


def _calendar(
    session: Session, row: InboundMessage, reading: Reading, answer: CalendarAnswer, now: datetime
) -> None:
    row.details = {
        "partstat": answer.partstat,
        "attendee": answer.attendee,
        "sequence": answer.sequence,
        "delegated_to": answer.delegated_to,
        "comment": answer.comment,
        "method": answer.method,
        "guests": answer.guests,
    }
    event = event_by_uid(session, answer.uid)
    invitation = (
        invitation_for_attendee(session, event.id, answer.attendee)
        if event is not None and event.id is not None
        else None
    )
    if event is None or invitation is None or invitation.id is None:
        row.state = InboundState.UNMATCHED
        return
    row.event_id, row.invitation_id = event.id, invitation.id
    reply = reply_of(answer)
    row.summary = _describe(answer)
    if reply is None:
        return  # a COUNTER or an answer without a decision: shown to staff, nothing applied
    settings = get_settings()
    if reading.sender != answer.attendee or not authentic(
        reading.auth, settings.inbound_authserv_id, reading.sender
    ):
        row.state = InboundState.HELD
        return
    apply_calendar_reply(session, row, invitation.id, answer, now, reason="")


def reply_of(answer: CalendarAnswer) -> Reply | None:
    """The reply a calendar answer gives, or ``None`` when it decides nothing."""
    response = PARTSTATS.get(answer.partstat)
    if answer.method != "REPLY" or response is None:
        return None
    if answer.partstat == "DELEGATED":
        if not answer.delegated_to:
            return None
        name = answer.delegated_to.partition("@")[0]
        return Reply(response, substitute_name=name, substitute_email=answer.delegated_to)
    guests = answer.guests if response == Response.ACCEPT else 0
    return Reply(response, guests=guests, notes=answer.comment[:500])


def apply_calendar_reply(
    session: Session,
    row: InboundMessage,
    invitation_id: int,
    answer: CalendarAnswer,
    now: datetime,
    *,
    reason: str,
) -> None:
    """Record the answer as the reply, actor ``calendar``; staff confirming give a reason.

    ``row`` says what became of it: applied, or noted with why it was not recorded.
    """
    reply = reply_of(answer)
    if reply is None:
        row.state = InboundState.NOTED
        return
    why = ""
    try:
        result = record_reply_in(
            session, invitation_id, reply, actor=CALENDAR, now=now, reason=reason
        )
        if result.refusal is not None:
            why = str(result.refusal).replace("_", " ")
    except ReplyError as error:
        why = error.message
    row.state = InboundState.NOTED if why else InboundState.APPLIED
    if why:
        row.summary = f"{row.summary} (not recorded: {why})"[:2000]


def _describe(answer: CalendarAnswer) -> str:
    words = f"{answer.partstat.lower()} in a calendar program"
    if answer.method == "COUNTER":
        words = "proposes another time"
    if answer.delegated_to:
        words += f", delegated to {answer.delegated_to}"
    if answer.comment:
        words += f": {answer.comment}"
    return words


def _bounce(session: Session, row: InboundMessage, reading: Reading, now: datetime) -> None:
    bounce = reading.bounce
    assert bounce is not None
    row.details = {
        "status": bounce.status,
        "action": bounce.action,
        "recipient": bounce.recipient,
        "original": list(bounce.original_ids),
    }
    ours = messages_by_header(session, bounce.original_ids)
    if not ours:
        row.state = InboundState.UNMATCHED
        return
    message = ours[0]
    row.event_id, row.invitation_id = message.event_id, message.invitation_id
    row.details["outbox_message"] = message.id
    if bounce.permanent:
        record_bounce(session, message, bounce, now)
        row.state = InboundState.APPLIED


def decide_held(
    member: StaffMember, slug: str, inbound_id: int, *, apply: bool, now: datetime
) -> InboundState | None:
    """Staff apply or ignore a calendar reply held for confirmation (one click on the event page).

    Authorized here, in the transaction that acts: only a member who may manage the
    event; a reply already decided is left as it is (``None``).
    """
    with write_session() as session:
        event = event_for(session, member, slug, manage=True)
        row = session.get(InboundMessage, inbound_id)
        if row is None or row.event_id != event.id:
            raise NotFound(f"no held calendar reply {inbound_id} on event {slug!r}")
        if row.state != InboundState.HELD or row.invitation_id is None:
            return None
        if apply:
            answer = CalendarAnswer(
                method=str(row.details.get("method", "REPLY")),
                uid=event.uid,
                sequence=int(row.details.get("sequence", 0)),
                attendee=str(row.details.get("attendee", "")),
                attendee_name="",
                partstat=str(row.details.get("partstat", "")),
                delegated_to=str(row.details.get("delegated_to", "")),
                comment=str(row.details.get("comment", "")),
                guests=int(row.details.get("guests", 0)),
            )
            reason = f"calendar reply confirmed by {member.email}"
            apply_calendar_reply(session, row, row.invitation_id, answer, now, reason=reason)
        else:
            row.state = InboundState.IGNORED
        row.decided_by, row.decided_at = member.actor, now
        session.add(row)
        return InboundState(row.state)
