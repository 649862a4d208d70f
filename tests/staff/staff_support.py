"""Builders for the staff tests: accounts, signed-in clients, events with a realistic mix.

Rows are written straight through the models, so that what the pages and the API
show can be compared with counts taken from what the test itself put in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlmodel import col, select

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.model import Invitation, ReplyLog, Status
from roundtable.invitations.tokens import derive_token, hash_token, new_salt
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.transports import open_transport
from roundtable.people.model import Organization
from roundtable.staff.accounts import add_staff, issue_api_token
from roundtable.staff.model import EventGrant, StaffUser
from tests.factories import invitee_details, make_contact, make_event
from tests.mail.smtp_server import ReceivedMessage, SmtpSink

PASSWORD = "correct horse battery staple"
#: the app serves https in these tests (the ``env`` fixture's base URL), so Secure cookies flow
APP_URL = "https://testserver"


def client_for(app: object) -> TestClient:
    return TestClient(app, base_url=APP_URL, follow_redirects=False)  # type: ignore[arg-type]


def add_member(email: str, role: str, *, events: tuple[int, ...] = ()) -> int:
    """A staff account with the test password, granted ``events``; its id."""
    with write_session() as session:
        user = add_staff(session, email, role, PASSWORD)
        assert user.id is not None
        for event_id in events:
            session.add(EventGrant(staff_id=user.id, event_id=event_id))
        return user.id


def token_for(email: str) -> str:
    with write_session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        return issue_api_token(session, user)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in as a browser does: open the form, post it back with its token."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
    )


def signed_in(client: TestClient, email: str) -> str:
    """Sign in and return the session's CSRF token, for the forms to come."""
    response = log_in(client, email)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard").text)


def add_event(slug: str = "roundtable", **overrides: object) -> int:
    with write_session() as session:
        event = make_event(slug, **overrides)
        session.add(event)
        session.flush()
        assert event.id is not None
        return event.id


@dataclass(frozen=True)
class SeededInvitation:
    id: int
    email: str
    status: str
    role: str
    organization: str | None
    invited: bool
    attended: bool


@dataclass(frozen=True)
class SeededMessage:
    id: int
    invitation_id: int
    status: str


@dataclass
class Seeded:
    """What :func:`seed_mix` wrote, kept as plain values to count from."""

    event_id: int
    invitations: list[SeededInvitation] = field(default_factory=list)
    messages: list[SeededMessage] = field(default_factory=list)
    #: invitation id → the instants of its reply log entries
    replies: dict[int, list[datetime]] = field(default_factory=dict)


#: (status, role, organization or None, attended, message states) per invitee, cycled
MIX = [
    (Status.ACCEPTED, "speaker", "Permanent Mission of Italy", True, ("sent",)),
    (Status.ACCEPTED, "participant", "IOM", False, ("sent", "sent")),
    (Status.DECLINED, "participant", "Permanent Mission of Canada", False, ("sent",)),
    (Status.TENTATIVE, "panellist", "IOM", False, ("sent",)),
    (Status.INVITED, "participant", None, False, ("failed",)),
    (Status.INVITED, "observer", "UNAoC", False, ("queued",)),
    (Status.WAITLISTED, "participant", "Permanent Mission of Italy", False, ("sent",)),
    (Status.NOT_INVITED, "participant", "=cmd|' /C calc'!A0", False, ()),
    (Status.INVITED, "moderator", "IOM", False, ("sent", "dropped")),
    (Status.CANCELLED, "participant", "UNAoC", False, ("sent",)),
]

DAY0 = datetime(2027, 9, 1, 14, 30, tzinfo=UTC)


