"""Engine and sessions: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Integer, bindparam, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, create_engine

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
    engine = create_engine(parsed, pool_size=10, max_overflow=20)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        _ping_if_the_server_spoke(engine.dialect, dbapi_connection)

    return engine


def _ping_if_the_server_spoke(dialect: Any, dbapi_connection: Any) -> None:
    """Before a pooled PostgreSQL connection is used: ping it only if the server said something.

    An idle connection has nothing to read. A server that restarted, or ended the
    connection, closed it with a last word (its FATAL notice, then the end of the
    stream), so its socket is readable: then, and only then, the connection is pinged,
    and a dead one is replaced before the request uses it (the pool tries another).
    Pinging every connection on every use, as ``pool_pre_ping`` does, cost a round trip
    for every page and every reply (docs/architecture.md, "Databases and migrations").
    """
    # poll, not select: a busy server's descriptors may pass select's limit of 1024.
    socket = select.poll()
    socket.register(dbapi_connection.fileno(), select.POLLIN)
    if not socket.poll(0):  # nothing to read, no hang-up, no error: as it was left
        return
    try:
        # The dialect's own ping, as pool_pre_ping uses it: SELECT 1 outside any transaction.
        alive = dbapi_connection.closed is False and dialect.do_ping(dbapi_connection)
    except Exception as error:  # whatever the driver raises for a broken connection
        raise DisconnectionError(f"the database closed the connection: {error}") from error
    if not alive:
        raise DisconnectionError("the database closed the connection")


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


_engines: dict[tuple[str, bool], Engine] = {}
_engines_guard = threading.Lock()


def _engine_for(url: str, *, bookkeeping: bool = False) -> Engine:
    """The process's engine for ``url`` (or its bookkeeping pool), made on first use."""
    with _engines_guard:
        engine = _engines.get((url, bookkeeping))
        if engine is not None:
            return engine
        parsed = make_url(url)
        if bookkeeping and parsed.get_backend_name() != "sqlite":
            engine = _bookkeeping_engine(parsed)
        else:
            # SQLite keeps its one engine for bookkeeping too: its writers take turns anyway.
            engine = _engines.get((url, False)) or build_engine(url)
            _engines[(url, False)] = engine
        _engines[(url, bookkeeping)] = engine
        return engine


def get_engine() -> Engine:
    """The engine of the configured database, created once per process and URL."""
    return _engine_for(get_settings().database_url)


def reset_engines() -> None:
    """Forget cached engines (tests switch databases; workers reset after fork)."""
    with _engines_guard:
        engines = {id(engine): engine for engine in _engines.values()}
        _engines.clear()
    for engine in engines.values():
        engine.dispose()


def connect_early() -> threading.Thread:
    """Open a connection of each engine now, in the background, so that the first piece
    of work does not wait; returns the thread doing it.

    A worker child calls this as it starts, while it is idle: its first batch of a
    mailing otherwise opened two connections (and asked the server its version and
    settings on each) in the middle of the mailing. In a thread, because a database
    that does not answer would hold a child's start for minutes, and Celery kills a
    child that has not reported ready within seconds. A database that cannot be
    reached is no error here: the work itself connects, and retries, later. A
    bookkeeping connection opened now may be found dead at the first claim hours
    later (its pool does not ping); that claim says so and retries, as for any other.
    """
    url = get_settings().database_url

    def connect() -> None:
        for bookkeeping in (False, True):
            engine = _engine_for(url, bookkeeping=bookkeeping)
            with contextlib.suppress(SQLAlchemyError), engine.connect():
                pass

    thread = threading.Thread(target=connect, name="connect-early", daemon=True)
    thread.start()
    return thread


def _bookkeeping_engine(url: URL) -> Engine:
    """PostgreSQL connections in autocommit whose commits do not wait for the disk.

    Each bookkeeping statement is a transaction of its own (see :func:`bookkeeping`),
    so autocommit spares the ``BEGIN`` and ``COMMIT`` round trips around it.

    No ping before each use, a round trip per message: the bookkeeping retries a
    statement that meets a dead connection, and that failure renews the whole pool.
    """
    return create_engine(
        url,
        pool_pre_ping=False,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": "-c synchronous_commit=off"},
        isolation_level="AUTOCOMMIT",
    )


@contextmanager
def bookkeeping() -> Iterator[Connection]:
    """One statement of the outbox's bookkeeping (claims, leases, outcomes), its own transaction.

    On PostgreSQL its commit is acknowledged before the WAL reaches the disk
    (``synchronous_commit off``, set once per connection): a crash of the database
    machine may forget the last fraction of a second of such commits, which costs
    a rare resend, never corruption; it saves a disk flush and a round trip per
    message. The statements are SQLAlchemy Core: these run for every message sent.
    """
    engine = _engine_for(get_settings().database_url, bookkeeping=True)
    held: dict[Engine, Connection] | None = getattr(_held, "connections", None)
    kept = held.get(engine) if held is not None else None
    if held is None or (kept is not None and kept.in_transaction()):
        # Not holding, or a statement inside another one's: a connection of its own.
        with _sqlite_writer_turn(engine), engine.connect() as connection:
            connection.execution_options(**WRITE)
            with connection.begin():
                yield connection
        return
    if kept is None:
        kept = held[engine] = engine.connect().execution_options(**WRITE)
    try:
        with _sqlite_writer_turn(engine), kept.begin():
            yield kept
    except BaseException:
        # A connection that failed (the database restarted, say) is not offered again:
        # the next statement, or its retry, takes a fresh one from the pool.
        held.pop(engine, None)
        with contextlib.suppress(SQLAlchemyError):
            kept.close()
        raise


