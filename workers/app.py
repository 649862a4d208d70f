"""The Celery application the worker and beat run: the library's, with the tasks added.

The configuration (queue, acknowledgement, beat's schedule) is the library's own
(``roundtable.broker``), shared with every process that publishes by task name;
this package only registers the tasks under those names.
"""

from __future__ import annotations

from roundtable.broker import celery_app

app = celery_app()
app.conf.include = ["workers.tasks"]
