"""What staff do, from the dashboard or the API: one write transaction per action.

Each action resolves the event through :mod:`roundtable.staff.permissions`
(``NotFound`` for an event the member may not see, ``Forbidden`` for one they
may not change), resolves the object it names *within that event*, and acts, all
in the same transaction. The work itself is the domain's (events, people,
invitations, mail); what belongs here is who may do it and the few rules that
are staff's only: creating an event grants it to the organizer who made it; only
a failed message can be sent again.
"""

from __future__ import annotations


class Conflict(Exception):
    """The request clashes with what is stored (an existing slug, a message not failed)."""
