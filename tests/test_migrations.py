"""``roundtable db upgrade`` builds the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from roundtable import db
from roundtable.config import get_settings
from roundtable.events.model import Event
from roundtable.invitations.model import ReplyLog
from roundtable.migrate import alembic_config, upgrade
from roundtable.models import metadata
from roundtable.people.model import Organization
from tests.factories import make_event

#: the newest revision: the one the migrations directory ends with
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

#: a contact as 0001 stored it, with the details that were global then
_OLD_CONTACT = (
    "INSERT INTO contact (id, email, honorific, first_name, last_name, full_name, position,"
    " organization_id, language, timezone, created_at, updated_at) VALUES"
    " (:id, :email, :honorific, :first, :last, :full, :position, :organization, :language,"
    " :zone, :t, :t)"
)


def _old_contact(n: int, organization_id: int | None = None, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": n,
        "email": f"guest{n}@example.org",
        "honorific": "Dr.",
        "first": "Guest",
        "last": f"Number {n}",
        "full": f"Guest Number {n}",
        "position": "",
        "organization": organization_id,
        "language": "en",
        "zone": None,
        "t": "2026-01-01 00:00:00",
    }
    row.update(values)
    return row


def _old_event(event: Event) -> int:
    """``event`` written with the columns its table has at the revision the database is at."""
    engine = db.get_engine()
    columns = {column["name"] for column in inspect(engine).get_columns("event")}
    values = {
        name: value
        for name, value in event.model_dump().items()
        if name in columns and name != "id"
    }
    model = Event.__table__.columns  # type: ignore[attr-defined]
    table = Table("event", MetaData(), *(model[name]._copy() for name in ("id", *values)))
    with engine.begin() as conn:
        return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])


def _database(backend: str, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A throwaway database's URL, and the admin engine that drops it (``None`` for SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}", None
    postgres_url: str = request.getfixturevalue("postgres_url")
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return postgres_url.rsplit("/", 1)[0] + "/" + name, admin


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
    assert json.loads(first.stdout) == json.loads(again.stdout) == {"revision": HEAD}


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
        event_id = _old_event(make_event())
        with Session(db.get_engine()) as session:
            chile = Organization(name="Permanent Mission of Chile")
            session.add(chile)
            session.flush()
            chile_id = chile.id
            session.commit()
        with db.get_engine().begin() as conn:
            conn.execute(text(_OLD_CONTACT), [_old_contact(1, chile_id), _old_contact(2)])
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0004_gives_each_invitation_its_contacts_details(
    backend: str, env: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Invitations written before 0004 show the same names, language and zone after it."""
    name = "roundtable_migration_0004_check"
    url, admin = _database(backend, name, tmp_path, request)
    env.setenv("ROUNDTABLE_DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engines()
    try:
        upgrade("0002")
        # Events are as 0004 leaves them: the model's columns that the table has then.
        for event in (make_event("e1"), make_event("e2")):
            _old_event(event)
        with db.get_engine().begin() as conn:
            conn.execute(text("INSERT INTO organization (id, name) VALUES (1, 'UNAoC')"))
            conn.execute(
                text(_OLD_CONTACT),
                [
                    _old_contact(
                        1,
                        1,
                        honorific="H.E. Ms.",
                        first="Amina",
                        last="Diallo",
                        full="Amina Diallo",
                        position="Ambassador",
                        language="fr",
                        zone="Africa/Dakar",
                    ),
                    _old_contact(2, full="Li Wei", first="", last="", honorific=""),
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO invitation (id, event_id, contact_id, organization_id, role,"
                    " status, guests, notes, created_at, updated_at) VALUES"
                    " (1, 1, 1, 1, 'participant', 'not_invited', 0, '', :t, :t),"
                    " (2, 2, 1, 1, 'speaker', 'not_invited', 0, '', :t, :t),"
                    " (3, 2, 2, NULL, 'participant', 'not_invited', 0, '', :t, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
        upgrade()
        engine = db.get_engine()
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, honorific, first_name, last_name, full_name, position,"
                    " organization_id, language, timezone FROM invitation ORDER BY id"
                )
            ).all()
            contact_columns = {column["name"] for column in inspect(conn).get_columns("contact")}
            indexes = {index["name"] for index in inspect(conn).get_indexes("invitation")}
        amina = (
            "H.E. Ms.",
            "Amina",
            "Diallo",
            "Amina Diallo",
            "Ambassador",
            1,
            "fr",
            "Africa/Dakar",
        )
        assert [tuple(row) for row in rows] == [
            (1, *amina),
            (2, *amina),
            (3, "", "", "", "Li Wei", "", None, "en", None),
        ]
        assert contact_columns == {
            "id",
            "email",
            "unsubscribed_at",
            "bounced_at",
            "bounce_reason",
            "created_at",
            "updated_at",
        }
        assert "invitation_name_order" in indexes
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE invitation SET language = 'xx' WHERE id = 1"))
    finally:
        db.reset_engines()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_upgrade_gives_the_database_its_own_message_id_part(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    parts = []
    for name in ("one", "two"):
        env.setenv("ROUNDTABLE_DATABASE_URL", f"sqlite:///{tmp_path / (name + '.db')}")
        get_settings.cache_clear()
        db.reset_engines()
        upgrade()
        upgrade()
        with db.get_engine().connect() as conn:
            rows = conn.execute(text("SELECT id, message_id_part FROM installation")).all()
        assert len(rows) == 1 and rows[0][0] == 1
        parts.append(rows[0][1])
    assert all(len(part) == 12 for part in parts) and parts[0] != parts[1]
