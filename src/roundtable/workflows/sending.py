"""Turning imported invitees into invitations: a token and an outbox row each, in one go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from roundtable.config import get_settings
from roundtable.db import is_postgresql, write_session
from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.events.service import get_live_event
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import derive_token, hash_token, new_salt
from roundtable.mail import doorbell
from roundtable.mail.kinds import InvitationContext
from roundtable.mail.model import MessageKind
from roundtable.mail.outbox import queue_for_invitations
from roundtable.schedule.service import schedule_for

Progress = Callable[[int, int], None]

#: invitations per step: each step's statements read the event's invitations once, so
#: fewer, larger steps queue a large list faster; the progress shown moves per step
CHUNK = 2000


def send_invitations(slug: str, *, now: datetime, progress: Progress | None = None) -> int:
    """Invite everyone on the event's list who has no invitation yet; return how many.

    All or nothing: the tokens, the status changes and the outbox rows commit in
    one transaction, and the workers hear of the rows only after the commit.
    Running it again queues nothing new. The event's reminders and nudge are
    scheduled for these invitations in the same transaction.
    """
    doorbell.prepare()
    with write_session() as session:
        return send_invitations_in(
            session, get_live_event(session, slug), now=now, progress=progress
        )


def send_invitations_in(
    session: Session, event: Event, *, now: datetime, progress: Progress | None = None
) -> int:
    """:func:`send_invitations` inside the caller's transaction, for an event it has checked."""
    if event.is_cancelled:
        raise InputError([Problem(f"event {event.slug!r} was cancelled", field="slug")])
    secret = get_settings().resolved_secret_key()
    assert event.id is not None
    pending = session.exec(
        select(Invitation.id)
        .where(Invitation.event_id == event.id, Invitation.status == Status.NOT_INVITED)
        .order_by(col(Invitation.id))
    ).all()
    ids = [int(i) for i in pending if i is not None]
    total = len(ids)
    if progress:
        progress(0, total)
    for start in range(0, total, CHUNK):
        chunk = ids[start : start + CHUNK]
        salts = [new_salt() for _ in chunk]
        hashes = [
            hash_token(derive_token(secret, invitation_id, salt))
            for invitation_id, salt in zip(chunk, salts, strict=True)
        ]
        _invite(session, chunk, salts, hashes, now)
        queue_for_invitations(
            session,
            chunk,
            event_id=event.id,
            kind=MessageKind.INVITATION,
            mailing="invitation",
            due_at=now,
            context=InvitationContext(event.sequence).to_json(),
        )
        schedule_for(session, event, chunk, now)
        if progress:
            progress(min(start + CHUNK, total), total)
    return total


def _invite(
    session: Session, ids: list[int], salts: list[str], hashes: list[str], now: datetime
) -> None:
    """Give these invitations their tokens and mark them invited.

    On PostgreSQL one ``UPDATE … FROM unnest(…)`` per step: three arrays as
    parameters, rather than an executemany of a statement per invitation.
    """
    if is_postgresql(session):
        session.execute(
            _INVITE_FROM_ARRAYS,
            {"ids": ids, "salts": salts, "hashes": hashes, "status": Status.INVITED, "now": now},
        )
        return
    session.execute(
        update(Invitation),
        [
            {
                "id": invitation_id,
                "token_salt": salt,
                "token_hash": token_hash,
                "status": Status.INVITED,
                "invited_at": now,
                "updated_at": now,
            }
            for invitation_id, salt, token_hash in zip(ids, salts, hashes, strict=True)
        ],
    )


_INVITATIONS = cast(Table, Invitation.__table__)  # type: ignore[attr-defined]
_FRESH = (
    func.unnest(
        bindparam("ids", type_=ARRAY(Integer)),
        bindparam("salts", type_=ARRAY(String)),
        bindparam("hashes", type_=ARRAY(String)),
    )
    .table_valued("id", "salt", "hash")
    .render_derived()
)
_INVITE_FROM_ARRAYS = (
    update(_INVITATIONS)
    .where(_INVITATIONS.c.id == _FRESH.c.id)
    .values(
        token_salt=_FRESH.c.salt,
        token_hash=_FRESH.c.hash,
        status=bindparam("status"),
        invited_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)