def seed_mix(slug: str = "roundtable", count: int = 37, start: int = 1) -> Seeded:
    """An event with ``count`` invitees in the mix above, replies spread over several days."""
    event_id = add_event(slug, max_guests=2, capacity=100)
    seeded = Seeded(event_id=event_id)
    secret = get_settings().resolved_secret_key()
    with write_session() as session:
        organizations: dict[str, int] = {}
        for index in range(count):
            status, role, organization, attended, states = MIX[index % len(MIX)]
            number = start + index
            contact = make_contact(number)
            organization_id = None
            if organization:
                if organization not in organizations:
                    row = session.exec(
                        select(Organization).where(Organization.name == organization)
                    ).first() or Organization(name=organization)
                    session.add(row)
                    session.flush()
                    assert row.id is not None
                    organizations[organization] = row.id
                organization_id = organizations[organization]
            session.add(contact)
            session.flush()
            assert contact.id is not None
            invited = status != Status.NOT_INVITED
            invitation = Invitation(
                event_id=event_id,
                contact_id=contact.id,
                **invitee_details(
                    number,
                    last_name=f"Person {number:03d}",
                    full_name=f"Guest Person {number:03d}",
                ),
                organization_id=organization_id,
                role=role,
                status=status,
                # a stand-in until the id is known and the real token can be derived
                token_hash=secrets.token_hex(32) if invited else None,
            )
            session.add(invitation)
            session.flush()
            assert invitation.id is not None
            if invited:
                invitation.token_salt = new_salt()
                invitation.token_hash = hash_token(
                    derive_token(secret, invitation.id, invitation.token_salt)
                )
                invitation.invited_at = DAY0 - timedelta(days=3)
            replied_at = DAY0 + timedelta(days=index % 4, hours=index % 5)
            if status in Status.REPLIED:
                invitation.responded_at = replied_at
                invitation.first_replied_at = replied_at
                invitation.guests = 1 if status == Status.ACCEPTED and index % 3 == 0 else 0
                log_times = [replied_at]
                session.add(
                    ReplyLog(
                        invitation_id=invitation.id,
                        at=replied_at,
                        actor="invitee",
                        from_status=Status.INVITED,
                        to_status=status,
                    )
                )
                if index % 7 == 0:  # changed their mind a day later: still one first reply
                    later = replied_at + timedelta(days=1)
                    session.add(
                        ReplyLog(
                            invitation_id=invitation.id,
                            at=later,
                            actor="invitee",
                            from_status=status,
                            to_status=status,
                        )
                    )
                    log_times.append(later)
                seeded.replies[invitation.id] = log_times
            if attended:
                invitation.attended_at = DAY0 + timedelta(days=20)
            session.add(invitation)
            seeded.invitations.append(
                SeededInvitation(
                    id=invitation.id,
                    email=contact.email,
                    status=status,
                    role=role,
                    organization=organization,
                    invited=invited,
                    attended=attended,
                )
            )
            for position, state in enumerate(states):
                kind = "invitation" if position == 0 else "reminder"
                mailing = "invitation" if position == 0 else "reminder:86400@0"
                message = Message(
                    event_id=event_id,
                    invitation_id=invitation.id,
                    kind=kind,
                    mailing=mailing,
                    status=state,
                    attempts=1 if state != "queued" else 0,
                    last_code=550 if state == "failed" else (250 if state == "sent" else None),
                    last_response="5.1.1 <x>: Recipient address rejected: User unknown"
                    if state == "failed"
                    else None,
                )
                session.add(message)
                session.flush()
                assert message.id is not None
                seeded.messages.append(SeededMessage(message.id, invitation.id, state))
    return seeded


def message_rows(invitation_id: int) -> list[Message]:
    with read_session() as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.invitation_id == invitation_id)
                .order_by(col(Message.id))
            ).all()
        )


def random_email() -> str:
    return f"staff-{secrets.token_hex(4)}@un.example.org"


def deliver_queued(
    sink: SmtpSink, *, due_by: datetime | None = None, now: datetime | None = None
) -> list[ReceivedMessage]:
    """Send the queued rows due by ``due_by`` (every one when ``None``) to the SMTP sink, as
    a worker would at ``now``, through the real composer and transport; what arrived this time.
    """
    statement = select(Message.id).where(col(Message.status) == MessageStatus.QUEUED)
    if due_by is not None:
        statement = statement.where(col(Message.due_at) <= due_by)
    with read_session() as session:
        due = [message_id for message_id in session.exec(statement).all() if message_id is not None]
    before = len(sink.messages)
    with open_transport(sink.url) as transport:
        deliver_batch(due, transport, now=now)
    return sink.messages[before:]
