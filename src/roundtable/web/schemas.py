"""The shapes of the organizer API (``/api/v1``), as documented at ``/openapi.json``.

An event travels as the JSON twin of its TOML file (docs/interfaces.md, "Event file"):
the same keys,
the same values, times as local wall-clock strings at the venue, durations as
``"7d"``. The API checks the mapping with the very reader that checks files
(``events.spec.parse_event_mapping``); invitees likewise go through the invitee
file's checks on mappings (``invitations.invitee_file.parse_invitee_mappings``). So a
file and a request are accepted or refused for the same reasons, with the same messages.
The TOML writer (:meth:`EventDocument.to_toml_text`) only serves the event's export.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from roundtable.errors import Problem
from roundtable.events.model import AgendaItem, Event
from roundtable.events.spec_export import event_mapping, event_toml

Response = Literal["accept", "decline", "tentative"]

#: how problems name what the client sent
BODY = "request body"

#: what a path's ``{slug}`` may be: what the event file allows
SLUG_PATTERN = r"^[a-z0-9-]{1,100}$"


class _Strict(BaseModel):
    """Unknown keys are an error, as in the event file."""

    model_config = ConfigDict(extra="forbid")


# --- errors --------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """Every error the API answers: a sentence that says what went wrong."""

    detail: str = Field(description="What went wrong.", examples=["no event with slug 'x'"])


class ProblemOut(BaseModel):
    """One thing wrong with the input, located as precisely as possible."""

    message: str = Field(description="What is wrong.", examples=["is required"])
    field: str | None = Field(
        None,
        description="Where: a dotted key as in the file (``organizer.email``, "
        "``agenda[2].time``) or ``invitees[3].email`` for a row of a bulk import.",
        examples=["organizer.email"],
    )
    line: int | None = Field(
        None, description="Line of the uploaded file, when the input was a file.", examples=[12]
    )
    source: str | None = Field(
        None, description="The file or body at fault.", examples=["request body"]
    )


class InputErrorBody(BaseModel):
    """Input that cannot be taken: every problem is listed, and nothing was written."""

    detail: str = Field(description="A summary.", examples=["2 problems; nothing was written"])
    problems: list[ProblemOut] = Field(description="Every problem found, not just the first.")


def problems_out(problems: list[Problem]) -> list[ProblemOut]:
    return [
        ProblemOut(
            message=problem.message,
            field=problem.field,
            line=problem.line,
            source=problem.source or None,
        )
        for problem in problems
    ]


# --- events --------------------------------------------------------------------------------


class OrganizerDocument(_Strict):
    """Who sends: the From of every message and the iCalendar ORGANIZER."""

    name: str = Field(description="Display name.", examples=["IOM New York"])
    email: str = Field(
        description="Address mail is sent from.", examples=["events@iom.example.org"]
    )


class ContactDocument(_Strict):
    """Whom invitees may contact "for further information"; every part is optional."""

    name: str | None = Field(None, examples=["Ms. Clara Ventresca"])
    office: str | None = Field(None, examples=["IOM New York"])
    phone: str | None = Field(None, examples=["+1 212 681 7000 ext. 212"])
    email: str | None = Field(None, examples=["c.ventresca@iom.example.org"])


class AgendaItemDocument(_Strict):
    """One line of the programme."""

    time: str | None = Field(None, description="HH:MM at the venue.", examples=["13:15"])
    title: str = Field(description="What happens.", examples=["Opening remarks"])
    speakers: list[str] | None = Field(None, examples=[["Director General, IOM"]])
    description: str | None = Field(None, description="Markdown.")
    translations: dict[str, str] | None = Field(
        None,
        description="The title in other languages, by language code.",
        examples=[{"fr": "Allocutions d'ouverture", "es": "Palabras de apertura"}],
    )


class TranslationDocument(_Strict):
    """The event's own words in one other language; what is left out reads as written."""

    title: str | None = Field(None, examples=["La ville interethnique"])
    format: str | None = Field(None, examples=["Table ronde de haut niveau"])
    description: str | None = Field(None, description="Markdown.")
    access: str | None = Field(None, description="Markdown.")


