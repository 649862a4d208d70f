"""Messages the organizers write to a group, and the outbox kind their copies carry.

Revision ID: 0010_group_messages
Revises: 0005_representatives
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roundtable.types

revision: str = "0010_group_messages"
down_revision: str | None = "0009_inbound_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = (
    "invitation",
    "confirmation",
    "update",
    "cancellation",
    "reminder",
    "nudge",
    "followup",
    "promotion",
)


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade() -> None:
    op.create_table(
        "group_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("sent_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", roundtable.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("group_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_message_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("message_kind_known", type_="check")
        batch_op.create_check_constraint(
            "message_kind_known", _kind_check((*_OLD_KINDS, "message"))
        )


def downgrade() -> None:
    op.execute("DELETE FROM message WHERE kind = 'message'")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("message_kind_known", type_="check")
        batch_op.create_check_constraint("message_kind_known", _kind_check(_OLD_KINDS))
    with op.batch_alter_table("group_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_message_event_id"))
    op.drop_table("group_message")
