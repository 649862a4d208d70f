"""The installation's identity: a random part of every Message-ID, the secret key's fingerprint.

Two databases counting their outbox rows alike no longer mint the same
Message-IDs; the fingerprint is stored on first use of the key (docs/architecture.md,
"Identities").

Revision ID: 0007_installation
Revises: 0005_representatives
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import roundtable.types

revision: str = "0007_installation"
down_revision: str | None = "0010_group_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id_part", sa.String(length=32), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", roundtable.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="installation_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        installation,
        [{"id": 1, "message_id_part": secrets.token_hex(6), "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("installation")
