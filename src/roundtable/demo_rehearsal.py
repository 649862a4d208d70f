"""The demo's rehearsal: a copy of the example event a few minutes ahead.

The example roundtable is months away, so its reminders would not show for
months. The rehearsal copy starts minutes from now, with minute-scale rules,
so a demo user sees the whole timeline arrive in the outbox: invitations, a
reply's confirmation, the nudge, the reminders, and the follow-up with the
recommendations after it ends. It is rebuilt on every demo run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from roundtable.db import write_session
from roundtable.events.model import Event
from roundtable.events.service import load_event
from roundtable.events.spec import parse_event_file
from roundtable.invitations.invitee_file import parse_invitee_file
from roundtable.invitations.invitee_import import import_invitees
from roundtable.invitations.model import Invitation
from roundtable.invitations.rsvp import Reply
from roundtable.workflows.replies import record_reply
from roundtable.workflows.sending import send_invitations

SLUG = "rehearsal"
#: how many of the example's invitees take part in the rehearsal
PARTICIPANTS = 6
MINUTE = 60


@dataclass(frozen=True)
class Rehearsal:
    starts_at: datetime
    ends_at: datetime
    invited: int


def rebuild_rehearsal(event_file: Path, invitee_file: Path, *, now: datetime) -> Rehearsal:
    """Replace the rehearsal event with a fresh one starting four minutes from ``now``."""
    spec = parse_event_file(event_file)
    starts = (now + timedelta(minutes=4)).replace(microsecond=0)
    spec = replace(
        spec,
        slug=SLUG,
        title=f"{spec.title} (rehearsal)",
        starts=starts,
        ends=starts + timedelta(minutes=2),
        rsvp_deadline=starts - timedelta(minutes=1),
        reminders=(3 * MINUTE, MINUTE),
        nudge=MINUTE,
        followup_after=MINUTE,
    )
    rows = parse_invitee_file(invitee_file).rows[:PARTICIPANTS]
    with write_session() as session:
        old = session.exec(select(Event).where(Event.slug == SLUG)).first()
        if old is not None:
            session.delete(old)  # the database cascades to its invitations and mail
            session.flush()
        event = load_event(session, spec, now).event
        import_invitees(session, event, rows, now=now)
        event.recommendations = (
            "The rehearsal's recommendations are those of the example roundtable: "
            "see the follow-up of the real event."
        )
        event.recommendations_published_at = now
    invited = send_invitations(SLUG, now=now)
    _reply_for_two(now)
    _publish_followups(now)
    return Rehearsal(starts_at=spec.starts, ends_at=spec.ends, invited=invited)


def _reply_for_two(now: datetime) -> None:
    """One acceptance and one decline, so the reminders and the nudge have someone to skip."""
    with write_session() as session:
        ids = session.exec(
            select(Invitation.id)
            .join(Event, col(Event.id) == Invitation.event_id)
            .where(Event.slug == SLUG)
            .order_by(col(Invitation.id))
            .limit(2)
        ).all()
    for invitation_id, response in zip(ids, ("accept", "decline"), strict=False):
        assert invitation_id is not None
        record_reply(invitation_id, Reply(response=response), actor="demo", now=now)


def _publish_followups(now: datetime) -> None:
    from roundtable.workflows.recommendations import schedule_followups

    with write_session() as session:
        event = session.exec(select(Event).where(Event.slug == SLUG)).one()
        schedule_followups(session, event, now)
