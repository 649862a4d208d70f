"""From an outbox row to a ready MIME message: gather the rows, render, add the calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from roundtable.calendar import Attendee, PartStat, build_calendar
from roundtable.config import get_settings
from roundtable.events.model import AgendaItem, Event
from roundtable.installation.service import message_id_part
from roundtable.invitations.checkin_codes import checkin_code
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import derive_token
from roundtable.mail.context import SharedParts, build_context
from roundtable.mail.kinds import ConfirmationContext, check_context
from roundtable.mail.mime import InlineImage, assemble, is_auto_submitted, make_message_id
from roundtable.mail.model import Message, MessageKind
from roundtable.mail.qr import CHECKIN_QR_CID, qr_png
from roundtable.mail.render import render
from roundtable.people.model import Addressee, Contact, Organization

_Row = TypeVar("_Row", Message, Invitation, Contact, Organization, Event)

#: what the invitee's calendar says of their attendance, by reply
PARTSTAT: dict[str, PartStat] = {
    Status.INVITED: "NEEDS-ACTION",
    Status.NOT_INVITED: "NEEDS-ACTION",
    Status.ACCEPTED: "ACCEPTED",
    Status.TENTATIVE: "TENTATIVE",
    Status.DECLINED: "DECLINED",
    Status.WAITLISTED: "TENTATIVE",
    Status.CANCELLED: "DECLINED",
}


@dataclass(frozen=True)
class MessageBundle:
    """Everything needed to write one message, read in one go."""

    message: Message
    event: Event
    agenda: list[AgendaItem]
    invitation: Invitation
    contact: Contact
    organization: str | None
    checkin_used: bool
    #: the installation's random part of Message-IDs
    installation: str
    #: the invitee this one represents, and the representative they named
    principal: Invitation | None = None
    representative: Invitation | None = None

    @property
    def addressee(self) -> Addressee:
        """The invitee as this event's list names them."""
        return self.invitation.addressee(self.contact.email)


def load_bundles(session: Session, message_ids: Sequence[int]) -> dict[int, MessageBundle]:
    """Everything these rows need, in a handful of queries whatever their number."""
    messages = _by_id(session, Message, message_ids)
    invitations = _by_id(session, Invitation, {m.invitation_id for m in messages.values()})
    linked = _by_id(
        session,
        Invitation,
        {
            link
            for i in invitations.values()
            for link in (i.representative_of_id, i.represented_by_id)
            if link
        },
    )
    contacts = _by_id(session, Contact, {i.contact_id for i in invitations.values()})
    organizations = _by_id(
        session,
        Organization,
        {i.organization_id for i in invitations.values() if i.organization_id},
    )
    events = _by_id(session, Event, {m.event_id for m in messages.values()})
    agendas: dict[int, list[AgendaItem]] = {event_id: [] for event_id in events}
    for item in session.exec(
        select(AgendaItem)
        .where(col(AgendaItem.event_id).in_(list(events)))
        .order_by(col(AgendaItem.event_id), col(AgendaItem.position))
    ):
        agendas[item.event_id].append(item)
    followup_events = [m.event_id for m in messages.values() if m.kind == MessageKind.FOLLOWUP]
    events_with_checkin = (
        set(
            session.exec(
                select(Invitation.event_id)
                .where(
                    col(Invitation.event_id).in_(followup_events),
                    col(Invitation.attended_at).is_not(None),
                )
                .distinct()
            ).all()
        )
        if followup_events
        else set()
    )
    installation = message_id_part(session) if messages else ""
    bundles = {}
    for message_id, message in messages.items():
        invitation = invitations.get(message.invitation_id)
        event = events.get(message.event_id)
        contact = contacts.get(invitation.contact_id) if invitation else None
        if invitation is None or event is None or contact is None:
            continue
        organization = organizations.get(invitation.organization_id or -1)
        bundles[message_id] = MessageBundle(
            message=message,
            event=event,
            agenda=agendas[message.event_id],
            invitation=invitation,
            contact=contact,
            organization=organization.name if organization else None,
            checkin_used=message.event_id in events_with_checkin,
            installation=installation,
            principal=linked.get(invitation.representative_of_id or -1),
            representative=linked.get(invitation.represented_by_id or -1),
        )
    return bundles


def _by_id(session: Session, model: type[_Row], ids: Iterable[int]) -> dict[int, _Row]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()
    return {row.id: row for row in rows if row.id is not None}


def load_bundle(session: Session, message_id: int) -> MessageBundle:
    """One row's bundle (for previews); ``LookupError`` when the row is gone."""
    bundle = load_bundles(session, [message_id]).get(message_id)
    if bundle is None:
        raise LookupError(f"message {message_id} does not exist")
    return bundle


def followup_variant(bundle: MessageBundle) -> str | None:
    """Which follow-up this invitee gets: for attendees, for those who declined, or none."""
    status = bundle.invitation.status
    if status == Status.DECLINED:
        return "declined"
    if bundle.checkin_used:
        return "attendee" if bundle.invitation.attended_at is not None else None
    return "attendee" if status in (Status.ACCEPTED, Status.TENTATIVE) else None