class EventDocument(_Strict):
    """An event, exactly as its TOML file says it (docs/interfaces.md, "Event file"), in JSON."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "inter-ethnic-city",
                    "title": "The Inter-Ethnic City",
                    "format": "High-Level Roundtable",
                    "starts": "2027-09-23T13:15:00",
                    "ends": "2027-09-23T15:00:00",
                    "timezone": "America/New_York",
                    "venue": "United Nations Headquarters",
                    "room": "Conference Room 6",
                    "capacity": 80,
                    "rsvp_deadline": "2027-09-20T18:00:00",
                    "reminders": ["7d", "1d"],
                    "nudge": "3d",
                    "followup_after": "2d",
                    "organizer": {"name": "IOM New York", "email": "events@iom.example.org"},
                    "agenda": [{"time": "13:15", "title": "Opening remarks"}],
                }
            ]
        },
    )

    slug: str = Field(
        description="[a-z0-9-]+, unique; names the event in every URL.",
        examples=["inter-ethnic-city"],
    )
    title: str = Field(examples=["The Inter-Ethnic City"])
    format: str | None = Field(None, examples=["High-Level Roundtable"])
    starts: str = Field(
        description="Local date and time at the venue, YYYY-MM-DDTHH:MM:SS.",
        examples=["2027-09-23T13:15:00"],
    )
    ends: str = Field(
        description="Local date and time at the venue.", examples=["2027-09-23T15:00:00"]
    )
    timezone: str = Field(description="IANA time zone of the venue.", examples=["America/New_York"])
    venue: str | None = Field(None, examples=["United Nations Headquarters"])
    room: str | None = Field(None, examples=["Conference Room 6"])
    address: str | None = Field(None, examples=["405 East 42nd Street, New York, NY 10017"])
    webcast_url: str | None = Field(None, examples=["https://webtv.un.org/"])
    capacity: int | None = Field(
        None, description="Seats; beyond them acceptances go to a waiting list.", examples=[80]
    )
    max_guests: int | None = Field(None, description="Guests an invitee may bring.", examples=[1])
    rsvp_deadline: str | None = Field(
        None, description="Local date and time at the venue.", examples=["2027-09-20T18:00:00"]
    )
    reminders: list[str] | None = Field(
        None, description="Durations before the start (m, h or d).", examples=[["7d", "1d"]]
    )
    nudge: str | None = Field(
        None, description="Duration before the RSVP deadline.", examples=["3d"]
    )
    followup_after: str | None = Field(None, description="Duration after the end.", examples=["2d"])
    description: str | None = Field(None, description="Markdown.")
    access: str | None = Field(
        None,
        description="How to enter the venue (Markdown); shown in confirmations and reminders.",
        examples=["UN Grounds Pass or a Special Events Ticket; bring photo ID."],
    )
    co_organizers: list[str] | None = Field(None, examples=[["IOM", "UNAoC"]])
    organizer: OrganizerDocument
    contact: ContactDocument | None = None
    agenda: list[AgendaItemDocument] | None = None
    translations: dict[str, TranslationDocument] | None = Field(
        None,
        description="The event's own words by language code (fr, es, ar, zh, ru).",
        examples=[{"fr": {"title": "La ville interethnique"}}],
    )

    @classmethod
    def from_event(cls, event: Event, agenda: list[AgendaItem]) -> EventDocument:
        """The document that, loaded again, describes ``event`` as it is stored."""
        return cls.model_validate(event_mapping(event, agenda))

    def to_toml_text(self) -> str:
        """The event file this document stands for; keys left out (``None``) are left out."""
        return event_toml(self.model_dump(exclude_none=True))


class EventSummaryOut(BaseModel):
    """An event in a list, with its replies at a glance."""

    slug: str = Field(examples=["inter-ethnic-city"])
    title: str = Field(examples=["The Inter-Ethnic City"])
    starts_at: datetime = Field(description="The start, in UTC.")
    timezone: str = Field(examples=["America/New_York"])
    status: Literal["scheduled", "cancelled"] = Field(examples=["scheduled"])
    invitees: int = Field(description="Invitees on the list.", examples=[120])
    replies: int = Field(description="Invitees who replied.", examples=[50])
    response_rate: float = Field(description="Replies over invitations sent.", examples=[0.4167])


class EventChangeOut(BaseModel):
    """What storing an event did."""

    event: str = Field(description="The slug.", examples=["inter-ethnic-city"])
    created: bool = Field(description="True when the event is new.")
    changed: list[str] = Field(description="Fields whose value changed.", examples=[["room"]])
    sequence: int = Field(description="The iCalendar SEQUENCE now.", examples=[1])
    updates_queued: int = Field(
        description="Update messages queued for a change of time or place.", examples=[42]
    )


# --- invitees ------------------------------------------------------------------------------


class InviteeIn(_Strict):
    """One invitee, with the columns of the invitee file (docs/interfaces.md, "Invitee file")."""

    email: str | None = Field(None, description="Required.", examples=["a.rossi@example.org"])
    name: str | None = Field(
        None, description="Full name, or give first_name and last_name.", examples=["Anna Rossi"]
    )
    first_name: str | None = Field(None, examples=["Anna"])
    last_name: str | None = Field(None, examples=["Rossi"])
    honorific: str | None = Field(None, examples=["H.E."])
    position: str | None = Field(None, examples=["Permanent Representative"])
    organization: str | None = Field(None, examples=["Permanent Mission of Italy"])
    role: str | None = Field(
        None,
        description="participant (default), speaker, panellist, moderator or observer.",
        examples=["speaker"],
    )
    language: str | None = Field(
        None, description="en (default), fr, es, ar, zh or ru.", examples=["fr"]
    )
    timezone: str | None = Field(None, description="IANA time zone.", examples=["Europe/Rome"])


class InviteeImport(_Strict):
    """A bulk import: checked like an invitee file; by default one bad row writes nothing."""

    invitees: list[InviteeIn] = Field(max_length=20_000, description="The invitees.")
    skip_invalid: bool = Field(False, description="Import the valid rows and report the others.")


class InviteePatch(InviteeIn):
    """Changes to one invitee: the fields given change, the others stay.

    A new ``email`` corrects the address: an invitee still to reply is sent the
    invitation again there, with the same link; the old address keeps its bounce mark.
    """


class InviteeEditOut(BaseModel):
    """What an edit did."""

    email: str = Field(description="The invitee's address now.", examples=["a.rossi@example.org"])
    changed: bool
    address_changed: bool
    invitation_resent: bool = Field(description="The invitation was queued to the new address.")


class WithdrawOut(BaseModel):
    """What a withdrawal did."""

    email: str = Field(examples=["a.rossi@example.org"])
    withdrawn: bool = Field(description="False when it was already withdrawn.")


class ReplyEntryOut(BaseModel):
    """One change of an invitee's reply."""

    at: datetime
    actor: str = Field(description="The invitee, a staff account, or system.")
    from_status: str = Field(examples=["invited"])
    to_status: str = Field(examples=["accepted"])
    guests: int
    notes: str
    reason: str = Field(description="Why staff recorded it, if they did.")


