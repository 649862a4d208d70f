"""The representative an invitee named, as they typed the name: what their page shows back.

Naming, replacing and withdrawing representatives writes invitations and mail, so it
is a workflow (:mod:`roundtable.workflows.representatives`); here is only the reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from roundtable.invitations.model import Invitation, RepresentativeNaming


@dataclass(frozen=True)
class NamedRepresentative:
    """The representative as the invitee typed them: what their page shows back."""

    name: str
    email: str

    @property
    def display_name(self) -> str:
        return self.name


def named_representative(session: Session, invitation: Invitation) -> NamedRepresentative | None:
    """The current representative of ``invitation``, with the name its invitee typed."""
    if invitation.represented_by_id is None or invitation.id is None:
        return None
    naming = session.exec(
        select(RepresentativeNaming)
        .where(
            RepresentativeNaming.invitation_id == invitation.id,
            RepresentativeNaming.representative_id == invitation.represented_by_id,
        )
        .order_by(col(RepresentativeNaming.named_at).desc())
    ).first()
    return NamedRepresentative(naming.name, naming.email) if naming else None
