"""Messages read from the organizer's mailbox, each recorded once.

Revision ID: 0009_inbound_messages
Revises: 0005_representatives
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roundtable.types

revision: str = "0009_inbound_messages"
down_revision: str | None = "0005_representatives"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'calendar_reply', 'counter', 'bounce', 'delay', 'auto_reply', 'human', 'unreadable'"
STATES = "'applied', 'held', 'ignored', 'noted', 'unmatched', 'unreadable'"


def upgrade() -> None:
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("received_at", roundtable.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=340), nullable=True),
        sa.Column("decided_at", roundtable.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="inbound_kind_known"),
        sa.CheckConstraint(f"state IN ({STATES})", name="inbound_state_known"),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name="inbound_once_per_uid"),
    )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index("inbound_event_kind", ["event_id", "kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbound_message_invitation_id"), ["invitation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_message_invitation_id"))
        batch_op.drop_index("inbound_event_kind")
    op.drop_table("inbound_message")