class ImportOut(BaseModel):
    """What an import did."""

    created: int = Field(description="Invitees put on the list.", examples=[12])
    updated: int = Field(description="Invitees whose details or role changed.", examples=[1])
    unchanged: int = Field(description="Invitees already listed as given.", examples=[30])
    skipped: list[ProblemOut] = Field(description="Rows left out (with skip_invalid).")


class InviteeOut(BaseModel):
    """An invitee on an event's list, with the reply and attendance."""

    email: str = Field(examples=["a.rossi@example.org"])
    honorific: str = Field(examples=["H.E."])
    first_name: str = Field(examples=["Anna"])
    last_name: str = Field(examples=["Rossi"])
    name: str = Field(examples=["Anna Rossi"])
    position: str
    organization: str
    role: str = Field(examples=["speaker"])
    language: str = Field(examples=["en"])
    status: Literal[
        "not_invited", "invited", "accepted", "tentative", "declined", "waitlisted", "cancelled"
    ] = Field(examples=["accepted"])
    guests: int = Field(examples=[0])
    notes: str
    represented_by: str = Field(description="Address of the representative named, if any.")
    representative_of: str = Field(description="Address of the invitee represented, if any.")
    invited_at: datetime | None
    responded_at: datetime | None
    attended_at: datetime | None


