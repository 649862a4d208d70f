"""Shared pieces of the benchmarks: a counting SMTP sink, throwaway databases, memory."""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

ROOT = Path(__file__).resolve().parents[1]
#: For the processes a benchmark starts (server, worker): this checkout's code, whatever
#: copy of the package the virtualenv was installed from.
PYTHONPATH = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
PG_ADMIN = os.environ.get(
    "ROUNDTABLE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class CountingHandler:
    """Accepts every message and counts it: the cheapest server we can measure against."""

    def __init__(self) -> None:
        self.count = 0
        self.recipients: list[str] = []
        #: ``time.monotonic()`` of the first and the latest message received
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.last_at = time.monotonic()
        if self.first_at is None:
            self.first_at = self.last_at
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[tuple[CountingHandler, int]]:
    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@contextmanager
def throwaway_postgres(prefix: str = "roundtable_bench") -> Iterator[str]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settle_postgres() -> None:
    """Write every changed page to disk now (``CHECKPOINT``), before a measurement starts.

    A benchmark that wrote a lot (the report's 325,000 messages, a fan-out's
    invitees) leaves PostgreSQL with dirty pages that a timed checkpoint would
    otherwise write out in the middle of the next measurement, on the same cores.
    It needs a superuser or the ``pg_checkpoint`` role; without either, the
    measurement goes ahead unsettled and says so.
    """
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    except DBAPIError as error:
        print(f"note: no CHECKPOINT before measuring ({error.orig}); figures may vary more")
    finally:
        admin.dispose()


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident size (VmHWM) among these processes, in MiB."""
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return max(peaks, default=0.0)


def total_pss_mb(pids: list[int]) -> float:
    """The processes' memory together, shared pages split among them (``Pss``), in MiB.

    A prefork worker's children share most of their pages with the parent, so
    adding up their resident sizes would count those pages once per process.
    """
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, PermissionError):
            continue
    return total / 1024


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found = [pid]
    for child_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = child_file.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.extend(process_tree(int(child_file.parent.name)))
    return found


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0}
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered
    return {"p50": statistics.median(ordered), "p99": q[98] if len(q) > 98 else ordered[-1]}


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start
