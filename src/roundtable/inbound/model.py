"""Every message read from the organizer's mailbox, once: the key that makes a fetch idempotent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The tables its foreign keys name, registered whenever this one is (a flush needs them).
from roundtable.events.model import Event  # noqa: F401
from roundtable.invitations.model import Invitation  # noqa: F401
from roundtable.types import UTCDateTime, utcnow


class InboundKind(StrEnum):
    """What a message in the mailbox turned out to be."""

    CALENDAR_REPLY = "calendar_reply"
    #: a calendar COUNTER (another time proposed): shown to staff, never applied
    COUNTER = "counter"
    BOUNCE = "bounce"
    #: a 4.x.x delivery status: the server still tries
    DELAY = "delay"
    AUTO_REPLY = "auto_reply"
    #: a person writing back
    HUMAN = "human"
    UNREADABLE = "unreadable"


class InboundState(StrEnum):
    """What was done about it."""

    APPLIED = "applied"
    #: a calendar reply that could not be proven to come from the attendee: staff decide
    HELD = "held"
    IGNORED = "ignored"
    NOTED = "noted"
    #: understood, but about nothing of ours
    UNMATCHED = "unmatched"
    UNREADABLE = "unreadable"


_KIND_SQL = ", ".join(f"'{kind}'" for kind in InboundKind)
_STATE_SQL = ", ".join(f"'{state}'" for state in InboundState)


class InboundMessage(SQLModel, table=True):
    """One message of the mailbox, recorded in the transaction that acted on it.

    ``key`` is the Message-ID (or a digest of the bytes when there is none) and
    (``mailbox``, ``uidvalidity``, ``uid``) the IMAP position: either one already
    present means the message was processed, so a crash between the commit and the
    move to the processed folder applies nothing twice.
    """

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="inbound_once_per_uid"),
        CheckConstraint(f"kind IN ({_KIND_SQL})", name="inbound_kind_known"),
        CheckConstraint(f"state IN ({_STATE_SQL})", name="inbound_state_known"),
        Index("inbound_event_kind", "event_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    mailbox: str = Field(max_length=300)
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    uid: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: str | None = Field(default=None, max_length=300)
    kind: str = Field(max_length=20)
    state: str = Field(max_length=20)
    event_id: int | None = Field(default=None, foreign_key="event.id", ondelete="CASCADE")
    invitation_id: int | None = Field(
        default=None, foreign_key="invitation.id", index=True, ondelete="SET NULL"
    )
    sender: str = Field(default="", max_length=320)
    subject: str = Field(default="", max_length=500)
    #: what staff read: the answer, the diagnostic, "out of office until …", the first lines
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=340)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
