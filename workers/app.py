"""The Celery application, configured from Roundtable's settings.

The broker carries only message ids; everything that matters is in the
database (DESIGN §2), so the settings favour redelivery over loss: late
acknowledgement, requeue when a worker dies, and no result backend.
"""

from __future__ import annotations

from celery import Celery

from roundtable.config import get_settings


def create_celery() -> Celery:
    settings = get_settings()
    celery = Celery("roundtable", include=["workers.tasks"])
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
        task_default_queue="roundtable",
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            "dispatch-due": {
                "task": "roundtable.dispatch_due",
                "schedule": settings.dispatch_interval,
                "options": {"expires": max(5.0, settings.dispatch_interval)},
            }
        },
    )
    return celery


app = create_celery()
