"""Staff accounts, the events they organise, and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

# The table its foreign keys name, registered whenever this one is (a flush needs it).
from roundtable.events.model import Event  # noqa: F401
from roundtable.types import UTCDateTime, utcnow

ROLES = ("admin", "organizer", "viewer")


class StaffUser(SQLModel, table=True):
    """Someone who runs events: admins do everything, organizers their events, viewers read."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'organizer', 'viewer')", name="staff_role_known"),
        CheckConstraint("email = lower(email)", name="staff_email_lower"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    role: str = Field(max_length=20)
    password_hash: str | None = Field(default=None, max_length=255)
    #: browser sessions signed in before this instant are void (set by signing out,
    #: disabling the account or setting its password)
    sessions_valid_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: a disabled account cannot sign in and its tokens answer 401; nothing is deleted
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventGrant(SQLModel, table=True):
    """An organizer's right to manage one event."""

    __tablename__ = "event_grant"
    __table_args__ = (UniqueConstraint("staff_id", "event_id", name="event_grant_once"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: written at most once a minute per token, so API reads do not all become writes
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Recent failed sign-ins of one client address or one account address.

    Kept in the database so that every web process sees the same counts. The key
    is ``address:<ip>`` or ``account:<email>``; an email without an account is
    counted like one with an account, so the counts reveal nothing.
    """

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0
    last_failure_at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: attempts before this instant are refused without looking at the password's result
    wait_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
