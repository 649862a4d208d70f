"""Dispatch: one ``dispatch_due`` over 100,000 pending scheduled rows, 1,000 of them due.

The rows are reminders of a large event (two per invitation), written directly;
1,000 are made due. The dispatch finds them through the (status, due_at) index,
marks them announced and enqueues their tasks on the real Redis broker. Baseline
in the same run: the bare indexed SELECT of the due ids. Usage:

    python -m bench.schedule [--rows 100000] [--due 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from bench.common import settle_postgres, throwaway_postgres

REDIS = os.environ.get("ROUNDTABLE_BENCH_REDIS", "redis://127.0.0.1:6379/15")


def configure(database_url: str) -> None:
    os.environ.update(
        {
            "ROUNDTABLE_DATABASE_URL": database_url,
            "ROUNDTABLE_BROKER_URL": REDIS,
            "ROUNDTABLE_SECRET_KEY": "bench-secret-key-" + "x" * 32,
        }
    )
    from roundtable import db
    from roundtable.config import get_settings

    get_settings.cache_clear()
    db.reset_engines()
    from workers import app

    app.conf.broker_url = REDIS


def populate(rows: int, due: int) -> None:
    """``rows`` queued reminder rows, the first ``due`` of them due a minute ago."""
    from sqlalchemy import insert, text

    from roundtable.db import get_engine
    from roundtable.migrate import upgrade
    from roundtable.types import utcnow

    engine = get_engine()
    upgrade()  # the real schema: workers refuse a database not migrated
    now = utcnow()
    invitations = rows // 2
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (slug, uid, sequence, status, title, format, description, "
                "starts_at, ends_at, timezone, venue, room, address, webcast_url, max_guests, "
                "reminder_offsets, co_organizers, organizer_name, organizer_email, contact_name, "
                "contact_office, contact_phone, contact_email, access, translations, created_at, "
                "updated_at) VALUES ('bench', 'bench@rt', 0, 'scheduled', 'Bench', '', '', :s, :e, "
                "'UTC', '', '', '', '', 0, '[604800, 86400]', '[]', 'IOM', "
                "'events@iom.example.org', '', '', '', '', '', '{}', :n, :n)"
            ),
            {"s": now + timedelta(days=30), "e": now + timedelta(days=30, hours=2), "n": now},
        )
        conn.execute(
            text(
                "INSERT INTO contact (email, created_at, updated_at) "
                "SELECT 'c' || g || '@example.org', :n, :n FROM generate_series(1, :k) g"
            ),
            {"n": now, "k": invitations},
        )
        conn.execute(
            text(
                "INSERT INTO invitation (event_id, contact_id, honorific, first_name, last_name,"
                " full_name, position, language, role, status, token_salt, token_hash, guests,"
                " notes, created_at, updated_at) SELECT 1, g, '', '', '', 'C ' || g, '', 'en',"
                " 'participant', 'accepted', 's', md5(g::text), 0, '', :n, :n"
                " FROM generate_series(1, :k) g"
            ),
            {"n": now, "k": invitations},
        )
        for offset, key in ((604800, "reminder:604800@0"), (86400, "reminder:86400@0")):
            conn.execute(
                text(
                    "INSERT INTO message (event_id, invitation_id, kind, mailing, status, due_at,"
                    " context, attempts, created_at, updated_at) SELECT 1, g, 'reminder', :key,"
                    " 'queued', :due, '{}', 0, :n, :n FROM generate_series(1, :k) g"
                ),
                {
                    "key": key,
                    "due": now + timedelta(days=30, seconds=-offset),
                    "n": now,
                    "k": invitations,
                },
            )
        conn.execute(
            text(
                "UPDATE message SET due_at = :due WHERE id IN "
                "(SELECT id FROM message ORDER BY id LIMIT :d)"
            ),
            {"due": now - timedelta(minutes=1), "d": due},
        )
        conn.execute(text("ANALYZE"))
    del insert


def reset_due(due: int) -> None:
    from sqlalchemy import text

    from roundtable.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(
            text(
                "UPDATE message SET enqueued_at = NULL WHERE id IN "
                "(SELECT id FROM message ORDER BY id LIMIT :d)"
            ),
            {"d": due},
        )


def baseline_select() -> float:
    from sqlalchemy import text

    from roundtable.db import get_engine
    from roundtable.types import utcnow

    with get_engine().connect() as conn:
        start = time.perf_counter()
        conn.execute(
            text(
                "SELECT id FROM message WHERE status = 'queued' AND due_at <= :now "
                "ORDER BY due_at LIMIT 5000"
            ),
            {"now": utcnow()},
        ).all()
        return time.perf_counter() - start


def run(rows: int, due: int, runs: int) -> dict[str, Any]:
    import redis

    from roundtable.delivery.dispatch import dispatch
    from roundtable.types import utcnow

    client = redis.Redis.from_url(REDIS)
    with throwaway_postgres() as database_url:
        configure(database_url)
        populate(rows, due)
        settle_postgres()
        timings, baselines, announced = [], [], 0
        dispatch(utcnow())  # warm: connections, statement caches, the Celery producer
        tracemalloc.start()
        for _ in range(runs):
            reset_due(due)
            client.flushdb()
            start = time.perf_counter()
            result = dispatch(utcnow())
            timings.append(time.perf_counter() - start)
            announced = result.announced
            baselines.append(baseline_select())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        queued_tasks = client.llen("roundtable")
    return {
        "rows": rows,
        "due": due,
        "announced": announced,
        "tasks_in_redis": queued_tasks,
        "dispatch_ms_median": round(statistics.median(timings) * 1000, 1),
        "dispatch_ms_max": round(max(timings) * 1000, 1),
        "select_ms_median": round(statistics.median(baselines) * 1000, 2),
        "peak_python_mb": round(peak / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.rows, args.due, args.runs)
    print(
        f"schedule: dispatch over {result['rows']} pending rows announced {result['announced']}"
        f" due ({result['tasks_in_redis']} tasks on Redis) in {result['dispatch_ms_median']} ms"
        f" median (max {result['dispatch_ms_max']} ms); the bare indexed SELECT takes "
        f"{result['select_ms_median']} ms; peak Python memory {result['peak_python_mb']} MiB"
    )
    return result


if __name__ == "__main__":
    main()
