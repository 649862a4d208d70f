"""RSVP pages under load: the page and first replies, beside a bare endpoint.

The application runs under uvicorn in a process of its own (as ``roundtable serve``
runs it, with a Redis broker so that confirmations are only queued), on SQLite and
on PostgreSQL. Measured: ``GET /rsvp/{token}`` and first replies (``POST``), each at
32 concurrent connections, then first replies arriving at a fixed rate (100 a second
for 20 seconds) with their latency counted from when each was due. Every request
is a distinct invitee's, and each kind is measured after 200 of its own, not measured
(the replies' from 200 other invitees). The load comes from another process over
loopback; the baselines are a bare FastAPI endpoint under the same uvicorn and, for
replies, the page's own GET, both measured in the same run. Usage:

    python -m bench.rsvp [--requests 3000] [--concurrency 32] [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bench.common import (
    PYTHONPATH,
    ROOT,
    free_port,
    percentiles,
    settle_postgres,
    throwaway_postgres,
)

REDIS = os.environ.get("ROUNDTABLE_BENCH_REDIS", "redis://127.0.0.1:6379/15")

#: method, URL and form of one request
Request = tuple[str, str, dict[str, str] | None]

#: Requests of each kind sent, not measured, before each kind is measured: the first ones
#: a server answers pay for what it does once (compiling statements, each database
#: connection's first use of the tallies' triggers), 0.2-0.3 s once per process, which
#: would otherwise be the closed loop's slowest replies.
WARM_UP = 200


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ROUNDTABLE_DATABASE_URL": database_url,
        "ROUNDTABLE_BROKER_URL": REDIS,
        "ROUNDTABLE_SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "ROUNDTABLE_BASE_URL": "http://127.0.0.1",
        "PYTHONPATH": PYTHONPATH,
    }


def populate(env: dict[str, str], count: int) -> list[str]:
    """An event with ``count`` invited invitees; returns their RSVP tokens."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("ROUNDTABLE_")})
    from roundtable import db
    from roundtable.config import get_settings

    get_settings.cache_clear()
    db.reset_engines()
    from roundtable.db import write_session
    from roundtable.events.model import Event
    from roundtable.invitations.model import Invitation, Status
    from roundtable.invitations.tokens import derive_token, hash_token
    from roundtable.migrate import upgrade
    from roundtable.people.model import Contact
    from roundtable.types import utcnow

    upgrade()  # the real schema: workers refuse a database not migrated
    secret = get_settings().resolved_secret_key()
    start = (utcnow() + timedelta(days=60)).replace(microsecond=0)
    tokens = []
    with write_session() as session:
        event = Event(
            slug="bench",
            uid="bench@rt",
            title="The Inter-Ethnic City",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="America/New_York",
            capacity=count,
            venue="United Nations Headquarters",
            room="Conference Room 6",
            max_guests=1,
            organizer_name="IOM New York",
            organizer_email="events@iom.example.org",
            contact_name="Maria Rossi",
            contact_email="mrossi@iom.example.org",
        )
        session.add(event)
        contacts = [Contact(email=f"guest{n}@example.org") for n in range(count)]
        session.add_all(contacts)
        session.flush()
        assert event.id is not None
        invitations = [
            Invitation(
                event_id=event.id,
                contact_id=c.id,
                full_name=f"Guest {n}",
                last_name=f"G{n}",
                timezone="Europe/Zurich",
                status=Status.INVITED,
                token_salt=f"salt{n}",
                token_hash=f"placeholder{n}",
            )
            for n, c in enumerate(contacts)
            if c.id is not None
        ]
        session.add_all(invitations)
        session.flush()
        for invitation in invitations:
            assert invitation.id is not None and invitation.token_salt is not None
            token = derive_token(secret, invitation.id, invitation.token_salt)
            invitation.token_hash = hash_token(token)
            tokens.append(token)
    db.reset_engines()
    return tokens


