"""What a worker does before it forks its children, so that each child starts ready."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from roundtable import db
from roundtable.config import get_settings
from roundtable.mail import render
from workers.tasks import _fresh_connections_after_fork, _warm_up_before_fork


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_the_parent_compiles_templates_loads_the_driver_and_freezes_its_objects(
    engine: Engine, unfrozen: None
) -> None:
    render.environment.cache_clear()
    db.reset_engines()
    _warm_up_before_fork()
    environment = render.environment()
    assert environment.cache is not None
    compiled = {template.name for template in environment.cache.values()}
    assert "invitation/body.html.j2" in compiled and "_layout.txt.j2" in compiled
    assert db._engines, "the engine (and its driver) exists before the fork"
    with db.get_engine().connect():
        pass
    assert gc.get_freeze_count() > 0, "the parent's objects are left out of collections"


def test_a_child_connects_as_it_starts_and_a_database_down_does_not_stop_it(
    engine: Engine, env: pytest.MonkeyPatch
) -> None:
    """The child opens its connections while idle, not in the middle of its first mailing;
    a database it cannot reach yet is left for the work itself to retry."""
    opened: list[object] = []

    def count(*connection: object) -> None:
        opened.append(connection)

    db.reset_engines()
    event.listen(Pool, "connect", count)
    try:
        _fresh_connections_after_fork()
        assert len(opened) == (2 if engine.dialect.name == "postgresql" else 1)
        env.setenv("ROUNDTABLE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
        get_settings.cache_clear()
        _fresh_connections_after_fork()  # no exception
    finally:
        event.remove(Pool, "connect", count)
        db.reset_engines()
