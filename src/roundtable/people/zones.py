"""An invitee's own time zone, as stored on the contact."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def own_zone(name: str | None) -> ZoneInfo | None:
    """The invitee's zone; none given or an unknown name counts as none (show the venue's)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
