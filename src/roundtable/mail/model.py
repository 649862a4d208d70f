"""The outbox: every message is a row before it is a send.

See docs/architecture.md, "Outbox and delivery".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The tables its foreign keys name, registered whenever this one is (a flush needs them).
from roundtable.events.model import Event  # noqa: F401
from roundtable.invitations.model import Invitation  # noqa: F401
from roundtable.types import UTCDateTime, utcnow


class MessageKind(StrEnum):
    """What a message is; each has its folder of templates under ``templates/emails``."""

    INVITATION = "invitation"
    CONFIRMATION = "confirmation"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"
    NUDGE = "nudge"
    FOLLOWUP = "followup"
    PROMOTION = "promotion"
    #: a message the organizers wrote to a group (``mail/group_messages.py``)
    MESSAGE = "message"


KINDS: tuple[MessageKind, ...] = tuple(MessageKind)


class MessageStatus(StrEnum):
    """Where a message stands in the outbox."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: due long ago while the service was down: not sent late
    MISSED = "missed"
    #: no longer applies (the invitee declined, the event was cancelled, …)
    DROPPED = "dropped"

    #: every state, in the order reports show them (typed as text: they key plain dicts)
    ALL: ClassVar[tuple[str, ...]]


MessageStatus.ALL = tuple(MessageStatus)


_KIND_SQL = ", ".join(f"'{kind}'" for kind in KINDS)
_STATUS_SQL = ", ".join(f"'{status}'" for status in MessageStatus.ALL)


class Message(SQLModel, table=True):
    """One message to one invitee; ``mailing`` names the mailing, unique per invitation."""

    __table_args__ = (
        UniqueConstraint("invitation_id", "mailing", name="message_once_per_mailing"),
        CheckConstraint(f"kind IN ({_KIND_SQL})", name="message_kind_known"),
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="message_status_known"),
        CheckConstraint("attempts >= 0", name="message_attempts_non_negative"),
        Index("message_due", "status", "due_at"),
        # The report's delivery counts, queued split by due_at, from this index alone.
        Index("message_event_status_due", "event_id", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    invitation_id: int = Field(foreign_key="invitation.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    mailing: str = Field(max_length=100)
    status: str = Field(default=MessageStatus.QUEUED, max_length=20)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    #: when the doorbell was last rung for this row; the sweep re-rings only stale ones
    enqueued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: while ``sending``: after this instant the claim is considered lost (worker died)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: str | None = Field(default=None, max_length=255)
    last_code: int | None = None
    last_response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupMessage(SQLModel, table=True):
    """A message the organizers wrote to a group of invitees: the record its history lists.

    Each recipient's copy is an outbox row of kind ``message`` whose mailing is
    ``message:<id>``, so a copy is queued once per recipient per message and its
    progress is read from those rows.
    """

    __tablename__ = "group_message"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    #: ``{lang: {"subject": …, "body": …}}``: readers of ``lang`` get these
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    #: who it was for, as chosen: ``{"status": […], "role": […], …}``
    recipients: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    queued: int = 0
    #: the staff account's address (the staff tables sit above mail)
    sent_by: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
