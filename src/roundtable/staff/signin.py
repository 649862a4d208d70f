"""Signing staff in and out: password checks with a lockout, and voiding old sessions.

The web layer keeps the cookies; what an attempt does to the account (counting
failures, locking, the decoy check for unknown addresses) is decided here, in the
transaction that reads the account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlmodel import select

from roundtable.db import write_session
from roundtable.people.emails import normalise_email
from roundtable.staff.accounts import hash_password, password_matches
from roundtable.staff.model import StaffUser
from roundtable.staff.permissions import StaffMember, member_of

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginState:
    """The lockout counters of an account, as stored on it."""

    failed_logins: int
    locked_until: datetime | None


def after_attempt(state: LoginState, password_ok: bool, now: datetime) -> tuple[bool, LoginState]:
    """Whether a sign-in attempt succeeds, and the counters to store after it.

    While locked, even the right password is refused and the attempt is not
    counted. Once a lock has run out, counting starts again from zero. The
    ``MAX_FAILED_LOGINS``-th wrong password in a row locks the account for ``LOCKOUT``.
    """
    if state.locked_until is not None and now < state.locked_until:
        return False, state
    failed = 0 if state.locked_until is not None else state.failed_logins
    if password_ok:
        return True, LoginState(failed_logins=0, locked_until=None)
    failed += 1
    if failed >= MAX_FAILED_LOGINS:
        return False, LoginState(failed_logins=failed, locked_until=now + LOCKOUT)
    return False, LoginState(failed_logins=failed, locked_until=None)


@cache
def _decoy_hash() -> str:
    """A hash to check unknown addresses against, so they take as long as known ones."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(email: str, password: str, now: datetime) -> StaffMember | None:
    """The member whose address and password these are, if the account may sign in now."""
    address = normalise_email(email)
    with write_session() as session:
        user = None
        if address is not None:
            user = session.exec(
                select(StaffUser).where(StaffUser.email == address).with_for_update()
            ).first()
        if user is None:
            password_matches(_decoy_hash(), password)
            return None
        state = LoginState(user.failed_logins, user.locked_until)
        locked = state.locked_until is not None and now < state.locked_until
        # A locked account is not even checked: guessing during the lock learns nothing.
        ok = not locked and password_matches(user.password_hash, password)
        allowed, new_state = after_attempt(state, ok, now)
        if new_state != state:
            user.failed_logins = new_state.failed_logins
            user.locked_until = new_state.locked_until
            session.add(user)
        return member_of(session, user) if allowed else None


def end_sessions(staff_id: int, now: datetime) -> None:
    """Sign the account out everywhere: every session cookie issued until now is void."""
    with write_session() as session:
        user = session.get(StaffUser, staff_id)
        if user is not None:
            user.sessions_valid_after = now
            session.add(user)
