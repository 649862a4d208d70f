"""What an administrator does to staff accounts over time: grants, tokens, disabling, passwords.

The command line and the dashboard's staff page both call these, each inside one
write transaction of the caller's. Whatever ends someone's access ends all of it
at once: disabling an account voids its sessions and its tokens answer 401;
revoking tokens revokes every token of the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from roundtable.errors import InputError, Problem
from roundtable.events.model import Event
from roundtable.events.spec import SLUG
from roundtable.people.emails import normalise_email
from roundtable.staff.accounts import MIN_PASSWORD_LENGTH, hash_password
from roundtable.staff.model import ApiToken, EventGrant, StaffUser
from roundtable.staff.throttle import clear_account


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class TokenInfo:
    id: int
    state: TokenState
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
            "expires_at": _iso(self.expires_at),
        }


@dataclass(frozen=True)
class AccountInfo:
    """One account as the staff list shows it."""

    id: int
    email: str
    role: str
    disabled: bool
    grants: tuple[str, ...]
    last_login_at: datetime | None
    tokens: tuple[TokenInfo, ...] = field(default=())

    @property
    def active_tokens(self) -> int:
        return sum(1 for token in self.tokens if token.state is TokenState.ACTIVE)

    @property
    def last_token_use(self) -> datetime | None:
        return max((t.last_used_at for t in self.tokens if t.last_used_at), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "role": self.role,
            "disabled": self.disabled,
            "grants": list(self.grants),
            "tokens": {"active": self.active_tokens, "total": len(self.tokens)},
            "last_login_at": _iso(self.last_login_at),
            "last_token_use_at": _iso(self.last_token_use),
        }


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def token_state(token: ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return TokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def list_accounts(session: Session, now: datetime) -> list[AccountInfo]:
    """Every account by email, with its grants (event slugs) and its tokens."""
    users = session.exec(select(StaffUser).order_by(col(StaffUser.email))).all()
    grants: dict[int, list[str]] = {}
    for staff_id, slug in session.exec(
        select(EventGrant.staff_id, Event.slug)
        .join(Event, col(Event.id) == col(EventGrant.event_id))
        .order_by(col(Event.slug))
    ).all():
        grants.setdefault(staff_id, []).append(slug)
    tokens: dict[int, list[TokenInfo]] = {}
    for token in session.exec(select(ApiToken).order_by(col(ApiToken.id))).all():
        assert token.id is not None
        tokens.setdefault(token.staff_id, []).append(
            TokenInfo(
                token.id,
                token_state(token, now),
                token.created_at,
                token.last_used_at,
                token.expires_at,
            )
        )
    accounts = []
    for user in users:
        assert user.id is not None
        accounts.append(
            AccountInfo(
                id=user.id,
                email=user.email,
                role=user.role,
                disabled=user.disabled_at is not None,
                grants=tuple(grants.get(user.id, ())),
                last_login_at=user.last_login_at,
                tokens=tuple(tokens.get(user.id, ())),
            )
        )
    return accounts


def account(session: Session, email: str) -> StaffUser:
    """The account ``email`` names; bad input naming the field when there is none."""
    address = normalise_email(email) or email.strip().lower()
    user = session.exec(select(StaffUser).where(StaffUser.email == address)).first()
    if user is None:
        raise InputError([Problem(f"no staff account for {address!r}", field="email")])
    return user


def _event(session: Session, slug: str) -> Event:
    found = (
        session.exec(select(Event).where(Event.slug == slug)).first()
        if SLUG.fullmatch(slug)
        else None
    )
    if found is None:
        raise InputError([Problem(f"no event with slug {slug!r}", field="slug")])
    return found


def grant(session: Session, email: str, slug: str) -> bool:
    """Let the account manage the event; ``False`` when it could already."""
    user, event = account(session, email), _event(session, slug)
    if _grant_row(session, user, event) is not None:
        return False
    assert user.id is not None and event.id is not None
    session.add(EventGrant(staff_id=user.id, event_id=event.id))
    session.flush()
    return True


def ungrant(session: Session, email: str, slug: str) -> bool:
    """Take the event away from the account; ``False`` when it was not granted."""
    user, event = account(session, email), _event(session, slug)
    row = _grant_row(session, user, event)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _grant_row(session: Session, user: StaffUser, event: Event) -> EventGrant | None:
    return session.exec(
        select(EventGrant).where(EventGrant.staff_id == user.id, EventGrant.event_id == event.id)
    ).first()


def revoke_tokens(session: Session, email: str, now: datetime) -> int:
    """Revoke every API token of the account at once; how many were still unrevoked."""
    user = account(session, email)
    result = session.execute(
        update(ApiToken)
        .where(col(ApiToken.staff_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def disable(session: Session, email: str, now: datetime) -> bool:
    """No sign-in, no token, every session ended; ``False`` when it was disabled already."""
    user = account(session, email)
    if user.disabled_at is not None:
        return False
    user.disabled_at = now
    user.sessions_valid_after = now
    session.add(user)
    return True


def enable(session: Session, email: str) -> bool:
    """Undo :func:`disable` (sessions ended then stay ended); ``False`` when not disabled."""
    user = account(session, email)
    if user.disabled_at is None:
        return False
    user.disabled_at = None
    session.add(user)
    return True


def set_password(session: Session, email: str, password: str, now: datetime) -> StaffUser:
    """A new password: sessions signed in with the old one end, past failures are forgotten."""
    user = account(session, email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            [
                Problem(
                    f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                    field="password",
                )
            ]
        )
    user.password_hash = hash_password(password)
    user.sessions_valid_after = now
    session.add(user)
    clear_account(session, user.email)
    return user
