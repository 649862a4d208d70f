"""Invitations of contacts to events, and the log of every reply."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The tables its foreign keys name, registered whenever this one is (a flush needs them).
from roundtable.events.model import Event  # noqa: F401
from roundtable.people.model import LANGUAGES, Addressee, Contact, Organization, display_name  # noqa: F401
from roundtable.types import UTCDateTime, utcnow


class InviteeRole(StrEnum):
    """The part an invitee plays at the event; the value is stored and written in files."""

    PARTICIPANT = "participant"
    SPEAKER = "speaker"
    PANELLIST = "panellist"
    MODERATOR = "moderator"
    OBSERVER = "observer"

    #: every role, in the order forms and files list them (typed as text: they key plain dicts)
    ALL: ClassVar[tuple[str, ...]]


class Status(StrEnum):
    """Where an invitation stands; ``invited`` means invited and not yet replied."""

    NOT_INVITED = "not_invited"
    INVITED = "invited"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    #: every status, in the order reports show them (typed as text: they key plain dicts)
    ALL: ClassVar[tuple[str, ...]]
    #: those who replied
    REPLIED: ClassVar[tuple[str, ...]]


InviteeRole.ALL = tuple(InviteeRole)
Status.ALL = tuple(Status)
Status.REPLIED = (Status.ACCEPTED, Status.TENTATIVE, Status.DECLINED, Status.WAITLISTED)


_STATUS_SQL = ", ".join(f"'{status}'" for status in Status.ALL)
_ROLE_SQL = ", ".join(f"'{role}'" for role in InviteeRole.ALL)
_LANGUAGE_SQL = ", ".join(f"'{language}'" for language in LANGUAGES)


class Invitation(SQLModel, table=True):
    """A contact's place on an event's list: created by the import, invited by ``send``."""

    __table_args__ = (
        UniqueConstraint("event_id", "contact_id", name="invitation_once_per_event"),
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="invitation_status_known"),
        CheckConstraint(f"role IN ({_ROLE_SQL})", name="invitation_role_known"),
        CheckConstraint("guests >= 0", name="invitation_guests_non_negative"),
        CheckConstraint(f"language IN ({_LANGUAGE_SQL})", name="invitation_language_known"),
        CheckConstraint(
            "status = 'not_invited' OR token_hash IS NOT NULL", name="invitation_token_when_invited"
        ),
        # The staff report counts by organization and by role, and the reply chart
        # counts by day, from these indexes alone, without reading the table
        # (docs/architecture.md, "Reports").
        Index("invitation_event_organization", "event_id", "organization_id", "status"),
        Index(
            "invitation_event_role_status",
            "event_id",
            "role",
            "status",
            "invited_at",
            "attended_at",
        ),
        Index("invitation_event_first_reply", "event_id", "first_replied_at"),
        # An event's invitations of a status (who to remind, who waits for a seat), and
        # the seats an acceptance counts under its event's lock from the index alone:
        # the accepted invitations' entries and their guests, not every row of the event.
        Index("invitation_event_status_guests", "event_id", "status", "guests"),
        # The invitee table's default order: its first page is read off this index.
        Index("invitation_name_order", "event_id", "last_name", "full_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: the indexes above all begin with it (migration 0017).
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True)
    # The invitee as this event's organizer describes them: another event's list
    # may name the same address differently (README, "Contacts and events").
    honorific: str = Field(default="", max_length=40)
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    full_name: str = Field(default="", max_length=400)
    position: str = Field(default="", max_length=300)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    language: str = Field(default="en", max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    role: str = Field(default="participant", max_length=20)
    # Read by event and status: the index that begins with both (migration 0017).
    status: str = Field(default=Status.NOT_INVITED, max_length=20)
    token_salt: str | None = Field(default=None, max_length=64)
    token_hash: str | None = Field(default=None, unique=True, max_length=64)
    guests: int = 0
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    represented_by_id: int | None = Field(default=None, foreign_key="invitation.id")
    representative_of_id: int | None = Field(default=None, foreign_key="invitation.id")
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: when the reply log got its first entry: the day the invitee first answered
    first_replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    waitlisted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def display_name(self) -> str:
        """The name as written on an envelope: honorific first."""
        return display_name(self.honorific, self.full_name)

    def addressee(self, email: str) -> Addressee:
        """The invitee at ``email`` as this event's list names them, for mail and calendars."""
        return Addressee(
            email=email,
            honorific=self.honorific,
            first_name=self.first_name,
            last_name=self.last_name,
            full_name=self.full_name,
            position=self.position,
            language=self.language,
            timezone=self.timezone,
        )


class ReplyLog(SQLModel, table=True):
    """Who changed a reply, when, from what to what: replies can change until the deadline."""

    __tablename__ = "reply_log"

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=340)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    guests: int = 0
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reason: str = Field(default="", max_length=500)


class RepresentativeNaming(SQLModel, table=True):
    """A representative an invitee named: the address and the name exactly as typed.

    One row per address per invitation, kept when the representative is replaced:
    the rows count the different representatives an invitation has named over its
    life (a bounded number), and the invitee's page shows the name they typed,
    never the name stored on a contact who already had that address.
    """

    __tablename__ = "representative_naming"
    __table_args__ = (UniqueConstraint("invitation_id", "email", name="representative_named_once"),)

    id: int | None = Field(default=None, primary_key=True)
    #: the invitation whose invitee named the representative
    invitation_id: int = Field(foreign_key="invitation.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    #: the representative's own invitation, once there is one
    representative_id: int | None = Field(
        default=None, foreign_key="invitation.id", ondelete="SET NULL"
    )
    named_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
