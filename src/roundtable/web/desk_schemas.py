"""The JSON shapes of the organizer's desk in the API: group messages, the nudge, cancelling."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

#: who a message may be for; "invited" is the invited who have not replied
AudienceStatus = Literal["accepted", "tentative", "declined", "waitlisted", "invited"]
Role = Literal["participant", "speaker", "panellist", "moderator", "observer"]
Language = Literal["en", "fr", "es", "ar", "zh", "ru"]


class _Strict(BaseModel):
    """Unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


class MessageVersionIn(_Strict):
    """The message in one language."""

    subject: str = Field(min_length=1, max_length=200, examples=["Logistics for Thursday"])
    body: str = Field(min_length=1, max_length=100_000, examples=["Doors open at **12:45**."])


class GroupMessageIn(_Strict):
    """A message to the invitees chosen by reply, role, organization and attendance."""

    subject: str = Field(min_length=1, max_length=200, examples=["Logistics for Thursday"])
    body: str = Field(
        min_length=1,
        max_length=100_000,
        description="Markdown. Each copy opens with the invitee's salutation and ends with "
        "the event's details and the usual footer.",
        examples=["Doors open at **12:45**; please bring an identity document."],
    )
    to: list[AudienceStatus] = Field(
        min_length=1, max_length=5, examples=[["accepted", "tentative"]]
    )
    translations: dict[Language, MessageVersionIn] = Field(
        default_factory=dict,
        description="Readers of a language listed here get its version, others the default.",
    )
    roles: list[Role] = Field(default_factory=list, max_length=5, description="Only these roles.")
    organizations: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=500, description="Only invitees of these organizations."
    )
    attendance: Literal["", "attended", "absent"] = Field(
        "", description="Only those checked in at the door, or only those who were not."
    )


class GroupMessageOut(BaseModel):
    """The message recorded, and how many copies were queued."""

    id: int = Field(description="The message, as its history lists it.")
    queued: int = Field(examples=[118])


class NudgeOut(BaseModel):
    """How many nudges were queued, and why none when none were."""

    queued: int = Field(examples=[37])
    reason: str = Field("", description="Why nothing was queued, when nothing was.")


class CancelIn(_Strict):
    """Cancelling an event, with a word to the invitees."""

    note: str = Field(
        "",
        max_length=5_000,
        description="A word from the organizers, shown in every cancellation.",
        examples=["The meeting will be rescheduled; a new invitation will follow."],
    )


class CancelOut(BaseModel):
    """The event is cancelled: cancellations queued, pending mail dropped."""

    cancelled: bool
    cancellations_queued: int
    messages_dropped: int


class RecommendationsIn(_Strict):
    """The recommendations that came out of the meeting."""

    text: str = Field(min_length=1, max_length=200_000, description="Markdown.")


class PublishOut(BaseModel):
    """The follow-up mailing, scheduled."""

    followups_scheduled: int
    due_at: str = Field(description="When the follow-up goes out (ISO 8601).")


class ResendOut(BaseModel):
    """The new copy of a failed message."""

    id: int = Field(description="The new copy's id in the outbox.")
