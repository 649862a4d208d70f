"""Composing a batch's next few messages in one go, just before their sends.

Composing a message right after waiting on the SMTP server and the database took
about half again as long as composing it right after another one: meanwhile the
templates, the email package and the calendar code had left the processor's
caches (bench/README.md, "Composing ahead"). So a batch composes a few messages
(``policy.FIRST_COMPOSED_AHEAD``), sends them one by one, then composes the rest in
a row (up to ``policy.COMPOSE_AHEAD``), and sends those.

Each message is the one composing it at its turn would give, but for the moment
it names in ``Date`` and the calendar's DTSTAMP: when it was composed, which is
never more than ``policy.COMPOSED_FRESH_FOR`` before it is handed to the server.
Behind a slow or paced server, the ones that grew older are composed again, and
from then on the batch composes ahead only as many as went out in time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage

from roundtable.delivery import policy
from roundtable.delivery.compose import MessageBundle, compose
from roundtable.mail.context import SharedParts


class ComposedAhead:
    """The messages of one batch, composed a few rows at a time, each taken once.

    ``order`` is the order the batch sends its rows in; ``reason_to_drop`` says which
    bundles will not be sent (they are not composed ahead). What the batch's messages
    share is made once for all of them (``SharedParts``). What composing a row
    raised is raised again when that row's message is taken, so a message that
    cannot be built fails on its own turn, as it would have without composing ahead.
    """

    def __init__(
        self,
        bundles: Mapping[int, MessageBundle],
        order: Sequence[int],
        *,
        reason_to_drop: Callable[[MessageBundle], str | None],
    ) -> None:
        self._bundles = bundles
        self._order = list(order)
        self._position = {message_id: index for index, message_id in enumerate(self._order)}
        self._shared = SharedParts()
        self._reason_to_drop = reason_to_drop
        self._ready: dict[int, EmailMessage | Exception] = {}
        self._composed_at: datetime | None = None
        #: how many to compose in one go after the first few (which let sending start
        #: soon); it drops to what went out in time once some went stale
        self._most = policy.COMPOSE_AHEAD
        self._taken_in_time = 0

    def take(self, message_id: int, now: datetime) -> EmailMessage:
        """This row's message, composing it now (with the next few) unless it is ready."""
        ready = self._ready.pop(message_id, None)
        if ready is not None and not policy.composed_recently(self._composed_at, now):
            # The server is slower than composing ahead assumed: waste no more on it.
            self._most = max(1, self._taken_in_time)
            ready = None
        if ready is None:
            self._compose_from(message_id, now)
            ready = self._ready.pop(message_id)
        self._taken_in_time += 1
        if isinstance(ready, Exception):
            raise ready
        return ready

    def _compose_from(self, message_id: int, now: datetime) -> None:
        """Compose this row and the next ones to be sent, as many as composing ahead allows."""
        first = self._composed_at is None
        ahead = policy.FIRST_COMPOSED_AHEAD if first else self._most
        self._ready.clear()
        self._composed_at, self._taken_in_time = now, 0
        for later in self._order[self._position[message_id] :]:
            if len(self._ready) >= ahead:
                break
            bundle = self._bundles.get(later)
            if bundle is None or (later != message_id and self._reason_to_drop(bundle)):
                continue
            try:
                self._ready[later] = compose(bundle, now, self._shared)
            except Exception as exc:  # raised again at the row's own turn
                self._ready[later] = exc
