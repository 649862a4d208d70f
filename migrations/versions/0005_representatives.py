"""Representatives named by an invitee are recorded, with the name as typed.

An invitation may name a bounded number of different representatives over its
life, counted from these rows; the invitee's page shows the typed name.

Revision ID: 0005_representatives
Revises: 0002
Create Date: 2026-12-02 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roundtable.types

revision: str = "0005_representatives"
down_revision: str | None = "0004_invitee_details_per_event"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "representative_naming",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("named_at", roundtable.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["representative_id"], ["invitation.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invitation_id", "email", name="representative_named_once"),
    )
    with op.batch_alter_table("representative_naming", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_representative_naming_invitation_id"), ["invitation_id"], unique=False
        )
    # Representatives named before this revision: their address and current name.
    op.execute(
        """
        INSERT INTO representative_naming (invitation_id, email, name, representative_id, named_at)
        SELECT original.id, contact.email, SUBSTR(representative.full_name, 1, 200), representative.id,
               COALESCE(representative.invited_at, representative.created_at)
        FROM invitation AS original
        JOIN invitation AS representative ON representative.id = original.represented_by_id
        JOIN contact ON contact.id = representative.contact_id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("representative_naming", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_representative_naming_invitation_id"))
    op.drop_table("representative_naming")
