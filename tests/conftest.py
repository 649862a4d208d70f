"""Shared fixtures: real databases (SQLite and a throwaway PostgreSQL), settings, time."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from alembic import command
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from roundtable import db
from roundtable.config import get_settings
from roundtable.installation.service import record_key
from roundtable.migrate import alembic_config
from roundtable.models import metadata
from tests.mail.smtp_server import SmtpSink

# No deadline on generated examples: a deadline is a timed assertion, and on two busy cores
# an example that loads a catalog or compiles a template for the first time took longer than
# Hypothesis's default 200 ms and failed a test that had nothing wrong with it.
settings.register_profile("roundtable", deadline=None)
settings.load_profile("roundtable")

PG_ADMIN_URL = os.environ.get(
    "ROUNDTABLE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ROUNDTABLE_TEST_REDIS", "redis://127.0.0.1:6379")

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, dropped at the end."""
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"roundtable_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); start it: {START_POSTGRES}"
        )
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        db.reset_engines()
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def create_schema(engine: Engine) -> None:
    """The models' tables, marked as the newest revision (commands refuse an unmarked schema).

    Faster than running every migration; tests/test_migrations.py checks both agree.
    """
    metadata.create_all(engine)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")
        connection.commit()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_url: str) -> Iterator[Engine]:
    engine = db.build_engine(postgres_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    """Empty every table; DELETE is much faster than TRUNCATE on tables this small."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        # The tallies last: emptying the invitations and messages appended their changes.
        for table in metadata.sorted_tables:
            if table.name.endswith("_tally") or "_tally_" in table.name:
                conn.execute(table.delete())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'roundtable.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that asks for it runs twice: on SQLite and on PostgreSQL, both with the schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'roundtable.db'}"
        engine = db.build_engine(url)
        create_schema(engine)
        engine.dispose()
        yield url
    else:
        engine = request.getfixturevalue("_postgres_schema")
        _truncate(engine)
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Settings isolated in ``tmp_path``: its own secret, outbox and working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROUNDTABLE_SECRET_KEY", "test-secret-key-" + "x" * 32)
    monkeypatch.setenv("ROUNDTABLE_MAIL_URL", f"file://{tmp_path / 'outbox'}")
    monkeypatch.setenv("ROUNDTABLE_BASE_URL", "https://rsvp.example.org")
    monkeypatch.delenv("ROUNDTABLE_BROKER_URL", raising=False)
    get_settings.cache_clear()
    db.reset_engines()
    yield monkeypatch
    db.reset_engines()
    get_settings.cache_clear()


@pytest.fixture
def engine(env: pytest.MonkeyPatch, database_url: str) -> Iterator[Engine]:
    """The configured engine on SQLite and on PostgreSQL in turn, settings pointing at it."""
    env.setenv("ROUNDTABLE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    db.reset_engines()
    record_key()  # as `roundtable db upgrade` does: the installation's row and key
    yield db.get_engine()


@pytest.fixture
def pg_engine(env: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Engine:
    """The run's PostgreSQL database, emptied, with the settings pointing at it."""
    engine: Engine = request.getfixturevalue("_postgres_schema")
    _truncate(engine)
    env.setenv("ROUNDTABLE_DATABASE_URL", request.getfixturevalue("postgres_url"))
    get_settings.cache_clear()
    db.reset_engines()
    record_key()  # as `roundtable db upgrade` does: the installation's row and key
    return db.get_engine()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database index of this run's own, emptied before and after."""
    index = 1 + os.getpid() % 14
    url = f"redis://127.0.0.1:6379/{index}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({exc}); start it: {START_REDIS}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def sqlite_engine(env: pytest.MonkeyPatch, sqlite_url: str) -> Engine:
    """SQLite only, for tests whose subject is not the data layer."""
    env.setenv("ROUNDTABLE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    db.reset_engines()
    engine = db.get_engine()
    create_schema(engine)
    record_key()  # as `roundtable db upgrade` does: the installation's row and key
    return engine
