"""Creating and upgrading the schema with Alembic (``roundtable db upgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from roundtable.config import get_settings
from roundtable.db import get_engine
from roundtable.paths import migrations_dir


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade(revision: str = "head") -> None:
    """Bring the configured database to ``revision``; a no-op when it is there already."""
    config = alembic_config()
    with get_engine().connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision() -> str | None:
    """The revision the configured database is at, ``None`` before the first upgrade."""
    with get_engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class SchemaNotReady(Exception):
    """The database is not at the schema this code expects; the message says what to do."""


def require_current_schema() -> None:
    """Raise :class:`SchemaNotReady` unless the database is at this code's newest revision.

    A database never upgraded (or a new, empty SQLite file) would otherwise fail
    with "no such table" somewhere inside a command; one newer than the code would
    be written to by code that does not know its columns.
    """
    where = _redacted(get_settings().database_url)
    try:
        current = current_revision()
    except OperationalError as error:
        raise SchemaNotReady(f"cannot open the database {where}: {error.orig}") from None
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return
    if current is None:
        raise SchemaNotReady(
            f"the database {where} has no schema yet: run `roundtable db upgrade` first"
        )
    known = {revision.revision for revision in script.walk_revisions()}
    if current not in known:
        raise SchemaNotReady(
            f"the database {where} is at revision {current}, newer than this version of "
            f"Roundtable knows (its newest is {head}): install the newer Roundtable"
        )
    raise SchemaNotReady(
        f"the database {where} is at revision {current}, older than this code's {head}: "
        "run `roundtable db upgrade` first"
    )


def _redacted(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
