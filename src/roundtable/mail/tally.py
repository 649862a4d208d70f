"""The outbox's counts by state for the staff report, kept by the database.

See :mod:`roundtable.tally`. Every message of an event passes through two or three
states (queued, sending, sent); counting them meant reading every row of the outbox,
300,000 for an event of 100,000 invitees.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlmodel import SQLModel

from roundtable.tally import Count, Key, define

BY_STATUS = define(
    SQLModel.metadata,
    "message_tally",
    "message",
    keys=(Key("event_id", Integer(), "{row}.event_id"), Key("status", String(20), "{row}.status")),
    counts=(Count("messages", "1"),),
)

TALLIES = (BY_STATUS,)
