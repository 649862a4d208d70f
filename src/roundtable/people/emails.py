"""Email addresses as Roundtable accepts them: sound, simple, normalised to lower case."""

from __future__ import annotations

import re

MAX_LENGTH = 254

_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable address, or ``None`` when it is."""
    address = value.strip()
    if not address:
        return "is empty"
    if len(address) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in address):
        return "contains spaces or control characters"
    if address.count("@") != 1:
        return f"{address!r} is not an email address (it needs exactly one @)"
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        return f"{address!r} has an invalid part before the @"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return f"{address!r} has misplaced dots before the @"
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{address!r} has an invalid domain"
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return f"{address!r} has an invalid domain"
    if labels[-1].isdigit():
        return f"{address!r} has an invalid domain"
    if len(local) + 1 + len(ascii_domain) > MAX_LENGTH:
        # IDNA makes a domain longer ("ü" becomes "xn--tda"): the stored form must fit too.
        return f"{address!r} is longer than {MAX_LENGTH} characters once its domain is encoded"
    return None


def normalise_email(value: str) -> str | None:
    """The address in the form we store (lower case, IDNA domain), or ``None`` if invalid."""
    if email_problem(value) is not None:
        return None
    local, domain = value.strip().split("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}".lower()
