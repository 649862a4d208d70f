"""Staff accounts: creation, passwords (argon2) and API bearer tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from roundtable.errors import InputError, NotFound, Problem
from roundtable.people.emails import normalise_email
from roundtable.staff.model import ROLES, ApiToken, StaffUser

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


def issue_api_token(session: Session, user: StaffUser) -> str:
    """A new bearer token for ``user``; only its hash is kept, so it is shown once."""
    assert user.id is not None
    token = "rt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(staff_id=user.id, token_hash=_token_hash(token)))
    session.flush()
    return token


def staff_for_token(session: Session, token: str, now: datetime | None = None) -> StaffUser | None:
    """The account a bearer token belongs to, or ``None`` for unknown or revoked tokens."""
    if not token.startswith("rt_") or len(token) > 100:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    return session.get(StaffUser, row.staff_id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
