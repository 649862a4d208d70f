"""Signing staff in and out: throttled password checks, and voiding old sessions.

The web layer keeps the cookies; what an attempt does (the growing delays per
client address and per account, the argon2 check run for every attempt alike) is
decided by :mod:`roundtable.staff.throttle`, in the transaction that reads the account.
"""

from __future__ import annotations

from datetime import datetime

from roundtable.db import read_session, write_session
from roundtable.staff.accounts import needs_use_recorded, record_token_use, token_row
from roundtable.staff.model import StaffUser
from roundtable.staff.permissions import StaffMember, member_of
from roundtable.staff.throttle import attempt_sign_in


def authenticate(
    email: str, password: str, client_address: str | None, now: datetime
) -> StaffMember | None:
    """The member whose address and password these are, if the account may sign in now.

    Blocking (argon2, database): async handlers run it in a worker thread.
    """
    outcome = attempt_sign_in(email, password, client_address, now)
    if outcome.user is None:
        return None
    with read_session() as session:
        return member_of(session, outcome.user)


def end_sessions(staff_id: int, now: datetime) -> None:
    """Sign the account out everywhere: every session cookie issued until now is void."""
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is not None:
            user.sessions_valid_after = now
            session.add(user)


def member_for_token(token: str, now: datetime) -> StaffMember | None:
    """The member a live bearer token acts for (not expired, revoked or of a disabled account).

    Its last use is recorded, at most once a minute, so that reads do not all become writes.
    """
    with read_session() as session:
        found = token_row(session, token, now)
        member = member_of(session, found[1]) if found is not None else None
    if found is None or member is None:
        return None
    token_record = found[0]
    if token_record.id is not None and needs_use_recorded(token_record, now):
        with write_session() as session:
            record_token_use(session, token_record.id, now)
    return member
