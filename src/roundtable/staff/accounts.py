"""Staff accounts: creation, passwords (argon2) and API bearer tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from roundtable.errors import InputError, NotFound, Problem
from roundtable.people.emails import normalise_email
from roundtable.staff.model import ROLES, ApiToken, StaffUser
from roundtable.types import utcnow

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_staff(session: Session, email: str, role: str, password: str | None) -> StaffUser:
    """Create an account; the email is normalised and must be new."""
    problems = []
    address = normalise_email(email)
    if address is None:
        problems.append(Problem(f"{email!r} is not an email address", field="email"))
    if role not in ROLES:
        problems.append(
            Problem(f"unknown role {role!r}; use one of {', '.join(ROLES)}", field="role")
        )
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem(
                f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
            )
        )
    if problems:
        raise InputError(problems)
    assert address is not None
    if session.exec(select(StaffUser).where(StaffUser.email == address)).first():
        raise InputError([Problem(f"a staff account for {address} exists already", field="email")])
    user = StaffUser(
        email=address, role=role, password_hash=hash_password(password) if password else None
    )
    session.add(user)
    session.flush()
    return user


def find_staff(session: Session, email: str) -> StaffUser:
    address = normalise_email(email) or email.strip().lower()
    user = session.exec(select(StaffUser).where(StaffUser.email == address)).first()
    if user is None:
        raise NotFound(f"no staff account for {address}")
    return user


#: a token's last use is written at most this often, so API reads do not all become writes
LAST_USE_RESOLUTION = timedelta(minutes=1)


def issue_api_token(
    session: Session, user: StaffUser, *, expires_at: datetime | None = None
) -> str:
    """A new bearer token for ``user``; only its hash is kept, so it is shown once."""
    assert user.id is not None
    token = "rt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(staff_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
    session.flush()
    return token


def token_row(session: Session, token: str, now: datetime) -> tuple[ApiToken, StaffUser] | None:
    """A bearer token's row and account, or ``None`` when the token must not work.

    Unknown, revoked and expired tokens and the tokens of disabled accounts are all
    ``None`` alike: the caller answers each the same way.
    """
    if not token.startswith("rt_") or len(token) > 100:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    user = session.get(StaffUser, row.staff_id)
    if user is None or user.disabled_at is not None:
        return None
    return row, user


def staff_for_token(session: Session, token: str, now: datetime | None = None) -> StaffUser | None:
    """The account a bearer token acts for, or ``None`` (see :func:`token_row`)."""
    found = token_row(session, token, now or utcnow())
    return found[1] if found is not None else None


def needs_use_recorded(row: ApiToken, now: datetime) -> bool:
    return row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION


def record_token_use(session: Session, token_id: int, now: datetime) -> None:
    """Note that a token was used; a no-op when it was noted less than a minute ago.

    The condition is in the UPDATE itself, so concurrent requests write once between them.
    """
    session.execute(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            or_(
                col(ApiToken.last_used_at).is_(None),
                col(ApiToken.last_used_at) <= now - LAST_USE_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
