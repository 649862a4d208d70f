"""Reports read invitations alone: the organization and the first reply on the invitation.

The staff report grouped invitations by the contact's organization through a join,
and the reply chart found each invitation's first reply in the reply log: both
read every row of two tables. The invitation now carries both facts, filled in
here for the rows that exist, and indexes that answer the report from the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 07:04:06.393564
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roundtable.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANIZATION_FOREIGN_KEY = "invitation_organization_id_fkey"


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index("contact_name_order", ["last_name", "full_name"], unique=False)
        batch_op.create_index("contact_bounced", ["bounced_at"], unique=False)

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "first_replied_at", roundtable.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_foreign_key(
            ORGANIZATION_FOREIGN_KEY, "organization", ["organization_id"], ["id"]
        )

    op.execute(
        "UPDATE invitation SET organization_id = "
        "(SELECT contact.organization_id FROM contact WHERE contact.id = invitation.contact_id)"
    )
    op.execute(
        "UPDATE invitation SET first_replied_at = "
        "(SELECT min(reply_log.at) FROM reply_log WHERE reply_log.invitation_id = invitation.id)"
    )

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            "invitation_event_first_reply", ["event_id", "first_replied_at"], unique=False
        )
        batch_op.create_index(
            "invitation_event_organization",
            ["event_id", "organization_id", "status"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("invitation_event_organization")
        batch_op.drop_index("invitation_event_first_reply")
        batch_op.drop_constraint(ORGANIZATION_FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("first_replied_at")
        batch_op.drop_column("organization_id")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("contact_bounced")
        batch_op.drop_index("contact_name_order")
