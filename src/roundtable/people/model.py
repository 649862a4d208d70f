"""The people Roundtable writes to, and the organizations they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from roundtable.types import UTCDateTime, utcnow

LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")


class Organization(SQLModel, table=True):
    """A mission, agency, city or institution; invitees are grouped by it in reports."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=300)


class Contact(SQLModel, table=True):
    """An address, shared across events, with the facts that belong to the address.

    Whether mail to it bounced and whether its owner unsubscribed are facts about
    the address. What an organizer types (name, position, organization, language,
    time zone) belongs to one event's list and lives on the invitation, so that an
    import for one event never changes what another event shows (README, "Contacts
    and events").
    """

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="contact_email_lower"),
        # The few addresses that bounced, listed on every event page.
        Index("contact_bounced", "bounced_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=320)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounce_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def display_name(honorific: str, full_name: str) -> str:
    """The name as written on an envelope: honorific first."""
    return f"{honorific} {full_name}".strip() if honorific else full_name


@dataclass(frozen=True, kw_only=True)
class Addressee:
    """A person as one event's list names them: the address and that event's details."""

    email: str
    full_name: str
    honorific: str = ""
    first_name: str = ""
    last_name: str = ""
    position: str = ""
    language: str = "en"
    timezone: str | None = None

    @property
    def display_name(self) -> str:
        return display_name(self.honorific, self.full_name)
