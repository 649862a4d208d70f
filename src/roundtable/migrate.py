"""Creating and upgrading the schema with Alembic (``roundtable db upgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext

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
