"""Delivery status notifications: which of our messages failed, for whom, and why.

RFC 3464 reports (``multipart/report; report-type=delivery-status``: Postfix,
Exchange, Gmail) carry per-recipient ``Action`` and ``Status`` fields and the
returned message or its headers. Older and non-standard shapes (a plain text
"Undeliverable:" from an Exchange relay, "Mail delivery failed" from Exim) are
recognised by sender and subject, and read for a status code and the returned
Message-ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from enum import StrEnum

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MESSAGE_ID = re.compile(
    r"^(?:original-|x-original-)?message-id:\s*(<[^<>\s]{1,250}>)", re.I | re.M
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_SUBJECT = re.compile(
    r"undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|delivery has failed|failure notice|non[- ]?delivery|delivery failure",
    re.I,
)
MAX_DIAGNOSTIC = 480


class Action(StrEnum):
    """A report's ``Action`` field (RFC 3464, 2.3.3)."""

    FAILED = "failed"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    EXPANDED = "expanded"


@dataclass(frozen=True)
class Bounce:
    """What a report says about one recipient of one of our messages."""

    #: the returned message's Message-ID(s): ours, when the report is about our mail
    original_ids: tuple[str, ...]
    recipient: str
    status: str
    action: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        """``Action: failed`` or a 5.x.x status; a 4.x.x delay is not a failure."""
        if self.status.startswith("4") or self.action in (
            Action.DELAYED,
            Action.RELAYED,
            Action.DELIVERED,
            Action.EXPANDED,
        ):
            return False
        return self.action == Action.FAILED or self.status.startswith("5")


def bounce_of(message: EmailMessage, parts: list[Message]) -> Bounce | None:
    """The bounce ``message`` is, or ``None`` when it is no delivery report."""
    report = next((p for p in parts if p.get_content_type() == "message/delivery-status"), None)
    if report is not None:
        return _standard(report, parts)
    sender = str(message.get("From", ""))
    address = sender.rpartition("<")[2].rstrip(">").strip()
    subject = str(message.get("Subject", ""))
    is_ndr = bool(message.get("X-MS-Exchange-Message-Is-Ndr") is not None)
    if not (is_ndr or (_DAEMON.match(address) and _SUBJECT.search(subject))):
        return None
    return _plain(parts)


def _standard(report: Message, parts: list[Message]) -> Bounce:
    blocks = report.get_payload()
    fields: dict[str, str] = {}
    if isinstance(blocks, list):
        # The first block is about the message; the next ones each about a recipient.
        for block in blocks[1:] or blocks:
            if isinstance(block, Message) and block.get("Action") is not None:
                fields = {key.lower(): " ".join(str(value).split()) for key, value in block.items()}
                break
    status_found = _STATUS.search(fields.get("status", ""))
    diagnostic = fields.get("diagnostic-code", "").partition(";")[2].strip() or fields.get(
        "diagnostic-code", ""
    )
    return Bounce(
        original_ids=_returned_ids(parts),
        recipient=_recipient(fields.get("final-recipient") or fields.get("original-recipient", "")),
        status=status_found.group(0) if status_found else "",
        action=fields.get("action", "").lower(),
        diagnostic=(diagnostic or fields.get("status", ""))[:MAX_DIAGNOSTIC],
    )


def _plain(parts: list[Message]) -> Bounce:
    text = "\n".join(_decoded(part) for part in parts if part.get_content_maintype() == "text")
    status_found = _STATUS.search(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    diagnostic = next(
        (line for line in lines if status_found and status_found.group(0) in line), ""
    )
    return Bounce(
        original_ids=_returned_ids(parts) or tuple(dict.fromkeys(_MESSAGE_ID.findall(text))),
        recipient="",
        status=status_found.group(0) if status_found else "",
        action=Action.FAILED if status_found is None else "",
        diagnostic=(diagnostic or " ".join(lines[:3]))[:MAX_DIAGNOSTIC],
    )


def _returned_ids(parts: list[Message]) -> tuple[str, ...]:
    """Message-IDs of the returned message (``message/rfc822``) or its headers."""
    found: list[str] = []
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            for returned in inner if isinstance(inner, list) else []:
                if isinstance(returned, Message) and returned.get("Message-ID"):
                    found.append(str(returned["Message-ID"]).strip())
        elif kind == "text/rfc822-headers":
            found.extend(_MESSAGE_ID.findall(_decoded(part)))
    return tuple(dict.fromkeys(value for value in found if value.startswith("<")))[:10]


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _recipient(value: str) -> str:
    """``rfc822; Ann@Example.org`` as ``ann@example.org``."""
    return value.partition(";")[2].strip().strip("<>").lower()[:320] if ";" in value else ""
