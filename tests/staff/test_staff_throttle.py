"""Sign-in throttling: growing waits per client address and per account, never a lock that
someone else can hold against the real user; the same work and answer whatever the state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.db import read_session, write_session
from roundtable.staff.lifecycle import disable
from roundtable.staff.model import LoginThrottle, StaffUser
from roundtable.staff.throttle import (
    ACCOUNT_FREE,
    ADDRESS_FREE,
    FORGET_AFTER,
    MAX_WAIT,
    Counter,
    account_key,
    address_key,
    after_failure,
    attempt_sign_in,
    throttled,
    wait_after,
)
from roundtable.types import utcnow
from roundtable.web.app import create_app
from roundtable.web.auth import LOGIN_FAILED
from tests.staff.staff_support import APP_URL, PASSWORD, add_member, log_in

ADMIN = "admin@un.example.org"
ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.7"


def _client_from(address: str) -> TestClient:
    return TestClient(
        create_app(), base_url=APP_URL, follow_redirects=False, client=(address, 40000)
    )


@pytest.fixture
def clients(engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """A browser at an attacker's address and one at the real user's office."""
    with _client_from(ATTACKER) as attacker, _client_from(OFFICE) as office:
        yield attacker, office


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per argon2 verification: whether it ran off the event loop (in a thread)."""
    calls: list[bool] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(_off_the_event_loop())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def _off_the_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def _counter(key: str) -> LoginThrottle | None:
    with read_session() as session:
        return session.get(LoginThrottle, key)


# --- the rules -------------------------------------------------------------------------------


def test_waits_grow_twofold_after_the_free_failures_and_stop_at_the_cap() -> None:
    assert [wait_after(n, 3) for n in (0, 3)] == [None, None]
    assert [wait_after(n, 3) for n in (4, 5, 6, 7)] == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert wait_after(3 + 50, 3) == MAX_WAIT
    assert wait_after(10**9, 3) == MAX_WAIT  # no overflow however many


def test_an_accounts_wait_holds_back_only_addresses_that_have_been_failing_themselves() -> None:
    now = utcnow()
    account = Counter()
    for _ in range(ACCOUNT_FREE + 3):
        account = after_failure(account, ACCOUNT_FREE, now)
    assert account.waiting(now)

    assert not throttled(Counter(), account, now)  # a clean address gets in
    failing_address = after_failure(Counter(), ADDRESS_FREE, now)
    assert throttled(failing_address, account, now)
    assert not throttled(failing_address, account, account.wait_until or now)  # wait over


def test_failures_are_forgotten_a_day_after_the_last() -> None:
    now = utcnow()
    counter = Counter()
    for _ in range(ADDRESS_FREE + 5):
        counter = after_failure(counter, ADDRESS_FREE, now)
    assert throttled(counter, Counter(), now)
    later = now + FORGET_AFTER
    assert counter.current(later) == Counter()
    assert after_failure(counter, ADDRESS_FREE, later).failures == 1


# --- through the login form --------------------------------------------------------------------


def test_guessing_from_elsewhere_never_keeps_the_real_user_out(
    clients: tuple[TestClient, TestClient],
) -> None:
    attacker, office = clients
    add_member(ADMIN, "admin")

    for _ in range(ACCOUNT_FREE + 1):
        assert LOGIN_FAILED in log_in(attacker, ADMIN, "guess").text
    row = _counter(account_key(ADMIN))
    assert row is not None and row.wait_until is not None and row.wait_until > utcnow()

    # Even the right password from the guessing address waits, with the usual answer...
    refused = log_in(attacker, ADMIN, PASSWORD)
    assert refused.status_code == 200
    assert LOGIN_FAILED in refused.text
    # ...and trying while held back does not lengthen the wait.
    after = _counter(account_key(ADMIN))
    assert after is not None and after.wait_until == row.wait_until
    assert after.failures == row.failures

    # The real user, from an address that has not been failing, signs in at once.
    assert log_in(office, ADMIN, PASSWORD).status_code == 303
    assert _counter(account_key(ADMIN)) is None  # success forgets the account's failures


def test_one_address_guessing_across_accounts_is_held_back_everywhere(
    clients: tuple[TestClient, TestClient],
) -> None:
    attacker, office = clients
    add_member(ADMIN, "admin")

    for n in range(ADDRESS_FREE + 1):
        assert LOGIN_FAILED in log_in(attacker, f"someone{n}@un.example.org", "guess").text
    assert _counter(address_key(ATTACKER)) is not None

    assert LOGIN_FAILED in log_in(attacker, ADMIN, PASSWORD).text
    assert log_in(office, ADMIN, PASSWORD).status_code == 303


def test_a_wait_runs_out_by_itself_no_lock_to_lift(sqlite_engine: Engine) -> None:
    """With explicit instants: once the wait is over the right password works again."""
    add_member(ADMIN, "admin")
    now = utcnow()
    for _ in range(ACCOUNT_FREE + 1):
        assert attempt_sign_in(ADMIN, "guess", ATTACKER, now).user is None
    held = attempt_sign_in(ADMIN, PASSWORD, ATTACKER, now + timedelta(seconds=1))
    assert held.user is None and held.throttled
    row = _counter(account_key(ADMIN))
    assert row is not None and row.wait_until == now + timedelta(seconds=2)

    later = attempt_sign_in(ADMIN, PASSWORD, ATTACKER, now + timedelta(seconds=2))
    assert later.user is not None and later.user.email == ADMIN
    with read_session() as session:
        stored = session.get(StaffUser, later.user.id)
        assert stored is not None and stored.last_login_at == now + timedelta(seconds=2)


def test_every_failed_attempt_runs_one_password_hash_off_the_event_loop(
    clients: tuple[TestClient, TestClient], verifications: list[bool]
) -> None:
    attacker, office = clients
    add_member(ADMIN, "admin")
    add_member("viewer@un.example.org", "viewer")
    with write_session() as session:
        disable(session, "viewer@un.example.org", utcnow())

    # a normal account's failed attempt, an unknown address, a malformed one, a disabled account
    for email, password in (
        (ADMIN, "guess"),
        ("nobody@un.example.org", PASSWORD),
        ("not an address", PASSWORD),
        ("viewer@un.example.org", PASSWORD),
    ):
        before = len(verifications)
        assert LOGIN_FAILED in log_in(office, email, password).text
        assert len(verifications) == before + 1, email

    # a throttled account's attempt (right password, held back) hashes all the same
    for _ in range(ACCOUNT_FREE + 1):
        log_in(attacker, ADMIN, "guess")
    before = len(verifications)
    assert LOGIN_FAILED in log_in(attacker, ADMIN, PASSWORD).text
    assert len(verifications) == before + 1
    assert verifications and all(verifications), "argon2 ran on the event loop"
