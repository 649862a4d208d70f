"""Indexes that hold everything the staff report counts, so it never reads the tables.

``invitation_event_role_status`` covers the counts by role and status, with how many
were invited and attended; ``message_event_status_due`` replaces ``message_event_status``
and adds ``due_at``, which splits queued messages into due now and scheduled
(docs/architecture.md, "Reports").

Revision ID: 0015_report_covering_indexes
Revises: 0014_event_translations
Create Date: 2026-12-04 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_report_covering_indexes"
down_revision: str | None = "0014_event_translations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitation") as batch:
        batch.create_index(
            "invitation_event_role_status",
            ["event_id", "role", "status", "invited_at", "attended_at"],
            unique=False,
        )
    with op.batch_alter_table("message") as batch:
        batch.create_index(
            "message_event_status_due", ["event_id", "status", "due_at"], unique=False
        )
        batch.drop_index("message_event_status")


def downgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.create_index("message_event_status", ["event_id", "status"], unique=False)
        batch.drop_index("message_event_status_due")
    with op.batch_alter_table("invitation") as batch:
        batch.drop_index("invitation_event_role_status")
