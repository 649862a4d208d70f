"""Sign-in throttling: growing waits per client address and per account, never a lock.

A hard lock after N failures lets anyone lock staff out of their own accounts,
from anywhere, for as long as they keep trying. Here failures are counted
twice, under the client address and under the account's email address (known
or not, so the counts reveal nothing), in the database so that every web
process sees them:

- after ``ADDRESS_FREE`` failures from one client address, each further attempt
  from it must wait ``2**k`` seconds (``k`` the failures beyond the free ones),
  at most ``MAX_WAIT``;
- after ``ACCOUNT_FREE`` failures on one account, the same growing wait applies
  to that account, but only for client addresses that have been failing
  themselves. The real user at an address with a clean record still gets in
  with the right password while someone else guesses from elsewhere; an
  attacker's address gets one free guess before it is held back too.

Failures are forgotten ``FORGET_AFTER`` the last one. A throttled attempt is
refused without counting, so trying harder does not lengthen the wait. Every
attempt, whatever the state (unknown address, disabled account, throttled),
runs one argon2 verification and the same writes, so the answer takes the same
time and says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from roundtable.db import read_session, write_session
from roundtable.people.emails import normalise_email
from roundtable.staff.accounts import hash_password, password_matches
from roundtable.staff.model import LoginThrottle, StaffUser

ADDRESS_FREE = 10
ACCOUNT_FREE = 5
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)
#: keys are stored in a column this wide; longer input is cut (it cannot be an account anyway)
_KEY_LENGTH = 400


class KeyKind(StrEnum):
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Counter:
    """The failures recorded under one key."""

    failures: int = 0
    last_failure_at: datetime | None = None
    wait_until: datetime | None = None

    def current(self, now: datetime) -> Counter:
        """The counter as it stands at ``now``: empty once the failures are forgotten."""
        if self.last_failure_at is None or now - self.last_failure_at >= FORGET_AFTER:
            return Counter()
        return self

    def waiting(self, now: datetime) -> bool:
        return self.wait_until is not None and now < self.wait_until


def wait_after(failures: int, free: int) -> timedelta | None:
    """How long the next attempt must wait after ``failures`` failures, ``free`` of them free."""
    beyond = failures - free
    if beyond <= 0:
        return None
    # 2**k grows past the cap long before k could overflow a timedelta; stop early anyway.
    return min(timedelta(seconds=2 ** min(beyond, 20)), MAX_WAIT)


def throttled(address: Counter, account: Counter, now: datetime) -> bool:
    """Whether an attempt is refused unseen: its address waits, or the account does and the
    address has been failing too (a clean address is never held back by others' failures)."""
    here, there = address.current(now), account.current(now)
    return here.waiting(now) or (there.waiting(now) and here.failures > 0)


def after_failure(counter: Counter, free: int, now: datetime) -> Counter:
    """The counter once one more (unthrottled) failure is recorded."""
    failures = counter.current(now).failures + 1
    wait = wait_after(failures, free)
    return Counter(failures, now, now + wait if wait is not None else None)


# --- sign-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInOutcome:
    """The account that signed in, or ``None``; ``throttled`` is for logs and tests only."""

    user: StaffUser | None
    throttled: bool = False


def address_key(client_address: str | None) -> str:
    return f"{KeyKind.ADDRESS}:{client_address or 'unknown'}"[:_KEY_LENGTH]


def account_key(email: str) -> str:
    address = normalise_email(email) or email.strip().lower()
    return f"{KeyKind.ACCOUNT}:{address}"[:_KEY_LENGTH]


@cache
def _decoy_hash() -> str:
    """A hash to check when there is no account's to check, so every attempt costs the same."""
    return hash_password("decoy password that no account has")


def attempt_sign_in(
    email: str, password: str, client_address: str | None, now: datetime
) -> SignInOutcome:
    """Check a sign-in attempt: the account if it may sign in now, else ``None``.

    Blocking (argon2 and database): call it from a worker thread, not the event loop.
    No transaction is open while the password is hashed.
    """
    keys = (address_key(client_address), account_key(email))
    address = normalise_email(email)
    with read_session() as session:
        user = (
            session.exec(select(StaffUser).where(StaffUser.email == address)).first()
            if address is not None
            else None
        )
        counters = _counters(session, keys)
    held_back = throttled(counters[keys[0]], counters[keys[1]], now)
    usable = user is not None and user.disabled_at is None and user.password_hash
    checked_hash = user.password_hash if usable and user is not None else None
    # Always one verification, whatever the account's state, so every answer takes as long.
    matches = password_matches(checked_hash or _decoy_hash(), password)
    ok = bool(matches and checked_hash and not held_back)
    with write_session() as session:
        if ok:
            assert user is not None
            _forget(session, keys[1])
            _touch_login(session, user, now)
        else:
            _record_failure(session, keys, counted=not held_back, now=now)
    return SignInOutcome(user if ok else None, throttled=held_back)


def _counters(session: Session, keys: tuple[str, str]) -> dict[str, Counter]:
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))).all()
    found = {row.key: Counter(row.failures, row.last_failure_at, row.wait_until) for row in rows}
    return {key: found.get(key, Counter()) for key in keys}


def _record_failure(
    session: Session, keys: tuple[str, str], *, counted: bool, now: datetime
) -> None:
    """Count a failure under both keys; a throttled one only keeps the keys remembered."""
    for key, free in zip(keys, (ADDRESS_FREE, ACCOUNT_FREE), strict=True):
        row = session.exec(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        ).first()
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
        before = Counter(row.failures, row.last_failure_at, row.wait_until)
        after = after_failure(before, free, now) if counted else before.current(now)
        row.failures, row.wait_until = after.failures, after.wait_until
        row.last_failure_at = now
        session.add(row)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # another process inserted the same key just now
            session.expunge(row)
    session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.last_failure_at) < now - FORGET_AFTER)
    )


def _forget(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


def _touch_login(session: Session, user: StaffUser, now: datetime) -> None:
    stored = session.get(StaffUser, user.id)
    if stored is not None:
        stored.last_login_at = now
        session.add(stored)


def clear_account(session: Session, email: str) -> int:
    """Forget an account's failures (an administrator vouches for its owner); rows removed."""
    result = session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.key) == account_key(email))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def failures_by_account(session: Session, now: datetime) -> dict[str, Counter]:
    """Recent failures per account email, for the staff page."""
    prefix = f"{KeyKind.ACCOUNT}:"
    rows = session.exec(
        select(LoginThrottle).where(col(LoginThrottle.key).startswith(prefix))
    ).all()
    counters = {
        row.key.removeprefix(prefix): Counter(
            row.failures, row.last_failure_at, row.wait_until
        ).current(now)
        for row in rows
    }
    return {email: counter for email, counter in counters.items() if counter.failures}
