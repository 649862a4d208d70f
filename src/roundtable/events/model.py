"""The event and its agenda, as stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from roundtable.types import UTCDateTime, utcnow


class EventStatus(StrEnum):
    """Whether the event still takes place."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Event(SQLModel, table=True):
    """A meeting invitees are asked to; instants in UTC, the venue's zone kept beside them."""

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="event_ends_after_start"),
        CheckConstraint("sequence >= 0", name="event_sequence_non_negative"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="event_capacity_positive"),
        CheckConstraint("max_guests >= 0", name="event_max_guests_non_negative"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="event_status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=100)
    uid: str = Field(unique=True, max_length=255)
    sequence: int = 0
    status: str = Field(default=EventStatus.SCHEDULED, max_length=20)
    title: str = Field(max_length=500)
    format: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    #: how to enter the venue (Markdown), shown in confirmations and reminders
    access: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    #: the event's own words in other languages: ``{"fr": {"title": …, "access": …}}``
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    timezone: str = Field(max_length=64)
    venue: str = Field(default="", max_length=300)
    room: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    webcast_url: str = Field(default="", max_length=500)
    capacity: int | None = None
    max_guests: int = 0
    rsvp_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_offsets: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    nudge_offset: int | None = None
    followup_offset: int | None = None
    co_organizers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    organizer_name: str = Field(max_length=200)
    organizer_email: str = Field(max_length=320)
    contact_name: str = Field(default="", max_length=200)
    contact_office: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=100)
    contact_email: str = Field(default="", max_length=320)
    recommendations: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recommendations_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class AgendaItem(SQLModel, table=True):
    """One line of the programme, in the order it was given."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("event_id", "position", name="agenda_item_position"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    position: int
    time: str = Field(default="", max_length=5)
    title: str = Field(max_length=500)
    speakers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    #: the title in other languages, by language code
    translations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
