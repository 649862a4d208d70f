"""The data layer's invariants hold in the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from roundtable.db import DriverStatement, read_session, write_session
from roundtable.models import Contact, Event, Invitation

START = datetime(2026, 9, 24, 17, 15, tzinfo=UTC)


def _event(slug: str = "e") -> Event:
    return Event(
        slug=slug,
        uid=f"{slug}@example.org",
        title="T",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        timezone="America/New_York",
        organizer_name="O",
        organizer_email="o@example.org",
    )


def test_instants_come_back_aware_utc(engine: Engine) -> None:
    with write_session() as session:
        session.add(_event())
    with read_session() as session:
        event = session.exec(select(Event)).one()
    assert event.starts_at == START
    assert event.starts_at.tzinfo is not None


def test_naive_instant_is_refused(engine: Engine) -> None:
    event = _event()
    event.starts_at = datetime(2026, 9, 24, 13, 15)
    with pytest.raises(Exception, match="naive"), write_session() as session:
        session.add(event)


def test_end_before_start_is_refused_by_the_database(engine: Engine) -> None:
    event = _event()
    event.ends_at = START - timedelta(minutes=1)
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(event)


def test_contact_email_is_unique_and_lower_case(engine: Engine) -> None:
    with write_session() as session:
        session.add(Contact(email="a@example.org"))
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Contact(email="a@example.org"))
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Contact(email="B@example.org"))


def test_one_invitation_per_event_and_contact(engine: Engine) -> None:
    with write_session() as session:
        event, contact = _event(), Contact(email="a@example.org")
        session.add(event)
        session.add(contact)
        session.flush()
        session.add(Invitation(event_id=event.id, contact_id=contact.id))
        ids = (event.id, contact.id)
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Invitation(event_id=ids[0], contact_id=ids[1]))


def test_invited_status_needs_a_token(engine: Engine) -> None:
    with write_session() as session:
        event, contact = _event(), Contact(email="a@example.org")
        session.add(event)
        session.add(contact)
        session.flush()
        ids = (event.id, contact.id)
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Invitation(event_id=ids[0], contact_id=ids[1], status="invited"))


def test_a_driver_statement_sends_what_execute_sends(engine: Engine) -> None:
    """``DriverStatement`` bypasses SQLAlchemy's execution, not its types: the values it
    writes are stored exactly as ``Connection.execute`` stores them (on SQLite an
    instant is text in SQLAlchemy's format, which the outbox's comparisons rely on)."""
    with write_session() as session:
        first, second = _event("first"), _event("second")
        session.add_all([first, second])
    instant = datetime(2026, 9, 21, 14, 0, tzinfo=UTC)  # no microseconds: the telling case
    events = Event.__table__  # type: ignore[attr-defined]
    statement = (
        update(events)
        .where(events.c.slug == bindparam("which"))
        .values(updated_at=bindparam("at", type_=events.c.updated_at.type))
        .returning(events.c.id)
    )
    with engine.begin() as connection:
        assert len(connection.execute(statement, {"which": "first", "at": instant}).all()) == 1
        assert (
            len(DriverStatement(statement).rows(connection, {"which": "second", "at": instant}))
            == 1
        )
        stored = connection.exec_driver_sql(
            "SELECT updated_at FROM event WHERE slug IN ('first', 'second') ORDER BY slug"
        ).all()
    assert stored[0] == stored[1]
