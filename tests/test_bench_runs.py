"""The benchmarks still run against today's schema, at a tiny size.

Nothing here is timed: `make bench` measures. These runs only prove that each
benchmark's hand-written data still fits the migrated tables and that it gets to
its summary line, so that a migration cannot break `make bench` unseen (one did:
a column added without a lasting default made the schedule benchmark's event
row fail).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[1]

#: each benchmark at the smallest size that still walks its whole path
TINY_RUNS = {
    "schedule": ["--rows", "200", "--due", "20", "--runs", "1"],
    "report": ["--invitations", "400", "--organizations", "12", "--runs", "1"],
    "rsvp": ["--requests", "80", "--concurrency", "4", "--rate", "40", "--seconds", "1"],
}


@pytest.mark.parametrize("benchmark", sorted(TINY_RUNS))
def test_the_benchmark_runs_to_its_summary(benchmark: str, redis_url: str) -> None:
    environment = {
        **os.environ,
        "ROUNDTABLE_BENCH_POSTGRES": PG_ADMIN_URL,
        "ROUNDTABLE_BENCH_REDIS": redis_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    finished = subprocess.run(
        [sys.executable, "-m", f"bench.{benchmark}", *TINY_RUNS[benchmark]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    assert any(line.startswith(f"{benchmark}:") for line in lines), finished.stdout
    # A benchmark whose own requests are refused measures the refusal: the RSVP runs
    # once hit the server's per-address reply limit.
    failures = [line for line in lines if "failures" in line and "failures 0" not in line]
    assert not failures, finished.stdout
