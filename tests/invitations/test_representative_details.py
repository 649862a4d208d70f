"""A representative named on the RSVP form gets their details on their own invitation only."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from roundtable.invitations.rsvp import Reply
from roundtable.types import utcnow
from roundtable.workflows.replies import record_reply
from tests.invitations.rsvp_support import add_event, invitation, invite


def test_a_representative_known_to_another_event_keeps_that_events_details(
    engine: Engine,
) -> None:
    ours = add_event("ours")
    theirs = add_event("theirs", uid="theirs-uid@roundtable.test")
    elsewhere, _ = invite(
        theirs, 5, full_name="Ana Lima", first_name="Ana", last_name="Lima", language="es"
    )
    original, _ = invite(ours, 1, language="fr", timezone="Europe/Paris")

    result = record_reply(
        original,
        Reply("decline", substitute_name="A. Lima, deputy", substitute_email="guest5@example.org"),
        actor="invitee",
        now=utcnow(),
    )

    assert result.representative_invitation_id is not None
    substitute = invitation(result.representative_invitation_id)
    assert (substitute.display_name, substitute.language, substitute.timezone) == (
        "A. Lima, deputy",
        "fr",
        "Europe/Paris",
    )
    theirs_invitation = invitation(elsewhere)
    assert (theirs_invitation.display_name, theirs_invitation.language) == ("Dr. Ana Lima", "es")
