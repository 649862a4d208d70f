"""Whether a calendar reply may be believed: ``Authentication-Results`` of our own server only.

Anyone can send a REPLY "from" an ambassador. The receiving server checks DKIM
and DMARC and writes what it found into an ``Authentication-Results`` header
(RFC 8601) under its authserv-id; a sender can write such headers too, so only
those of the configured authserv-id count (the receiving server removes forged
ones with its own id, see README, "Hearing back").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_PAIR = re.compile(r"([A-Za-z][\w.-]*)\s*=\s*(\"[^\"]*\"|[^\s;]+)")


@dataclass(frozen=True)
class AuthResult:
    """One method's verdict in one ``Authentication-Results`` header."""

    #: which header it came from, counting from the top (0 is the newest)
    header: int
    authserv_id: str
    method: str
    result: str
    #: ``header.d``, ``header.from``, ``header.i``…, lower case
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, name: str) -> str:
        return next((value for key, value in self.properties if key == name), "")


def auth_results(headers: Iterable[object]) -> tuple[AuthResult, ...]:
    """Every verdict of every header, in the order the headers appear."""
    results: list[AuthResult] = []
    for number, header in enumerate(headers):
        text = _COMMENT.sub(" ", " ".join(str(header).split()))
        authserv, _, rest = text.partition(";")
        words = authserv.split()
        if not words:
            continue
        authserv_id = words[0].lower()
        for resinfo in rest.split(";"):
            pairs = [
                (key.lower(), value.strip('"').lower()) for key, value in _PAIR.findall(resinfo)
            ]
            if pairs:
                method, result = pairs[0]
                results.append(AuthResult(number, authserv_id, method, result, tuple(pairs[1:])))
    return tuple(results)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def authentic(results: Iterable[AuthResult], authserv_id: str | None, sender: str) -> bool:
    """``dmarc=pass`` for the sender's domain, or ``dkim=pass`` signed by it, from our server.

    Only the first header of our authserv-id counts: the receiving server adds its
    own on top, and one further down was written before it (by the sender).
    """
    if not authserv_id or not sender:
        return False
    ours = authserv_id.strip().lower()
    domain = domain_of(sender)
    mine = [result for result in results if result.authserv_id == ours]
    if not mine:
        return False
    top = min(result.header for result in mine)
    for result in (result for result in mine if result.header == top):
        if result.result != "pass":
            continue
        if result.method == "dmarc" and result.prop("header.from") in ("", domain):
            return True
        if result.method == "dkim" and result.prop("header.d") == domain:
            return True
    return False
