"""What a worker does before it forks its children, so that each child starts ready."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from roundtable import db
from roundtable.mail import render
from workers.tasks import _warm_up_before_fork


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