def serve(app: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *(["--factory"] if app.endswith("create_app") else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(
                f"http://127.0.0.1:{port}/healthz"
                if "roundtable" in app
                else f"http://127.0.0.1:{port}/bare",
                timeout=1,
            )
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{app} did not start:\n{log.read_text()}")


#: Each connection comes from a loopback address of its own (127.0.x.y), as replies come
#: from many invitees' networks: the server's per-address reply limit (600 in ten
#: minutes, a building's worth) would otherwise refuse the benchmark itself.
def _source_addresses() -> Iterator[str]:
    for n in itertools.count(1):
        yield f"127.0.{n // 250 % 250}.{n % 250 + 2}"


_SOURCES = _source_addresses()


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port, local_addr=(next(_SOURCES), 0))


async def load(requests: Sequence[Request], concurrency: int) -> dict[str, Any]:
    """Closed loop: ``concurrency`` keep-alive connections, each sending its next request
    as soon as the previous one is answered; throughput and latencies.

    A minimal HTTP/1.1 client on asyncio streams: a general-purpose client spends
    more CPU per request than the server under test, and would measure itself.
    """
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    pending = list(reversed(requests))
    first = urlsplit(requests[0][1])
    host, port = first.hostname or "127.0.0.1", first.port or 80

    async def connection() -> None:
        reader, writer = await _connect(host, port)
        try:
            while pending:
                method, url, form = pending.pop()
                start = time.perf_counter()
                writer.write(_request_bytes(method, url, form))
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                if status >= 400:
                    failures[status] += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return _figures(latencies, failures, elapsed)


async def open_loop(requests: Sequence[Request], rate: float) -> dict[str, Any]:
    """Open loop: request *i* is due at ``i / rate`` seconds, whether or not earlier ones
    were answered, and its latency counts from when it was due, not from when it was
    sent, so a stalled server is charged for every request it kept waiting (no
    coordinated omission). Each reply is a new visitor's: a connection of its own, from
    an address of its own, opened when the reply is due and closed once it is answered.
    """
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    first = urlsplit(requests[0][1])
    host, port = first.hostname or "127.0.0.1", first.port or 80

    async def send(request: Request, due: float) -> None:
        reader, writer = await _connect(host, port)
        try:
            writer.write(_request_bytes(*request))
            status = await _read_response(reader)
        finally:
            writer.close()
        latencies.append(time.perf_counter() - due)
        if status >= 400:
            failures[status] += 1

    began = time.perf_counter()
    tasks = []
    for i, request in enumerate(requests):
        due = began + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(send(request, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    figures = _figures(latencies, failures, elapsed)
    figures.update(rate=rate)
    return figures


def _figures(latencies: list[float], failures: Counter[int], elapsed: float) -> dict[str, Any]:
    figures = percentiles(latencies)
    return {
        "requests": len(latencies),
        "failures": failures.total(),
        "failure_statuses": dict(sorted(failures.items())),
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(figures["p50"] * 1000, 1),
        "p99_ms": round(figures["p99"] * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def _request_bytes(method: str, url: str, form: dict[str, str] | None = None) -> bytes:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    body = urlencode(form).encode() if form else b""
    head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    if form:
        head += "Content-Type: application/x-www-form-urlencoded\r\n"
        head += f"Origin: {parts.scheme}://{parts.netloc}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def measure(database: str, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The page, first replies closed-loop, then first replies at a fixed arrival rate.

    Every POST is some invitee's first reply (a decline or an acceptance, in turn),
    so each one does the whole work of a reply: the update, the reply log, the
    confirmation's outbox row and the ring. Repeating a reply would measure the
    cheap "nothing changed" answer instead.
    """
    open_count = round(args.rate * args.seconds)
    env = environment(database_url)
    tokens = populate(env, WARM_UP + args.requests + open_count)
    # The replies' warm-up is other invitees' first replies: each invitee replies first once.
    warm_up_tokens, tokens = tokens[:WARM_UP], tokens[WARM_UP:]
    if database == "postgresql":
        settle_postgres()
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"roundtable-bench-rsvp-{os.getpid()}.log"
    server = serve("roundtable.web.app:create_app", env, port, log)
    base = f"http://127.0.0.1:{port}"

    def first_replies(chosen: Sequence[str]) -> list[Request]:
        return [
            (
                "POST",
                f"{base}/rsvp/{token}",
                {"response": ("decline", "accept")[i % 2], "guests": "0", "notes": "Wheelchair"},
            )
            for i, token in enumerate(chosen)
        ]

    try:
        gets: list[Request] = [("GET", f"{base}/rsvp/{token}", None) for token in tokens]
        asyncio.run(load(gets[:WARM_UP], args.concurrency))
        get_figures = asyncio.run(load(gets[: args.requests], args.concurrency))
        asyncio.run(load(first_replies(warm_up_tokens), args.concurrency))
        post_figures = asyncio.run(load(first_replies(tokens[: args.requests]), args.concurrency))
        open_figures = asyncio.run(open_loop(first_replies(tokens[args.requests :]), args.rate))
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {"database": database, "get": get_figures, "post": post_figures, "open": open_figures}


def baseline(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"roundtable-bench-bare-{os.getpid()}.log"
    server = serve("bench.bare:app", {**os.environ, "PYTHONPATH": PYTHONPATH}, port, log)
    try:
        url = f"http://127.0.0.1:{port}/bare"
        asyncio.run(load([("GET", url, None)] * WARM_UP, args.concurrency))
        return asyncio.run(load([("GET", url, None)] * args.requests, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=20)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="open loop: replies a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="open loop: for how long")
    args = parser.parse_args(argv)
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    bare = baseline(args)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        runs.append(measure("sqlite", f"sqlite:///{folder}/bench.db", args))
    with throwaway_postgres() as url:
        runs.append(measure("postgresql", url, args))
    results: dict[str, Any] = {"bare": bare, "runs": runs}
    redis.Redis.from_url(REDIS).flushdb()
    print(
        f"rsvp: bare endpoint {bare['per_s']}/s (p50 {bare['p50_ms']} ms, p99 "
        f"{bare['p99_ms']} ms) at {args.concurrency} connections"
    )
    for run in runs:
        get, post, opened = run["get"], run["post"], run["open"]
        failures = get["failures"] + post["failures"] + opened["failures"]
        statuses = Counter(get["failure_statuses"])
        statuses.update(post["failure_statuses"])
        statuses.update(opened["failure_statuses"])
        print(
            f"rsvp on {run['database']}: GET {get['per_s']}/s p50 {get['p50_ms']} ms p99 "
            f"{get['p99_ms']} ms ({get['per_s'] / bare['per_s']:.0%} of bare); first replies "
            f"{post['per_s']}/s p50 {post['p50_ms']} ms p99 {post['p99_ms']} ms "
            f"({post['per_s'] / get['per_s']:.2f} of GET); at {opened['rate']:g}/s for "
            f"{args.seconds:g} s: p50 {opened['p50_ms']} ms p99 {opened['p99_ms']} ms max "
            f"{opened['max_ms']} ms, a connection each; failures {failures}"
            + (f" (statuses {dict(sorted(statuses.items()))})" if failures else "")
        )
    return results


if __name__ == "__main__":
    main()
