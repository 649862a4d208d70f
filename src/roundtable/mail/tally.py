"""The outbox's counts by state for the staff report, kept by the database.

See :mod:`roundtable.tally`. Every message of an event passes through two or three
states (queued, sending, sent); counting them meant reading every row of the outbox,
300,000 for an event of 100,000 invitees. One row per event, a column per state: a
message that moves on appends one change, not two.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlmodel import SQLModel

from roundtable.mail.model import MessageStatus
from roundtable.tally import Count, Key, define

BY_STATUS = define(
    SQLModel.metadata,
    "message_tally",
    "message",
    keys=(Key("event_id", Integer(), "{row}.event_id"),),
    counts=tuple(
        Count(status, f"CASE WHEN {{row}}.status = '{status}' THEN 1 ELSE 0 END")
        for status in MessageStatus.ALL
    ),
)

TALLIES = (BY_STATUS,)
