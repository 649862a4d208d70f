"""PostgreSQL connections the server ended are replaced before a request uses them.

The web's pool does not ping every connection it hands out (a round trip for every
page and reply): it pings only one whose socket has something to read, which an idle
connection never has, and a connection the server closed always has
(``db._ping_if_the_server_spoke``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, literal, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from roundtable import db

NAME = "rt-connection-test"


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """The web's kind of engine, its connections named so that a test can end them."""
    url = make_url(postgres_url).update_query_dict({"application_name": NAME})
    engine = db.build_engine(url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each ping the pool makes, counted (the dialect's real ping runs)."""
    counted: list[int] = []
    ping = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        counted.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return counted


def _backends(admin: Engine) -> list[int]:
    with admin.connect() as connection:
        rows = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": NAME},
        )
        return [row[0] for row in rows]


def _end_every_connection(admin: Engine) -> None:
    """What a restarted server does to its clients: each backend ends, its socket closes."""
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"
            ),
            {"n": NAME},
        )
    deadline = time.monotonic() + 10
    while _backends(admin) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _backends(admin)


def _three_connections_in_the_pool(engine: Engine) -> None:
    held = [engine.connect() for _ in range(3)]
    for connection in held:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    for connection in held:
        connection.close()


def test_an_idle_connection_is_used_without_a_ping(engine: Engine, pings: list[int]) -> None:
    _three_connections_in_the_pool(engine)
    for _ in range(20):
        with Session(engine) as session:
            assert session.connection().execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []


def test_connections_the_server_ended_are_replaced_before_use(
    engine: Engine, postgres_url: str, pings: list[int]
) -> None:
    _three_connections_in_the_pool(engine)
    admin = db.build_engine(postgres_url)
    try:
        ended = set(_backends(admin))
        assert len(ended) == 3
        _end_every_connection(admin)
        # Every request after the restart succeeds, on a new connection.
        held = [engine.connect() for _ in range(3)]
        for connection in held:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert pid not in ended
        for connection in held:
            connection.close()
        assert len(pings) == 3
    finally:
        admin.dispose()


def test_a_connection_numbered_past_1024_is_checked_too(
    engine: Engine, postgres_url: str, pings: list[int]
) -> None:
    """A busy server holds many sockets: the check must not stop at select's 1024."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2048
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"this machine allows only {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    pipes = [os.pipe() for _ in range(600)]  # 1,200 descriptors taken first
    try:
        _three_connections_in_the_pool(engine)
        admin = db.build_engine(postgres_url)
        try:
            _end_every_connection(admin)
            with engine.connect() as connection:
                assert connection.connection.dbapi_connection.fileno() > 1024  # type: ignore[union-attr]
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
            assert len(pings) == 1
        finally:
            admin.dispose()
    finally:
        for read, write in pipes:
            os.close(read)
            os.close(write)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_driver_statement_on_a_connection_the_server_ended_fails_as_sqlalchemy_would(
    engine: Engine, postgres_url: str
) -> None:
    """The claim-ending writes run on the driver's cursor (``db.DriverStatement``): a lost
    connection must still come out as SQLAlchemy's ``OperationalError``, the connection
    invalidated, which is what the bookkeeping's retry recognises as an outage."""
    statement = db.DriverStatement(select(literal(1).label("one")))
    with engine.connect() as connection:
        assert statement.rows(connection, {}) == [(1,)]
        admin = db.build_engine(postgres_url)
        try:
            _end_every_connection(admin)
        finally:
            admin.dispose()
        with pytest.raises(OperationalError) as raised:
            statement.rows(connection, {})
        assert raised.value.connection_invalidated
        assert connection.invalidated


def test_a_connection_lost_under_a_driver_statement_renews_the_whole_pool(
    postgres_url: str,
) -> None:
    """The bookkeeping's pool does not ping (a round trip per message): after a restart,
    the first statement's failure must retire every connection the pool held, as it
    does through ``Connection.execute``, or each would fail in turn."""
    url = make_url(postgres_url).update_query_dict({"application_name": NAME})
    engine = create_engine(url, pool_size=3)
    statement = db.DriverStatement(select(literal(1).label("one")))
    try:
        _three_connections_in_the_pool(engine)
        admin = db.build_engine(postgres_url)
        try:
            _end_every_connection(admin)
        finally:
            admin.dispose()
        with engine.connect() as connection, pytest.raises(OperationalError):
            statement.rows(connection, {})
        held = [engine.connect() for _ in range(3)]
        for connection in held:
            assert statement.rows(connection, {}) == [(1,)]
        for connection in held:
            connection.close()
    finally:
        engine.dispose()
