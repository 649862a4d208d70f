"""Follow-up mail subscriptions: a contact may stop them with one click (RFC 8058)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, update

from roundtable.db import rows_changed, write_session
from roundtable.people.model import Contact


def unsubscribe(contact_id: int, *, now: datetime) -> bool:
    """Stop follow-ups to this contact; ``False`` when they had stopped them already."""
    with write_session() as session:
        changed = rows_changed(
            session,
            update(Contact)
            .where(col(Contact.id) == contact_id, col(Contact.unsubscribed_at).is_(None))
            .values(unsubscribed_at=now, updated_at=now),
        )
    return changed == 1
