"""The people Roundtable writes to, and the organizations they belong to."""

from __future__ import annotations

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
    """A person, shared across events; the address is normalised to lower case and unique."""

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="contact_email_lower"),
        CheckConstraint(
            "language IN ('en', 'fr', 'es', 'ar', 'zh', 'ru')", name="contact_language_known"
        ),
        # The invitee table's default order: its first page is read off this index.
        Index("contact_name_order", "last_name", "full_name"),
        # The few addresses that bounced, listed on every event page.
        Index("contact_bounced", "bounced_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=320)
    honorific: str = Field(default="", max_length=40)
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    full_name: str = Field(max_length=400)
    position: str = Field(default="", max_length=300)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    language: str = Field(default="en", max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounce_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def display_name(self) -> str:
        """The name as written on an envelope: honorific first."""
        return f"{self.honorific} {self.full_name}".strip() if self.honorific else self.full_name
