"""Managing staff accounts from the dashboard: create, grant and revoke events, unlock.

Administrators only; each function checks that and acts in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, select

from roundtable.db import read_session, write_session
from roundtable.errors import NotFound
from roundtable.events.model import Event
from roundtable.staff.accounts import add_staff
from roundtable.staff.model import EventGrant, StaffUser
from roundtable.staff.permissions import StaffMember, require_admin

T = TypeVar("T")


@dataclass(frozen=True)
class StaffOverview:
    """The staff page: every account, every event, and who was granted what."""

    users: list[StaffUser]
    events: list[Event]
    granted: dict[int, list[Event]]


def staff_overview(member: StaffMember) -> StaffOverview:
    require_admin(member)
    with read_session() as session:
        users = list(session.exec(select(StaffUser).order_by(col(StaffUser.email))).all())
        events = list(session.exec(select(Event).order_by(col(Event.starts_at))).all())
        grants = session.exec(select(EventGrant.staff_id, EventGrant.event_id)).all()
    by_id = {event.id: event for event in events}
    granted: dict[int, list[Event]] = {}
    for staff_id, event_id in grants:
        granted.setdefault(staff_id, []).append(by_id[event_id])
    return StaffOverview(users=users, events=events, granted=granted)


def add_staff_account(member: StaffMember, email: str, role: str, password: str | None) -> int:
    """Create an account (``InputError`` lists what is wrong); return its id."""
    require_admin(member)
    with write_session() as session:
        user = add_staff(session, email, role, password)
        assert user.id is not None
        return user.id


def grant_event(member: StaffMember, staff_id: int, slug: str) -> None:
    """Let account ``staff_id`` manage event ``slug``; granting twice changes nothing."""
    require_admin(member)
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        event = session.exec(select(Event).where(Event.slug == slug)).first()
        if user is None or event is None or event.id is None:
            raise NotFound("no such account or event")
        exists = session.exec(
            select(EventGrant).where(
                EventGrant.staff_id == staff_id, EventGrant.event_id == event.id
            )
        ).first()
        if exists is None:
            session.add(EventGrant(staff_id=staff_id, event_id=event.id))


def revoke_grant(member: StaffMember, staff_id: int, event_id: int) -> None:
    """Take event ``event_id`` from account ``staff_id``; a grant that is not there is gone."""
    require_admin(member)
    with write_session() as session:
        grant = session.exec(
            select(EventGrant).where(
                EventGrant.staff_id == staff_id, EventGrant.event_id == event_id
            )
        ).first()
        if grant is not None:
            session.delete(grant)


def unlock_account(member: StaffMember, staff_id: int) -> None:
    """Lift a lockout after failed sign-ins."""
    require_admin(member)
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise NotFound("no such account")
        user.failed_logins = 0
        user.locked_until = None
        session.add(user)


def change_account(
    member: StaffMember, staff_id: int, change: Callable[[Session, StaffUser], T]
) -> T:
    """Run ``change`` on the account ``staff_id`` in one transaction, for an administrator.

    The life-cycle steps (grant, revoke tokens, disable, set a password…) are the
    functions of :mod:`roundtable.staff.lifecycle`; this is where who may take them is checked.
    """
    require_admin(member)
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise NotFound("no such account")
        return change(session, user)