def compose(
    bundle: MessageBundle, now: datetime, shared: SharedParts | None = None
) -> EmailMessage:
    """The message for this row, exactly as the recipient will see it.

    ``shared``: the batch's :class:`SharedParts`, when several messages are composed
    in a row; the result is the same with or without.
    """
    settings = get_settings()
    message, event, invitation = bundle.message, bundle.event, bundle.invitation
    assert message.id is not None and invitation.id is not None
    base = settings.public_base_url
    rsvp_url = ics_url = unsubscribe_url = None
    if invitation.token_salt:
        token = derive_token(settings.resolved_secret_key(), invitation.id, invitation.token_salt)
        rsvp_url = f"{base}/rsvp/{token}"
        ics_url = f"{rsvp_url}/invite.ics"
        unsubscribe_url = f"{rsvp_url}/unsubscribe"
    check_context(message.kind, message.context)
    extra: dict[str, Any] = dict(message.context)
    extra.update(_representation(bundle))
    if message.kind == MessageKind.FOLLOWUP:
        extra["variant"] = followup_variant(bundle)
        extra["recommendations_md"] = event.recommendations or ""
    if message.kind == MessageKind.REMINDER:
        extra.setdefault("offset_seconds", int(message.mailing.split(":")[1].split("@")[0]))
    addressee = bundle.addressee
    ctx = build_context(
        message.kind,
        event=event,
        agenda=bundle.agenda,
        contact=addressee,
        organization=bundle.organization,
        role=invitation.role,
        now=now,
        rsvp_url=rsvp_url,
        ics_url=ics_url,
        unsubscribe_url=unsubscribe_url if message.kind == MessageKind.FOLLOWUP else None,
        extra=extra,
        shared=shared,
    )
    images: list[InlineImage] = []
    if message.kind == MessageKind.PROMOTION or ctx.response == Status.ACCEPTED:
        # A confirmed place carries the check-in QR code (docs/architecture.md, "At the door").
        code = checkin_code(settings.resolved_secret_key(), invitation.id)
        images.append(InlineImage(CHECKIN_QR_CID, qr_png(f"{base}/checkin/{code}")))
        ctx = replace(ctx, checkin_qr=CHECKIN_QR_CID)
    rendered = render(message.kind, ctx)
    calendar, method = _calendar_part(bundle, now, rsvp_url)
    domain = event.organizer_email.rsplit("@", 1)[-1]
    return assemble(
        rendered,
        sender=(event.organizer_name, event.organizer_email),
        recipient=(addressee.display_name, addressee.email),
        message_id=make_message_id(message.id, domain, installation=bundle.installation),
        date=now,
        calendar=calendar,
        calendar_method=method,
        reply_to=(event.contact_name, event.contact_email) if event.contact_email else None,
        list_unsubscribe=unsubscribe_url if message.kind == MessageKind.FOLLOWUP else None,
        auto_submitted=is_auto_submitted(message.kind),
        language=addressee.language,
        images=images,
    )


def _representation(bundle: MessageBundle) -> dict[str, str]:
    """Who a representative stands in for; whom a declining invitee sent in their place."""
    found: dict[str, str] = {}
    if bundle.principal is not None:
        principal = bundle.principal
        found["representing"] = ", ".join(
            part for part in (principal.display_name, principal.position) if part
        )
    representative = bundle.representative
    if (
        representative is not None
        and representative.status != Status.CANCELLED
        and bundle.invitation.status == Status.DECLINED
    ):
        found["representative"] = representative.display_name
    return found


def _calendar_part(
    bundle: MessageBundle, now: datetime, rsvp_url: str | None
) -> tuple[bytes | None, str | None]:
    kind = bundle.message.kind
    status = bundle.invitation.status
    partstat: PartStat
    if kind == MessageKind.CANCELLATION:
        method, partstat = "CANCEL", PARTSTAT[status]
    elif kind == MessageKind.INVITATION:
        method, partstat = "REQUEST", "NEEDS-ACTION"
    elif kind in (MessageKind.UPDATE, MessageKind.PROMOTION):
        method, partstat = "REQUEST", PARTSTAT[status]
    elif kind == MessageKind.CONFIRMATION:
        # the reply this message confirms, never the status at send time (a later reply's
        # confirmation, queued after this one, carries its own calendar)
        response = ConfirmationContext.parse(bundle.message.context).response
        if response == Status.WAITLISTED:
            return None, None
        # A decline removes the event from the invitee's own calendar (see README).
        method = "CANCEL" if response == Status.DECLINED else "REQUEST"
        partstat = PARTSTAT.get(response, "NEEDS-ACTION")
    else:
        return None, None
    attendee = Attendee(
        email=bundle.contact.email,
        name=bundle.invitation.display_name,
        role=bundle.invitation.role,
        partstat=partstat,
        rsvp=partstat == "NEEDS-ACTION",
    )
    data = build_calendar(
        bundle.event,
        bundle.agenda,
        method=method,
        attendee=attendee,
        now=now,
        rsvp_url=rsvp_url,
        with_alarm=method != "CANCEL",
        language=bundle.addressee.language,
    )
    return data, method
