"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from roundtable.events.model import AgendaItem, Event, EventStatus
from roundtable.inbound.model import InboundMessage
from roundtable.installation.model import Installation
from roundtable.invitations import tally as _invitation_tallies  # noqa: F401 (their tables)
from roundtable.invitations.model import Invitation, ReplyLog, RepresentativeNaming, Status
from roundtable.mail import tally as _message_tallies  # noqa: F401 (their tables)
from roundtable.mail.model import GroupMessage, Message, MessageStatus
from roundtable.people.model import Contact, Organization
from roundtable.staff.model import ApiToken, EventGrant, LoginThrottle, StaffUser

metadata = SQLModel.metadata

__all__ = [
    "AgendaItem",
    "ApiToken",
    "Contact",
    "Event",
    "EventGrant",
    "EventStatus",
    "GroupMessage",
    "InboundMessage",
    "Installation",
    "Invitation",
    "LoginThrottle",
    "Message",
    "MessageStatus",
    "Organization",
    "ReplyLog",
    "RepresentativeNaming",
    "StaffUser",
    "Status",
    "metadata",
]
