"""Reading one message of the mailbox: what it is and what it says. Pure: bytes in, facts out.

:func:`read_message` never raises: whatever cannot be understood (broken MIME, a
calendar that does not parse, parts beyond the size limits) is a reading of kind
``unreadable`` with the reason, and the message goes to the unreadable folder
(docs/architecture.md, "Hearing back").
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import getaddresses

from roundtable.inbound.authenticity import AuthResult, auth_results
from roundtable.inbound.calendar_reply import CalendarAnswer, calendar_answer
from roundtable.inbound.dsn import Bounce, bounce_of
from roundtable.inbound.model import InboundKind

#: a message larger than this is not read at all (a reply or a bounce is a few kilobytes)
MAX_MESSAGE = 5_000_000
#: parts walked at most: a MIME tree wider than this is not a reply
MAX_PARTS = 200
MAX_SUBJECT = 500

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica|absence)\b",
    re.IGNORECASE,
)
_UNTIL = re.compile(
    r"\b(?:until|till|back on|return(?:ing)? on|jusqu'au|hasta el|bis)\s+([^\n.;]{1,60})",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


@dataclass(frozen=True)
class Reading:
    """What one message is, and what it says that Roundtable can act on."""

    kind: InboundKind
    key: str
    message_id: str | None = None
    sender: str = ""
    subject: str = ""
    #: Message-IDs it answers (In-Reply-To, References): our invitation's, often
    answers: tuple[str, ...] = ()
    auth: tuple[AuthResult, ...] = ()
    calendar: CalendarAnswer | None = None
    bounce: Bounce | None = None
    #: for staff: "out of office until …", the first lines of a person's mail, or why unreadable
    note: str = ""
    problems: tuple[str, ...] = field(default=())


def message_key(raw: bytes, message_id: str | None) -> str:
    """The idempotence key: the Message-ID, or a digest of the bytes when there is none."""
    if message_id:
        return message_id[:300]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def read_message(raw: bytes) -> Reading:
    """Classify ``raw``; anything that goes wrong makes it unreadable, never an exception."""
    if len(raw) > MAX_MESSAGE:
        return Reading(InboundKind.UNREADABLE, message_key(raw, None), note="message too large")
    try:
        message = email.message_from_bytes(raw, policy=default)
        message_id = _message_id(message)
    except Exception as exc:  # the parser's own failures: junk, not a crash
        return Reading(InboundKind.UNREADABLE, message_key(raw, None), note=_why(exc))
    key = message_key(raw, message_id)
    try:
        return _read(message, key, message_id)
    except Exception as exc:
        return Reading(InboundKind.UNREADABLE, key, message_id=message_id, note=_why(exc))


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _read(message: EmailMessage, key: str, message_id: str | None) -> Reading:
    parts = list(_walk(message))
    sender = _sender(message)
    subject = " ".join(str(message.get("Subject", "")).split())[:MAX_SUBJECT]
    common = {
        "key": key,
        "message_id": message_id,
        "sender": sender,
        "subject": subject,
        "answers": _answers(message),
        "auth": auth_results(message.get_all("Authentication-Results") or []),
    }
    bounce = bounce_of(message, parts)
    if bounce is not None:
        kind = InboundKind.BOUNCE if bounce.permanent else InboundKind.DELAY
        return Reading(kind, bounce=bounce, note=bounce.diagnostic, **common)  # type: ignore[arg-type]
    for part in parts:
        if part.get_content_type() == "text/calendar":
            answer = calendar_answer(_bytes(part))
            if answer is not None:
                kind = (
                    InboundKind.COUNTER
                    if answer.method == "COUNTER"
                    else InboundKind.CALENDAR_REPLY
                )
                return Reading(kind, calendar=answer, note=answer.comment, **common)  # type: ignore[arg-type]
    if not sender:
        return Reading(InboundKind.UNREADABLE, note="no sender address", **common)  # type: ignore[arg-type]
    text = _text(parts)
    if _is_auto_reply(message, subject):
        until = _UNTIL.search(text)
        note = f"out of office until {until.group(1).strip()}" if until else "automatic reply"
        return Reading(InboundKind.AUTO_REPLY, note=note, **common)  # type: ignore[arg-type]
    return Reading(InboundKind.HUMAN, note=_first_lines(text), **common)  # type: ignore[arg-type]


def _walk(message: Message) -> list[Message]:
    parts = []
    for number, part in enumerate(message.walk()):
        if number >= MAX_PARTS:
            raise ValueError(f"more than {MAX_PARTS} MIME parts")
        parts.append(part)
    return parts


def _bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _message_id(message: EmailMessage) -> str | None:
    found = _MESSAGE_ID.search(str(message.get("Message-ID", "")))
    return found.group(0) if found else None


def _answers(message: EmailMessage) -> tuple[str, ...]:
    text = f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
    return tuple(dict.fromkeys(_MESSAGE_ID.findall(text)))[:50]


def _sender(message: EmailMessage) -> str:
    """The From address, lower case; empty when there is not exactly one."""
    addresses = [address for _, address in getaddresses([str(message.get("From", ""))]) if address]
    if len(addresses) != 1 or "@" not in addresses[0]:
        return ""
    return addresses[0].strip().lower()[:320]


def _is_auto_reply(message: EmailMessage, subject: str) -> bool:
    """RFC 3834 ``Auto-Submitted`` and the headers and subjects mail programs use instead."""
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if submitted.startswith("auto-replied") or submitted.startswith("auto-generated"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    suppress = str(message.get("X-Auto-Response-Suppress", "")).lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence == "auto_reply" or (suppress and precedence in ("bulk", "junk", "list")):
        return True
    return bool(_AUTO_SUBJECT.search(subject))


def _text(parts: list[Message]) -> str:
    """The first plain-text part, decoded with its charset (or replaced where it lies)."""
    for part in parts:
        if (
            part.get_content_type() == "text/plain"
            and part.get_content_disposition() != "attachment"
        ):
            charset = part.get_content_charset() or "utf-8"
            try:
                return _bytes(part).decode(charset, errors="replace")
            except LookupError:
                return _bytes(part).decode("utf-8", errors="replace")
    return ""


def _first_lines(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # The quoted invitation below a person's words is not theirs.
    mine = [line for line in lines[:40] if not line.startswith(">")]
    return " ".join(mine)[:1000]
