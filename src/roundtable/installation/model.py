"""The one row that identifies this installation (docs/architecture.md, "Identities")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from roundtable.types import UTCDateTime, utcnow

#: the only row's key: one installation per database
THE_ROW = 1


class Installation(SQLModel, table=True):
    """Made by ``roundtable db upgrade`` (or on first use); there is exactly one.

    ``message_id_part`` keeps two databases that count their outbox rows alike
    (a new file per event, next year's database) from minting the same
    Message-IDs; ``key_fingerprint`` is the secret key the links were issued with.
    """

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="installation_single_row"),)

    id: int = Field(default=THE_ROW, primary_key=True)
    message_id_part: str = Field(max_length=32)
    key_fingerprint: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