class InviteePageOut(BaseModel):
    """One page of an event's invitees."""

    items: list[InviteeOut]
    total: int = Field(description="Invitees in all pages.", examples=[120])
    page: int = Field(examples=[1])
    per_page: int = Field(examples=[50])


class QueuedOut(BaseModel):
    """How many messages were queued."""

    queued: int = Field(examples=[118])


# --- replies -------------------------------------------------------------------------------


class ReplyIn(_Strict):
    """A reply staff record on an invitee's behalf (by phone, letter…); logged as theirs."""

    email: str = Field(
        max_length=320, description="The invitee's address.", examples=["a.rossi@example.org"]
    )
    response: Response = Field(examples=["accept"])
    guests: int = Field(0, ge=0, le=100, examples=[0])
    notes: str = Field("", max_length=2000)
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why staff answer for them.",
        examples=["Replied by phone to the office"],
    )
    override_deadline: bool = Field(False, description="Record it even after the RSVP deadline.")


class ReplyOut(BaseModel):
    """What the reply did."""

    email: str = Field(examples=["a.rossi@example.org"])
    from_status: str = Field(examples=["invited"])
    status: str = Field(examples=["accepted"])
    guests: int = Field(examples=[0])
    changed: bool = Field(description="False when the reply was the one on record.")


# --- the report ----------------------------------------------------------------------------


class StatusCounts(BaseModel):
    """Invitees by reply status; ``invited`` means invited and not yet replied."""

    not_invited: int
    invited: int
    accepted: int
    tentative: int
    declined: int
    waitlisted: int
    cancelled: int


class DeliveryCounts(BaseModel):
    """Messages of the event by state; ``scheduled`` are queued and due later."""

    scheduled: int
    queued: int
    sending: int
    sent: int
    failed: int
    missed: int
    dropped: int


class ReportOut(BaseModel):
    """The staff report (docs/interfaces.md, "Report"): ``roundtable report SLUG --json``."""

    event: str = Field(examples=["inter-ethnic-city"])
    title: str
    starts_at: datetime
    event_status: Literal["scheduled", "cancelled"]
    invitees: int = Field(examples=[120])
    status: StatusCounts
    response_rate: float = Field(description="Replies over invitations sent.", examples=[0.4167])
    by_organization: dict[str, dict[str, int]] = Field(
        examples=[{"Permanent Mission of Italy": {"accepted": 2, "invited": 1}}]
    )
    by_role: dict[str, dict[str, int]] = Field(examples=[{"panellist": {"accepted": 3}}])
    delivery: DeliveryCounts
    attended: int = Field(examples=[0])


# --- messages ------------------------------------------------------------------------------


class MessageOut(BaseModel):
    """A message in the outbox."""

    id: int
    kind: str = Field(examples=["invitation"])
    mailing: str = Field(description="The mailing; unique per invitee.", examples=["invitation"])
    status: Literal["queued", "sending", "sent", "failed", "missed", "dropped"]
    recipient: str = Field(examples=["a.rossi@example.org"])
    recipient_name: str = Field(examples=["H.E. Anna Rossi"])
    attempts: int
    last_code: int | None = Field(description="The SMTP server's last reply code.", examples=[550])
    last_response: str | None = Field(
        description="The SMTP server's last answer.", examples=["5.1.1 user unknown"]
    )
    due_at: datetime
    sent_at: datetime | None
    message_id: str | None = Field(description="The Message-ID header.")


class MessagePageOut(BaseModel):
    """One page of an event's outbox, newest first."""

    items: list[MessageOut]
    total: int
    page: int
    per_page: int
