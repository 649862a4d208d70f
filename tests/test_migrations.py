"""``roundtable db upgrade`` builds the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import Session

from roundtable import db
from roundtable.config import get_settings
from roundtable.invitations.model import ReplyLog
from roundtable.migrate import upgrade
from roundtable.models import metadata
from roundtable.people.model import Organization
from tests.factories import make_contact, make_event


def _upgrade_twice_and_compare(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTABLE_DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engines()
    upgrade()
    upgrade()  # safe to run repeatedly
    engine = db.get_engine()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), metadata
        )
    assert diff == [], f"the models and the migrations disagree: {diff}"


def test_upgrade_on_sqlite(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _upgrade_twice_and_compare(f"sqlite:///{tmp_path / 'fresh.db'}", env)


def test_upgrade_on_postgresql(env: pytest.MonkeyPatch, postgres_url: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = "roundtable_migrations_check"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = postgres_url.rsplit("/", 1)[0] + "/" + name
        _upgrade_twice_and_compare(url, env)
    finally:
        db.reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_db_upgrade_command_reports_the_revision(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from roundtable.cli import app

    env.setenv("ROUNDTABLE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    db.reset_engines()
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--json"])
    again = runner.invoke(app, ["db", "upgrade", "--json"])
    assert first.exit_code == again.exit_code == 0, first.output
    assert (
        json.loads(first.stdout)
        == json.loads(again.stdout)
        == {"revision": "0003_staff_life_cycle"}
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0002_copies_organizations_and_first_replies_onto_invitations(
    backend: str, env: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Invitations written before 0002 get their contact's organization and first reply."""
    if backend == "sqlite":
        url, admin, name = f"sqlite:///{tmp_path / 'old.db'}", None, ""
    else:
        postgres_url: str = request.getfixturevalue("postgres_url")
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        name = "roundtable_migration_0002_check"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = postgres_url.rsplit("/", 1)[0] + "/" + name
    env.setenv("ROUNDTABLE_DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engines()
    try:
        upgrade("0001")
        # The tables 0002 leaves alone are written through the models; the invitation
        # as it was before.
        with Session(db.get_engine()) as session:
            event = make_event()
            chile = Organization(name="Permanent Mission of Chile")
            session.add_all([event, chile])
            session.flush()
            session.add_all([make_contact(1, organization_id=chile.id), make_contact(2)])
            session.flush()
            event_id, chile_id = event.id, chile.id
            session.commit()
        with db.get_engine().begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO invitation (id, event_id, contact_id, role, status, token_hash,"
                    " guests, notes, created_at, updated_at) VALUES"
                    " (1, :e, 1, 'participant', 'accepted', 'h1', 0, '', :t, :t),"
                    " (2, :e, 2, 'participant', 'invited', 'h2', 0, '', :t, :t)"
                ),
                {"e": event_id, "t": "2026-01-01 00:00:00"},
            )
        with Session(db.get_engine()) as session:
            for at, status in (("2026-02-03 09:00", "tentative"), ("2026-02-01 08:00", "accepted")):
                session.add(
                    ReplyLog(
                        invitation_id=1,
                        at=datetime.fromisoformat(at + "+00:00"),
                        actor="invitee",
                        from_status="invited",
                        to_status=status,
                    )
                )
            session.commit()
        upgrade()
        with db.get_engine().connect() as conn:
            rows = conn.execute(
                text("SELECT id, organization_id, first_replied_at FROM invitation ORDER BY id")
            ).all()
        assert [(row[0], row[1]) for row in rows] == [(1, chile_id), (2, None)]
        assert str(rows[0][2]).startswith("2026-02-01 08:00:00")
        assert rows[1][2] is None
    finally:
        db.reset_engines()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
