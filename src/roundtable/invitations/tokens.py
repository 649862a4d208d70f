"""RSVP link tokens: unguessable, stored only as a hash, re-derivable for later mail.

A token is HMAC-SHA256(secret key, invitation id and a random per-invitation salt):
32 pseudo-random bytes, URL-safe. The database keeps the salt and the SHA-256 of
the token, never the token itself, so a copy of the database opens no invitation.
Workers re-derive the token when they render a reminder days later; revoking a
link is giving the invitation a new salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32


def new_salt() -> str:
    return secrets.token_hex(16)


def derive_token(secret_key: str, invitation_id: int, salt: str) -> str:
    """The invitation's token: the same for the same secret, id and salt."""
    digest = hmac.new(
        secret_key.encode("utf-8"), f"rsvp:{invitation_id}:{salt}".encode("ascii"), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    """What the database stores and looks up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(candidate: str) -> bool:
    """Cheap shape check before touching the database (43 URL-safe base64 characters)."""
    return _TOKEN_SHAPE.fullmatch(candidate) is not None


_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
