"""One typed context per kind of message: what a producer writes, the composer reads back.

Every kind has its parser; a key one side writes and the other does not know is an error
when the row is queued, never a mail that silently says less (docs/architecture.md, "Mail").
"""

from __future__ import annotations

from typing import Any

import pytest

from roundtable.mail.kinds import (
    PARSERS,
    CancellationContext,
    ConfirmationContext,
    FieldChange,
    GroupMessageContext,
    InvitationContext,
    PromotionContext,
    SequenceContext,
    UpdateContext,
    check_context,
)
from roundtable.mail.model import MessageKind

WRITTEN: dict[MessageKind, Any] = {
    MessageKind.INVITATION: InvitationContext(3, representative_of=41),
    MessageKind.UPDATE: UpdateContext(
        4, (FieldChange("room", "Conference Room 6", "Conference Room 4"),), "Coffee at 13:00."
    ),
    MessageKind.CANCELLATION: CancellationContext(5, "Postponed to the spring.", withdrawn=True),
    MessageKind.CONFIRMATION: ConfirmationContext("accepted", guests=1),
    MessageKind.PROMOTION: PromotionContext(guests=2),
    MessageKind.REMINDER: SequenceContext(2),
    MessageKind.NUDGE: SequenceContext(2),
    MessageKind.FOLLOWUP: SequenceContext(2),
    MessageKind.MESSAGE: GroupMessageContext(
        "Logistics", "Doors open at **12:45**.", {"fr": {"subject": "Logistique", "body_md": "…"}}
    ),
}


def test_every_kind_has_a_typed_context() -> None:
    assert set(PARSERS) == set(MessageKind) == set(WRITTEN)


@pytest.mark.parametrize("kind", sorted(MessageKind))
def test_the_composer_reads_back_what_the_producer_wrote(kind: MessageKind) -> None:
    written = WRITTEN[kind]
    assert PARSERS[kind](written.to_json()) == written


@pytest.mark.parametrize("kind", sorted(MessageKind))
def test_a_key_the_composer_does_not_read_is_refused(kind: MessageKind) -> None:
    context = {**WRITTEN[kind].to_json(), "changed": ["room"]}
    if kind == MessageKind.UPDATE:
        context = {**WRITTEN[kind].to_json(), "chnages": []}
    with pytest.raises(ValueError, match="unknown key"):
        check_context(kind, context)
