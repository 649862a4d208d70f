"""Builders for the RSVP tests: an event, invitees with live tokens, and a database snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from roundtable.config import get_settings
from roundtable.db import get_engine, read_session, write_session
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.tokens import derive_token, hash_token, new_salt
from roundtable.mail.model import Message
from roundtable.models import metadata
from roundtable.types import utcnow
from tests.factories import invitee_details, make_contact, make_event


def add_event(slug: str = "roundtable", **overrides: Any) -> int:
    """An event in the database; returns its id."""
    with write_session() as session:
        event = make_event(slug, **overrides)
        session.add(event)
        session.flush()
        assert event.id is not None
        return event.id


def invite(event_id: int, n: int, **overrides: Any) -> tuple[int, str]:
    """A contact invited to the event with a live link; returns (invitation id, token).

    ``email`` goes to the contact; the other overrides are the invitation's details.
    """
    secret = get_settings().resolved_secret_key()
    with write_session() as session:
        contact = make_contact(
            n, **({"email": overrides.pop("email")} if "email" in overrides else {})
        )
        session.add(contact)
        session.flush()
        assert contact.id is not None
        invitation = Invitation(
            event_id=event_id, contact_id=contact.id, **invitee_details(n, **overrides)
        )
        session.add(invitation)
        session.flush()
        assert invitation.id is not None
        invitation.token_salt = new_salt()
        token = derive_token(secret, invitation.id, invitation.token_salt)
        invitation.token_hash = hash_token(token)
        invitation.status = Status.INVITED
        invitation.invited_at = utcnow()
        return invitation.id, token


def token_of(invitation_id: int) -> str:
    """The link token of an invitation, re-derived the way the workers do it."""
    with read_session() as session:
        invitation = session.get(Invitation, invitation_id)
        assert invitation is not None and invitation.token_salt is not None
    return derive_token(get_settings().resolved_secret_key(), invitation_id, invitation.token_salt)


def invitation(invitation_id: int) -> Invitation:
    with read_session() as session:
        found = session.get(Invitation, invitation_id)
        assert found is not None
        return found


def messages(kind: str | None = None) -> list[Message]:
    with read_session() as session:
        query = select(Message).order_by(col(Message.id))
        if kind is not None:
            query = query.where(Message.kind == kind)
        return list(session.exec(query).all())


def logs(invitation_id: int) -> list[ReplyLog]:
    with read_session() as session:
        return list(
            session.exec(
                select(ReplyLog)
                .where(ReplyLog.invitation_id == invitation_id)
                .order_by(col(ReplyLog.id))
            ).all()
        )


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: to prove that nothing changed."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with get_engine().connect() as connection:
        for table in metadata.sorted_tables:
            query = sa_select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(query)]
    return rows
