"""Invitee details belong to the event's list, not to the address shared by every event.

A contact's name, position, organization, language and time zone were global: an
import for one event rewrote what another event's list, mail and calendar showed.
The invitation now carries the details its organizer typed, copied here from
each invitation's contact; the contact keeps the address and the facts about it
(bounces, unsubscribing). The invitee table's name order is read off an index on
the invitation.

Revision ID: 0004_invitee_details_per_event
Revises: 0002
Create Date: 2026-12-02 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_invitee_details_per_event"
down_revision: str | None = "0003_staff_life_cycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGE_CHECK = "language IN ('en', 'fr', 'es', 'ar', 'zh', 'ru')"
CONTACT_ORGANIZATION_FOREIGN_KEY = "contact_organization_id_fkey"

#: the text details, moved as they are (organization_id is on the invitation since 0002)
TEXT_DETAILS = (
    ("honorific", 40),
    ("first_name", 200),
    ("last_name", 200),
    ("full_name", 400),
    ("position", 300),
    ("language", 5),
)


def _copy(from_table: str, to_table: str, key: str, columns: Sequence[str]) -> None:
    """Set ``to_table``'s columns from the matching ``from_table`` row, in one statement each."""
    for column in columns:
        # Every name here is a constant of this file, none comes from data.
        op.execute(
            f"UPDATE {to_table} SET {column} = "  # noqa: S608
            f"(SELECT {from_table}.{column} FROM {from_table} WHERE {key})"
        )


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        for name, length in TEXT_DETAILS:
            batch_op.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )
        batch_op.add_column(
            sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )

    _copy(
        "contact",
        "invitation",
        "contact.id = invitation.contact_id",
        [name for name, _ in TEXT_DETAILS] + ["timezone"],
    )

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        for name, length in TEXT_DETAILS:
            batch_op.alter_column(
                name,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=length),
                nullable=False,
            )
        batch_op.create_check_constraint("invitation_language_known", LANGUAGE_CHECK)
        batch_op.create_index(
            "invitation_name_order", ["event_id", "last_name", "full_name"], unique=False
        )

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("contact_name_order")
        batch_op.drop_index("ix_contact_organization_id")
        batch_op.drop_constraint("contact_language_known", type_="check")
        for name, _ in TEXT_DETAILS:
            batch_op.drop_column(name)
        batch_op.drop_column("timezone")
        batch_op.drop_column("organization_id")


def downgrade() -> None:
    """Back to one set of details per address: each contact takes its latest invitation's."""
    with op.batch_alter_table("contact", schema=None) as batch_op:
        for name, length in TEXT_DETAILS:
            batch_op.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )
        batch_op.add_column(
            sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))

    latest = (
        "invitation.id = (SELECT max(latest.id) FROM invitation AS latest"
        " WHERE latest.contact_id = contact.id)"
    )
    _copy(
        "invitation",
        "contact",
        latest,
        [name for name, _ in TEXT_DETAILS] + ["timezone", "organization_id"],
    )
    op.execute("UPDATE contact SET honorific = '' WHERE honorific IS NULL")
    op.execute("UPDATE contact SET first_name = '' WHERE first_name IS NULL")
    op.execute("UPDATE contact SET last_name = '' WHERE last_name IS NULL")
    op.execute("UPDATE contact SET full_name = email WHERE full_name IS NULL")
    op.execute("UPDATE contact SET position = '' WHERE position IS NULL")
    op.execute("UPDATE contact SET language = 'en' WHERE language IS NULL")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        for name, length in TEXT_DETAILS:
            batch_op.alter_column(
                name,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=length),
                nullable=False,
            )
        batch_op.create_foreign_key(
            CONTACT_ORGANIZATION_FOREIGN_KEY, "organization", ["organization_id"], ["id"]
        )
        batch_op.create_check_constraint("contact_language_known", LANGUAGE_CHECK)
        batch_op.create_index("ix_contact_organization_id", ["organization_id"], unique=False)
        batch_op.create_index("contact_name_order", ["last_name", "full_name"], unique=False)

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("invitation_name_order")
        batch_op.drop_constraint("invitation_language_known", type_="check")
        for name, _ in TEXT_DETAILS:
            batch_op.drop_column(name)
        batch_op.drop_column("timezone")
