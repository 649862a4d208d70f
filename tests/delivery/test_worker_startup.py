"""What a worker does before it forks its children, so that each child starts ready."""

from __future__ import annotations

import gc
import socket
import threading
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


def test_a_child_connects_as_it_starts_in_the_background(engine: Engine) -> None:
    """The child opens its connections while idle, not in the middle of its first mailing."""
    opened: list[object] = []

    def count(*connection: object) -> None:
        opened.append(connection)

    db.reset_engines()
    event.listen(Pool, "connect", count)
    try:
        db.connect_early().join(timeout=30)
        assert len(opened) == (2 if engine.dialect.name == "postgresql" else 1)
    finally:
        event.remove(Pool, "connect", count)
        db.reset_engines()


def test_a_database_that_does_not_answer_does_not_hold_a_child_s_start(
    env: pytest.MonkeyPatch,
) -> None:
    """Celery kills a child that has not said it is ready within seconds: the start must
    not wait on a database that accepts the connection and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever replies
        port = silent.getsockname()[1]
        env.setenv("ROUNDTABLE_DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
        get_settings.cache_clear()
        db.reset_engines()
        starting = threading.Thread(target=_fresh_connections_after_fork)
        starting.start()
        starting.join(timeout=20)
        assert not starting.is_alive(), "the child's start waited for the database"
        connecting = [t for t in threading.enumerate() if t.name == "connect-early"]
        assert connecting, "still connecting, in the background"
    # The socket is closed: the connecting thread hears so and ends, quietly.
    for thread in connecting:
        thread.join(timeout=30)
        assert not thread.is_alive()
    db.reset_engines()
