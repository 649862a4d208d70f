"""The organizer's desk: writing to a group, the nudge now, cancelling: checked, then done.

Each action checks the member's right to manage the event inside the transaction
that acts (docs/architecture.md, "Layers"), so the dashboard, the API and the
command line share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roundtable.db import write_session
from roundtable.errors import InputError, Problem
from roundtable.events.service import get_live_event
from roundtable.mail.group_messages import Audience, Draft, queue_group_message
from roundtable.schedule.nudges import NudgeResult, nudge_now
from roundtable.staff.permissions import StaffMember, event_for
from roundtable.workflows.cancel import CancelResult, cancel_event_in

#: who sent a message from the command line, in the history
OPERATOR = "command line"


@dataclass(frozen=True)
class MessageSent:
    id: int
    queued: int


def send_group_message(
    member: StaffMember, slug: str, draft: Draft, audience: Audience, *, now: datetime
) -> MessageSent:
    """Record the message and queue a copy to each recipient the audience names."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        if event.is_cancelled:
            raise InputError([Problem(f"event {slug!r} was cancelled", field="slug")])
        record = queue_group_message(session, event, draft, audience, sent_by=member.email, now=now)
        assert record.id is not None
        return MessageSent(id=record.id, queued=record.queued)


def nudge_silent(member: StaffMember, slug: str, *, now: datetime) -> NudgeResult:
    """The nudge, now, to each delivered invitee who has not replied; once a day."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        return nudge_now(session, event, now)


def cancel(member: StaffMember, slug: str, *, note: str, now: datetime) -> CancelResult:
    """Cancel the event, the organizers' note in every cancellation."""
    with write_session() as session:
        event = event_for(session, member, slug, manage=True, lock=True)
        return cancel_event_in(session, event, now=now, note=note)


def send_group_message_as_operator(
    slug: str, draft: Draft, audience: Audience, *, now: datetime
) -> MessageSent:
    """The command line's version: the operator of the installation may write to any event."""
    with write_session() as session:
        event = get_live_event(session, slug)
        record = queue_group_message(session, event, draft, audience, sent_by=OPERATOR, now=now)
        assert record.id is not None
        return MessageSent(id=record.id, queued=record.queued)
