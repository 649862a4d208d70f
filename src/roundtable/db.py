"""Engine and sessions: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, create_engine

from roundtable import models  # noqa: F401 - every table registered before any query
from roundtable.config import get_settings

#: Execution option that makes a SQLite transaction take the write lock at BEGIN.
#: Without it, two transactions that read and then write both hold a snapshot and
#: the second fails with SQLITE_BUSY_SNAPSHOT instead of waiting its turn.
WRITE = {"roundtable_write": True}


def build_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if not database or database == ":memory:":
        kwargs["poolclass"] = NullPool
    else:
        # As many connections as the web server's thread pool may want at once.
        kwargs.update(pool_size=20, max_overflow=20)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("roundtable_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    return build_engine(url)


def get_engine() -> Engine:
    """The engine of the configured database, created once per process and URL."""
    return _engine_for(get_settings().database_url)


def reset_engines() -> None:
    """Forget cached engines (tests switch databases; workers reset after fork)."""
    for engine in list(_engine_cache_values()):
        engine.dispose()
    _engine_for.cache_clear()


def _engine_cache_values() -> Iterator[Engine]:
    # lru_cache keeps no public view of its values; rebuild from the current URL if cached.
    info = _engine_for.cache_info()
    if info.currsize:
        yield _engine_for(get_settings().database_url)


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; nothing it changes is committed."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None, *, flush_to_disk: bool = True) -> Iterator[Session]:
    """One transaction that commits on success and rolls back on any error.

    ``flush_to_disk=False`` lets PostgreSQL acknowledge the commit before its WAL
    reaches the disk (``synchronous_commit off``): a crash of the database machine
    may then forget the last fraction of a second of such commits, but never
    corrupts anything. The outbox uses it for delivery bookkeeping, where that
    risk is a rare resend and the gain is a disk flush saved per message.
    """
    engine = engine or get_engine()
    with _sqlite_writer_turn(engine), Session(engine, expire_on_commit=False) as session:
        connection = session.connection(execution_options=WRITE)
        if not flush_to_disk and connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_sqlite_writers: dict[str, threading.RLock] = {}
_sqlite_writers_guard = threading.Lock()


@contextmanager
def _sqlite_writer_turn(engine: Engine) -> Iterator[None]:
    """On SQLite, this process's writers take turns on a lock of their own.

    SQLite admits one writer; the others wait in its busy handler, which sleeps and
    polls, so under load some wait for seconds while newcomers overtake them. A
    lock in the process makes them queue instead (other processes still meet the
    busy timeout). PostgreSQL needs none of this.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _sqlite_writers_guard:
        lock = _sqlite_writers.setdefault(str(engine.url), threading.RLock())
    with lock:
        yield


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
