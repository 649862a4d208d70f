"""``roundtable db upgrade`` builds the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from roundtable import db
from roundtable.config import get_settings
from roundtable.migrate import upgrade
from roundtable.models import metadata


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
    assert json.loads(first.stdout) == json.loads(again.stdout) == {"revision": "0001"}
