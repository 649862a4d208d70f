"""One mailing to every invitation of an event that is in given states."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.mail.outbox import queue_for_invitations


def queue_mailing(
    session: Session,
    event: Event,
    *,
    statuses: Collection[str],
    kind: str,
    mailing: str,
    due_at: datetime,
    context: dict[str, Any] | None = None,
) -> list[int]:
    """Queue ``mailing`` for each invitation of ``event`` whose status is in ``statuses``.

    Idempotent like every queueing: an invitation that has the mailing already
    gets no second row. Returns the ids of the rows written.
    """
    assert event.id is not None
    recipients = session.exec(
        select(Invitation.id).where(
            Invitation.event_id == event.id, col(Invitation.status).in_(list(statuses))
        )
    ).all()
    return queue_for_invitations(
        session,
        [int(invitation_id) for invitation_id in recipients if invitation_id is not None],
        event_id=event.id,
        kind=kind,
        mailing=mailing,
        due_at=due_at,
        context=context,
    )
