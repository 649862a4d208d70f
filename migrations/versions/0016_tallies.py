"""The counts the database keeps for the staff report: tallies of invitations and messages.

Two tables per tally and the triggers that keep them, as :mod:`roundtable.tally`
makes them from the definitions in ``roundtable.invitations.tally`` and
``roundtable.mail.tally``; then each tally is counted from the rows already there.
A later change of a tally's definition needs a revision of its own, which drops its
tables and triggers and makes them anew (docs/architecture.md, "Reports").

Revision ID: 0016_tallies
Revises: 0015_report_covering_indexes
Create Date: 2026-12-04 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from roundtable.invitations import tally as invitation_tallies
from roundtable.mail import tally as message_tallies

revision: str = "0016_tallies"
down_revision: str | None = "0015_report_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLIES = (*invitation_tallies.TALLIES, *message_tallies.TALLIES)


def upgrade() -> None:
    connection = op.get_bind()
    for tally in TALLIES:
        tally.folded.create(connection)
        tally.changes.create(connection)
        tally.create_triggers(connection)
        tally.refill(connection)


def downgrade() -> None:
    connection = op.get_bind()
    for tally in TALLIES:
        tally.drop_triggers(connection)
        tally.changes.drop(connection, checkfirst=True)
        tally.folded.drop(connection, checkfirst=True)
