"""Check-in codes: what an invitee's QR code at the door carries.

The code is derived, not stored: ``{invitation id}-{HMAC(secret key, "checkin:" id)}``
shortened to 16 URL-safe characters. It differs from the RSVP token (another
HMAC message, no salt), so a photographed badge or QR code does not let anyone
reply in the invitee's name; and the page it opens asks for a staff login
(docs/architecture.md, "At the door").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_CODE = re.compile(r"([1-9][0-9]{0,9})-([A-Za-z0-9_-]{16})")


def checkin_code(secret_key: str, invitation_id: int) -> str:
    """The invitation's check-in code: the same for the same secret and id."""
    return f"{invitation_id}-{_mac(secret_key, invitation_id)}"


def invitation_id_of(secret_key: str, code: str) -> int | None:
    """The invitation a code names, or ``None`` when it is not a code this key made."""
    found = _CODE.fullmatch(code)
    if found is None:
        return None
    invitation_id = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _mac(secret_key, invitation_id)):
        return None
    return invitation_id


def _mac(secret_key: str, invitation_id: int) -> str:
    digest = hmac.new(
        secret_key.encode("utf-8"), f"checkin:{invitation_id}".encode("ascii"), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:16]