#: the connections held by :func:`holding_bookkeeping_connection`, per thread
_held = threading.local()


@contextmanager
def holding_bookkeeping_connection() -> Iterator[None]:
    """Let the bookkeeping statements inside share one connection (a worker's batch).

    Each statement is still its own transaction. Taking a connection from the pool
    and giving it back around every statement cost a third of recording a send,
    which happens once per message.
    """
    if getattr(_held, "connections", None) is not None:
        yield  # already holding: the outer block closes them
        return
    held: dict[Engine, Connection] = {}
    _held.connections = held
    try:
        yield
    finally:
        _held.connections = None
        for connection in held.values():
            with contextlib.suppress(SQLAlchemyError):
                connection.close()


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; nothing it changes is committed."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction that commits on success and rolls back on any error."""
    engine = engine or get_engine()
    with _sqlite_writer_turn(engine), Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options=WRITE)
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


def is_postgresql(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite: see the module's docstring)."""
    return session.get_bind().dialect.name == "postgresql"


def is_postgresql_connection(connection: Connection) -> bool:
    """Whether the connection's database is PostgreSQL (else SQLite)."""
    return connection.dialect.name == "postgresql"


def id_list(ids: list[int]) -> Any:
    """``ids`` as a PostgreSQL table of one column, ``id``: ``unnest(%(ids)s::INTEGER[])``.

    Joining rows to it finds them by their primary key, one array parameter whatever
    the count. ``id = ANY(%(ids)s)`` and ``IN (…)`` of a parameter array read the same,
    but a planner that does not know the table yet (rows imported a moment ago) may
    filter every row of the event against the whole list, once per chunk: a mailing
    to 20,000 took 22 s to queue so.
    """
    return (
        func.unnest(bindparam(None, ids, type_=ARRAY(Integer))).table_valued("id").render_derived()
    )


class DriverStatement:
    """A Core statement compiled once per dialect and run on the driver's own cursor.

    For the few statements that run once for every message sent (the writes that
    end a claim): through SQLAlchemy's way to a statement (its cache key, an execution
    context, a result wrapper) recording a send cost the worker 254–264 µs of processor
    time, on the driver's cursor 142–148 (bench/README.md). The SQL and the parameters
    are the ones ``Connection.execute`` would send; a driver error comes out as
    SQLAlchemy's (``OperationalError`` and the rest), and a lost connection invalidates
    the pool's older connections and itself first, as ``Connection.execute`` does, so
    callers that ride out an outage (``roundtable.delivery.claims``) see the same
    errors and the same fresh connections either way. Its rows
    are the driver's, without SQLAlchemy's result processing (no aware datetimes from
    SQLite, say): it is for statements that return ids and counts.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[Any, _DriverForm] = {}

    def rows(self, connection: Connection, parameters: dict[str, Any]) -> list[Any]:
        """The statement's rows (``RETURNING``) for these parameters, on ``connection``."""
        dialect = connection.dialect
        form = self._forms.get(dialect)
        if form is None:
            form = self._forms[dialect] = _DriverForm.of(self.statement, connection)
        values = form.values(parameters)
        pooled = connection.connection
        dbapi_connection = pooled.dbapi_connection
        assert dbapi_connection is not None
        cursor = None
        try:
            cursor = dbapi_connection.cursor()  # a closed connection refuses even this
            cursor.execute(form.sql, values)
            return list(cursor.fetchall())
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, dbapi_connection, cursor)
            if lost:
                # What Connection.execute does on a disconnect: the connections the pool
                # opened before this one are suspect too (a restarted server ended them all).
                connection.engine.pool._invalidate(pooled, error)
                connection.invalidate(error)
            raise DBAPIError.instance(
                form.sql,
                values,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            if cursor is not None:
                with contextlib.suppress(Exception):
                    cursor.close()


class _DriverForm:
    """A statement's SQL for one dialect, and how its parameters reach the driver."""

    def __init__(self, compiled: SQLCompiler, dialect: Any) -> None:
        self.sql = compiled.string
        self._compiled = compiled
        self._processors = {
            name: processor
            for bind, name in compiled.bind_names.items()
            # the dialect's own form of the type: SQLite's writes datetimes as text
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        #: the parameters' order, for a driver that takes them by position (SQLite's)
        self._positions = compiled.positiontup

    @classmethod
    def of(cls, statement: Executable, connection: Connection) -> _DriverForm:
        compiled = statement.compile(dialect=connection.dialect)  # type: ignore[attr-defined]
        return cls(cast(SQLCompiler, compiled), connection.dialect)

    def values(self, parameters: dict[str, Any]) -> Any:
        values = cast(dict[str, Any], self._compiled.construct_params(parameters))
        for name, processor in self._processors.items():
            values[name] = processor(values[name])
        if self._positions:
            return tuple(values[name] for name in self._positions)
        return values
