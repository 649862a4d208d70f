"""Representatives: naming one, replacing one, and the limits that keep it from being a mail cannon.

An invitee who declines may name a representative, who then gets an invitation of
their own. Anyone holding an invitee's link can do so, so the flow is bounded:

- an invitation names at most :data:`MAX_REPRESENTATIVES` different addresses over
  its life, counted from the stored :class:`RepresentativeNaming` rows;
- naming another representative, or replying without one, withdraws the previous
  representative's invitation (status ``cancelled``): their link opens nothing and
  their queued mail (reminders, the nudge) no longer applies at send time;
- the name must read as a person's name (see :func:`roundtable.people.names.name_fault`).

The functions here run inside :func:`roundtable.workflows.replies.record_reply`'s
transaction, after the invitation (and, where seats are counted, the event) is locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from roundtable.events.model import Event
from roundtable.invitations.model import Invitation, RepresentativeNaming, Status
from roundtable.invitations.rsvp import N_, Reply, ReplyError, ReplyProblem, representative_email
from roundtable.invitations.service import contact_for, issue_token
from roundtable.mail.kinds import InvitationContext
from roundtable.mail.model import MessageKind
from roundtable.mail.outbox import OutgoingMessage, queue_message
from roundtable.people.model import Contact
from roundtable.schedule.service import schedule_for

#: different representatives one invitation may name over its life
MAX_REPRESENTATIVES = 3


@dataclass(frozen=True)
class Withdrawn:
    """A representative's invitation withdrawn by this reply, for the reply log."""

    invitation: Invitation
    from_status: str
    seats_freed: int


def invite_representative(
    session: Session, event: Event, original: Invitation, reply: Reply, *, now: datetime
) -> Invitation:
    """The representative's invitation to the same event: found, or created and sent.

    Raises :class:`ReplyError` for the invitee's own address and for a fourth
    different representative.
    """
    email = representative_email(reply)
    invitee = session.get(Contact, original.contact_id)
    assert invitee is not None and event.id is not None and original.id is not None
    if email == invitee.email:
        raise ReplyError(
            [
                ReplyProblem.of(
                    "substitute_email",
                    N_("That is your own address: give your representative's."),
                )
            ]
        )
    naming = _record_naming(session, original, email, reply.substitute_name, now=now)
    contact = contact_for(session, email, now=now)
    assert contact.id is not None
    invitation = session.exec(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.contact_id == contact.id)
        .with_for_update()
    ).first()
    if invitation is None:
        invitation = Invitation(
            event_id=event.id,
            contact_id=contact.id,
            # Named by the invitee on this event's form: the details of this list only.
            full_name=reply.substitute_name,
            organization_id=original.organization_id,
            language=original.language,
            timezone=original.timezone,
            role=original.role,
            status=Status.NOT_INVITED,
            representative_of_id=original.id,
            created_at=now,
            updated_at=now,
        )
        session.add(invitation)
        session.flush()
    elif invitation.representative_of_id is None and invitation.status == Status.NOT_INVITED:
        invitation.representative_of_id = original.id
    # Named again after being replaced: a new link (the old one stays dead) and a new mail.
    again = invitation.status == Status.CANCELLED and invitation.representative_of_id == original.id
    if invitation.status == Status.NOT_INVITED or again:
        issue_token(invitation, now=now)
        session.flush()
        assert invitation.id is not None
        mailing = f"invitation:{event.sequence}"
        queue_message(
            session,
            OutgoingMessage(
                event_id=event.id,
                invitation_id=invitation.id,
                kind=MessageKind.INVITATION,
                mailing=f"{mailing}:again:{naming.id}" if again else mailing,
                due_at=now,
                context=InvitationContext(event.sequence, representative_of=original.id).to_json(),
            ),
        )
        # A full invitee: the event's reminders and nudge, as for anyone invited.
        schedule_for(session, event, [invitation.id], now)
    naming.representative_id = invitation.id
    return invitation


def withdraw_representative(
    session: Session, original: Invitation, representative_id: int, *, now: datetime
) -> list[Withdrawn]:
    """Withdraw the invitation ``original`` gave its representative, and theirs in turn.

    Only an invitation that exists because it was named is withdrawn: someone on
    the list in their own right keeps theirs. The caller logs each one and gives
    the freed seats to those waiting.
    """
    withdrawn: list[Withdrawn] = []
    seen: set[int] = set()
    pending: list[tuple[int, int]] = [(representative_id, original.id or 0)]
    while pending:
        invitation_id, named_by = pending.pop()
        if invitation_id in seen:
            continue
        seen.add(invitation_id)
        invitation = session.exec(
            select(Invitation).where(Invitation.id == invitation_id).with_for_update()
        ).first()
        if (
            invitation is None
            or invitation.representative_of_id != named_by
            or invitation.status == Status.CANCELLED
        ):
            continue
        from_status = invitation.status
        held = 1 + invitation.guests if from_status == Status.ACCEPTED else 0
        invitation.status = Status.CANCELLED
        invitation.waitlisted_at = None
        invitation.updated_at = now
        withdrawn.append(Withdrawn(invitation, from_status, held))
        if invitation.represented_by_id is not None and invitation.id is not None:
            pending.append((invitation.represented_by_id, invitation.id))
    return withdrawn


def _record_naming(
    session: Session, original: Invitation, email: str, name: str, *, now: datetime
) -> RepresentativeNaming:
    """The row for this address (its name updated), or a new one within the limit."""
    assert original.id is not None
    named = session.exec(
        select(RepresentativeNaming).where(RepresentativeNaming.invitation_id == original.id)
    ).all()
    for naming in named:
        if naming.email == email:
            naming.name = name
            naming.named_at = now
            return naming
    if len(named) >= MAX_REPRESENTATIVES:
        raise ReplyError(
            [
                ReplyProblem.of(
                    "substitute_email",
                    N_(
                        "This invitation has already named %(count)s different representatives, "
                        "the most it can. To change your representative again, please write "
                        "to the organizers."
                    ),
                    count=MAX_REPRESENTATIVES,
                )
            ]
        )
    naming = RepresentativeNaming(invitation_id=original.id, email=email, name=name, named_at=now)
    session.add(naming)
    session.flush()
    return naming
