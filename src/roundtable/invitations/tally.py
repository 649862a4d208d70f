"""The invitations' counts for the staff report, kept by the database (:mod:`roundtable.tally`).

Each is shaped as the table that reads it: by organization, a column per status
(one row per organization: 5,000 in our largest benchmark); by role and status,
with how many were invited and have attended (a few dozen rows); by language, for
the translations the event page asks for; first replies by day, for its chart.
"""

from __future__ import annotations

from sqlalchemy import Date, Integer, String
from sqlmodel import SQLModel

from roundtable.invitations.model import Status
from roundtable.tally import Count, Key, define

EVENT = Key("event_id", Integer(), "{row}.event_id")
STATUS = Key("status", String(20), "{row}.status")
INVITEES = Count("invitees", "1")
#: the organization's id; 0 for invitees of no organization (a key is never NULL)
ORGANIZATION = Key("organization_id", Integer(), "coalesce({row}.organization_id, 0)")
NO_ORGANIZATION_ID = 0

BY_ORGANIZATION = define(
    SQLModel.metadata,
    "invitation_tally_organization",
    "invitation",
    keys=(EVENT, ORGANIZATION),
    # a column named after each status: the invitees of the organization in it
    counts=tuple(
        Count(status, f"CASE WHEN {{row}}.status = '{status}' THEN 1 ELSE 0 END")
        for status in Status.ALL
    ),
)

BY_ROLE = define(
    SQLModel.metadata,
    "invitation_tally_role",
    "invitation",
    keys=(EVENT, Key("role", String(20), "{row}.role"), STATUS),
    counts=(
        INVITEES,
        Count("invited", "CASE WHEN {row}.invited_at IS NULL THEN 0 ELSE 1 END"),
        Count("attended", "CASE WHEN {row}.attended_at IS NULL THEN 0 ELSE 1 END"),
    ),
)

#: by the language each invitee reads: which translations the event page asks for
BY_LANGUAGE = define(
    SQLModel.metadata,
    "invitation_tally_language",
    "invitation",
    keys=(EVENT, Key("language", String(5), "{row}.language")),
    counts=(INVITEES,),
)

#: first replies by their day (UTC), for the replies chart; those who have not replied
#: have no day and count nothing
BY_FIRST_REPLY_DAY = define(
    SQLModel.metadata,
    "invitation_tally_first_reply",
    "invitation",
    keys=(
        EVENT,
        Key(
            "day",
            Date(),
            "CAST({row}.first_replied_at AT TIME ZONE 'UTC' AS DATE)",
            sqlite_expression="date({row}.first_replied_at)",  # stored as naive UTC text
            nullable=True,
        ),
    ),
    counts=(Count("replied", "CASE WHEN {row}.first_replied_at IS NULL THEN 0 ELSE 1 END"),),
)

TALLIES = (BY_ORGANIZATION, BY_ROLE, BY_LANGUAGE, BY_FIRST_REPLY_DAY)
