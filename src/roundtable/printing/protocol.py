"""Protocol order: who comes first on a badge sheet and at a table.

Excellencies first (H.E., and the same title as typed in the other five
languages), then by role (:data:`ROLE_PRECEDENCE`), then by family name and full
name. An organizer may name invitees to put first, in their own order; the rest
follow in protocol order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roundtable.mail.context import honorific_form

#: the roles in the order protocol seats them
ROLE_PRECEDENCE = ("moderator", "speaker", "panellist", "participant", "observer")

#: "Excellency" as an honorific is typed in the other languages of the house
_EXCELLENCY_WORDS = (
    "son excellence",
    "s.e.",
    "su excelencia",
    "s.e",
    "ваше превосходительство",
    "его превосходительство",
    "ее превосходительство",
    "её превосходительство",
    "превосходительство",
    "سعادة",
    "معالي",
    "فخامة",
    "阁下",
    "閣下",
)


@dataclass(frozen=True)
class Card:
    """One invitee as printed: each field in the script it was typed in."""

    email: str
    honorific: str
    full_name: str
    last_name: str
    position: str
    organization: str
    role: str
    language: str


def is_excellency(honorific: str) -> bool:
    """Whether the honorific is an "Excellency" in any of the six languages."""
    if honorific_form(honorific).startswith("excellency"):
        return True
    lowered = honorific.casefold()
    return any(word in lowered for word in _EXCELLENCY_WORDS)


def protocol_key(card: Card) -> tuple[int, int, str, str]:
    role = (
        ROLE_PRECEDENCE.index(card.role) if card.role in ROLE_PRECEDENCE else len(ROLE_PRECEDENCE)
    )
    name = card.last_name or card.full_name
    return (
        0 if is_excellency(card.honorific) else 1,
        role,
        name.casefold(),
        card.full_name.casefold(),
    )


def protocol_order(cards: Sequence[Card], first: Sequence[str] = ()) -> list[Card]:
    """``cards`` in protocol order, the addresses in ``first`` ahead of all in that order."""
    wanted = {address.strip().lower(): n for n, address in enumerate(first) if address.strip()}
    chosen = sorted((c for c in cards if c.email in wanted), key=lambda c: wanted[c.email])
    rest = sorted((c for c in cards if c.email not in wanted), key=protocol_key)
    return chosen + rest
