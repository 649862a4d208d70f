"""The event's own words in other languages, and how to enter the venue.

``event.translations`` holds ``{"fr": {"title": …, "format": …, "description": …,
"access": …}}``; ``agenda_item.translations`` an item's title by language;
``event.access`` the venue's entry instructions (docs/interfaces.md, "Event file").

Revision ID: 0014_event_translations
Revises: 0007_installation
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_event_translations"
down_revision: str | None = "0007_installation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("access", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("agenda_item") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))
    # Existing rows have their values; new ones get theirs from the application, as the models say.
    with op.batch_alter_table("event") as batch:
        batch.alter_column("access", server_default=None)
        batch.alter_column("translations", server_default=None)
    with op.batch_alter_table("agenda_item") as batch:
        batch.alter_column("translations", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("agenda_item") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("translations")
        batch.drop_column("access")
