"""The broker as the library sees it: one Celery application, tasks named, never imported.

The library publishes by task name (``roundtable.send_messages``); the worker
package (``workers``), which registers the tasks under those names, is at the
edge and the library never imports it. The application's configuration lives
here so that every process that publishes and every worker agree on the queue
and the options; ``workers.app`` takes this application and adds its tasks.

The broker carries only message ids; everything that matters is in the database
(docs/architecture.md, "Outbox and delivery"), so the settings favour redelivery
over loss: late acknowledgement, requeue when a worker dies, no result backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from celery import Celery

from roundtable.config import get_settings

#: the queue every task goes to (``celery -A workers worker`` consumes it)
QUEUE = "roundtable"
#: task names, as the worker registers them
SEND_MESSAGES = "roundtable.send_messages"
DISPATCH_DUE = "roundtable.dispatch_due"
INBOUND_FETCH = "roundtable.inbound_fetch"

#: outbox rows per task: one claim and one read for all of them, then one send each.
#: A burst is cut into about TASKS_PER_BURST tasks, so that every worker gets a share,
#: of MIN_BATCH to MAX_BATCH rows (publishing a task costs a few milliseconds). With
#: 100 rows rather than 50, a task's claim, reads and round trip through the broker
#: are shared by twice as many messages: 3% less of the worker's CPU per message.
MIN_BATCH, MAX_BATCH, TASKS_PER_BURST = 5, 100, 32


@lru_cache(maxsize=1)
def celery_app() -> Celery:
    """This process's Celery application, configured from the settings when first asked."""
    settings = get_settings()
    celery = Celery("roundtable")
    celery.conf.update(
        broker_url=settings.broker_url or "memory://",
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged task after this; our retries wait far less.
        broker_transport_options={"visibility_timeout": 3600},
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        # A lost broker connection must not stop a send half-way (Celery 6 would by
        # default): the rows hold the truth, and a task whose ack was lost finds
        # nothing left to claim if it is delivered again.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_time_limit=180,
        task_soft_time_limit=120,
        worker_prefetch_multiplier=4,
        worker_hijack_root_logger=False,
        task_default_queue=QUEUE,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(),
    )
    return celery


def beat_schedule() -> dict[str, dict[str, object]]:
    """Beat's periodic jobs: the dispatch, and reading the mailbox when one is configured."""
    settings = get_settings()
    schedule: dict[str, dict[str, object]] = {
        "dispatch-due": {
            "task": DISPATCH_DUE,
            "schedule": settings.dispatch_interval,
            "options": {"expires": max(5.0, settings.dispatch_interval)},
        }
    }
    if settings.inbound_url:
        schedule["inbound-fetch"] = {
            "task": INBOUND_FETCH,
            "schedule": settings.inbound_interval,
            # A fetch not started within its interval is replaced by the next one.
            "options": {"expires": max(5.0, settings.inbound_interval)},
        }
    return schedule


def publish_send(message_ids: Sequence[int]) -> None:
    """The doorbell with a broker: one small ``send_messages`` task per batch of ids."""
    app = celery_app()
    # One producer (one connection, one channel) for the whole burst, not one each.
    with app.producer_or_acquire() as producer:
        for batch in batches(message_ids):
            app.send_task(
                SEND_MESSAGES,
                args=(batch,),
                producer=producer,
                # No result is kept (task_ignore_result), so none is announced to the
                # result backend; and the ids are shown by their first three and their
                # number, not all written out in every message's headers (a tenth of a
                # publish's time; the task's arguments still carry them all).
                ignore_result=True,
                argsrepr=ids_repr(batch),
            )


def ids_repr(ids: Sequence[int]) -> str:
    """What a task's arguments look like in monitoring tools: its first ids and how many."""
    if len(ids) <= 3:
        return f"({list(ids)!r},)"
    return f"([{ids[0]}, {ids[1]}, {ids[2]}, … {len(ids)} ids in all],)"


def batches(message_ids: Sequence[int]) -> list[list[int]]:
    """The burst cut into tasks: about TASKS_PER_BURST, of MIN_BATCH to MAX_BATCH ids each."""
    ids = list(message_ids)
    size = min(MAX_BATCH, max(MIN_BATCH, -(-len(ids) // TASKS_PER_BURST)))
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def connect() -> None:
    """Open this process's connection for publishing now (see ``doorbell.prepare``)."""
    app = celery_app()
    with app.producer_or_acquire() as producer:
        # Declaring the queue goes through the channel a publish uses, which connects it.
        producer.maybe_declare(app.amqp.queues[app.conf.task_default_queue])
    # Celery finds its (disabled) result backend through the installed packages' entry
    # points on first use, some 10 ms: here, rather than in the first ring.
    _ = app.backend
