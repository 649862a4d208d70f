"""A calendar reply held for staff, written as the fetch writes it (for the web tests)."""

from __future__ import annotations

import uuid

from roundtable.db import write_session
from roundtable.inbound.model import InboundKind, InboundMessage, InboundState


def held_reply(event_id: int, invitation_id: int, slug: str, partstat: str = "DECLINED") -> int:
    """A held REPLY from an unverified sender about ``invitation_id``; its row id."""
    with write_session() as session:
        row = InboundMessage(
            key=f"<{uuid.uuid4().hex}@{slug}.test>",
            mailbox="INBOX",
            uidvalidity=1,
            uid=int(uuid.uuid4().int % 1_000_000_000),
            kind=InboundKind.CALENDAR_REPLY,
            state=InboundState.HELD,
            event_id=event_id,
            invitation_id=invitation_id,
            sender="someone@attacker.test",
            subject="Declined: the roundtable",
            summary=f"{partstat.lower()} in a calendar program",
            details={"partstat": partstat, "method": "REPLY", "sequence": 0},
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id
