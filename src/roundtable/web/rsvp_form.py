"""The reply form of the RSVP page: reading what was posted, and what its fields show.

Kept apart from the routes (:mod:`roundtable.web.rsvp`): the limits on a posted
body come before any work, and the form's values are the same whether the page
is shown fresh or again with problems.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.formparsers import MultiPartException, MultiPartParser

from roundtable.invitations.model import Status
from roundtable.invitations.rsvp import ACCEPT, DECLINE, RESPONSES, TENTATIVE
from roundtable.invitations.service import InvitationView

#: Enough for 2,000 characters of notes in any script, percent-encoded; far from a megabyte.
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 20

#: What each stored status preselects on the form.
RESPONSE_OF_STATUS: dict[str, str] = {
    Status.ACCEPTED: ACCEPT,
    Status.WAITLISTED: ACCEPT,
    Status.TENTATIVE: TENTATIVE,
    Status.DECLINED: DECLINE,
}


class FormTooLarge(Exception):
    """The request body is larger than any honest reply."""


class MalformedForm(Exception):
    """The body is not a form we can read (wrong type, bad encoding, too many fields)."""


@dataclass
class FormState:
    """What the reply form shows: the values in its fields and the problems with them."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, view: InvitationView, *, preselect: str = "") -> FormState:
        """The form filled with the reply on record; ``preselect`` only ticks a choice."""
        invitation = view.invitation
        chosen = preselect if preselect in RESPONSES else ""
        representative = view.represented_by
        return cls(
            values={
                "response": chosen or RESPONSE_OF_STATUS.get(invitation.status, ""),
                "guests": str(invitation.guests),
                "notes": invitation.notes,
                "substitute_name": representative.name if representative else "",
                "substitute_email": representative.email if representative else "",
            }
        )

    @classmethod
    def submitted(cls, fields: Mapping[str, str]) -> FormState:
        """The form as it was sent, to show again with its problems."""
        names = ("response", "guests", "notes", "substitute_name", "substitute_email")
        return cls(values={name: fields.get(name, "") for name in names})


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields, first value of each name; refuses large or unreadable bodies."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise MalformedForm
        if int(declared) > MAX_FORM_BYTES:
            raise FormTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    pairs: list[tuple[str, str]]
    if media_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(
                bytes(body).decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=MAX_FORM_FIELDS,
                errors="strict",
            )
        except ValueError as error:  # also UnicodeDecodeError
            raise MalformedForm from error
    elif media_type == "multipart/form-data":
        parser = MultiPartParser(
            request.headers, _once(bytes(body)), max_files=0, max_fields=MAX_FORM_FIELDS
        )
        try:
            form = await parser.parse()
        except MultiPartException as error:
            raise MalformedForm from error
        pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    else:
        raise MalformedForm
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body
