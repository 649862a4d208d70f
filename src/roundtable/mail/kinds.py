"""Typed contexts that producers queue and the composer reads, one per message kind.

Each has ONE serializer (``to_json``) and ONE parser (``parse``); a producer builds the
dataclass and stores its ``to_json()``, and ``parse`` runs when the row is queued and again
when it is composed, so a key one side writes and the other does not read is an error at
once, never a mail that silently says less (docs/architecture.md, "Mail").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roundtable.mail.model import MessageKind

#: an update's facts, as ``build_context`` labels them; "time" covers start, end and zone
CHANGE_FIELDS = ("time", "venue", "room", "address", "webcast_url", "title")
#: Event columns folded into the one "time" change
TIME_COLUMNS = ("starts_at", "ends_at", "timezone")


@dataclass(frozen=True)
class FieldChange:
    """One fact of the event, before and after; times are ISO 8601 instants with an offset."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class UpdateContext:
    """An update: which sequence it announces, what changed, and the organizers' note."""

    sequence: int
    changes: tuple[FieldChange, ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "note": self.note,
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> UpdateContext:
        # "changed" (names only) is what rows queued by earlier versions hold: read as no changes
        _only(data, {"sequence", "changes", "note", "changed"}, "update")
        changes = []
        for item in data.get("changes") or ():
            if not isinstance(item, Mapping) or item.get("field") not in CHANGE_FIELDS:
                raise ValueError(f"update context: bad change {item!r}")
            changes.append(FieldChange(str(item["field"]), item.get("old"), item.get("new")))
        return cls(int(data["sequence"]), tuple(changes), str(data.get("note") or ""))


@dataclass(frozen=True)
class CancellationContext:
    """A cancellation: the sequence it announces and the organizers' note.

    ``withdrawn``: the organizers withdrew this one invitation; the event itself goes on.
    """

    sequence: int
    note: str = ""
    withdrawn: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "note": self.note, "withdrawn": self.withdrawn}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CancellationContext:
        _only(data, {"sequence", "note", "withdrawn"}, "cancellation")
        return cls(int(data["sequence"]), str(data.get("note") or ""), bool(data.get("withdrawn")))


def _only(data: Mapping[str, Any], allowed: set[str], kind: str) -> None:
    """Only known keys, and the sequence the message announces."""
    _known(data, allowed, kind)
    if "sequence" not in data:
        raise ValueError(f"{kind} context: 'sequence' is missing")


def event_changes(
    previous: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[FieldChange, ...]:
    """The changes an update reports, from the previous and current values of changed columns.

    A new start, end or zone is one "time" change showing the whole interval on both sides.
    """
    changes: list[FieldChange] = []
    if any(name in previous for name in TIME_COLUMNS):
        changes.append(FieldChange("time", _time(previous, current), _time({}, current)))
    for name in CHANGE_FIELDS[1:]:
        if name in previous:
            changes.append(FieldChange(name, previous[name], current[name]))
    return tuple(changes)


def _time(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, str]:
    def pick(name: str) -> Any:
        return previous[name] if name in previous else current[name]

    return {
        "starts_at": _iso(pick("starts_at")),
        "ends_at": _iso(pick("ends_at")),
        "timezone": str(pick("timezone")),
    }


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


#: a confirmation's ``response``: the outcome of the reply, not the words of the form
RESPONSES = ("accepted", "declined", "tentative", "waitlisted")


@dataclass(frozen=True)
class ConfirmationContext:
    """A confirmation: the status the reply led to, which its words and calendar both follow."""

    response: str
    guests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"response": self.response, "guests": self.guests}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ConfirmationContext:
        _known(data, {"response", "guests"}, "confirmation")
        if data.get("response") not in RESPONSES:
            raise ValueError(
                f"confirmation context: 'response' must be one of {', '.join(RESPONSES)}, "
                f"not {data.get('response')!r}"
            )
        return cls(str(data["response"]), int(data.get("guests") or 0))


@dataclass(frozen=True)
class SequenceContext:
    """A reminder, nudge or follow-up: the event's sequence when it was scheduled."""

    sequence: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> SequenceContext:
        _known(data, {"sequence"}, "scheduled message")
        return cls(int(data.get("sequence") or 0))


@dataclass(frozen=True)
class InvitationContext:
    """An invitation: the sequence it announces; a representative's names whom they stand for."""

    sequence: int = 0
    #: the principal's invitation, when this one invites a representative
    representative_of: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sequence": self.sequence}
        if self.representative_of is not None:
            data["representative_of"] = self.representative_of
        return data

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> InvitationContext:
        _known(data, {"sequence", "representative_of"}, "invitation")
        principal = data.get("representative_of")
        return cls(int(data.get("sequence") or 0), None if principal is None else int(principal))


@dataclass(frozen=True)
class PromotionContext:
    """A promotion from the waiting list: the guests the seat is for."""

    guests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"guests": self.guests}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> PromotionContext:
        _known(data, {"guests"}, "promotion")
        return cls(int(data.get("guests") or 0))


@dataclass(frozen=True)
class GroupMessageContext:
    """A message to a group: the organizers' words, with a version per language.

    Stored on every copy, so that a resend writes the same words.
    """

    subject: str
    body_md: str
    translations: Mapping[str, Mapping[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body_md": self.body_md,
            "translations": {lang: dict(words) for lang, words in self.translations.items()},
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> GroupMessageContext:
        _known(data, {"subject", "body_md", "translations"}, "message")
        translations = data.get("translations") or {}
        if not isinstance(data.get("subject"), str) or not isinstance(data.get("body_md"), str):
            raise ValueError("message context: 'subject' and 'body_md' must be text")
        if not isinstance(translations, Mapping) or not all(
            isinstance(words, Mapping) and set(words) <= {"subject", "body_md"}
            for words in translations.values()
        ):
            raise ValueError("message context: 'translations' maps a language to its words")
        return cls(data["subject"], data["body_md"], translations)


def _known(data: Mapping[str, Any], allowed: set[str], kind: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"{kind} context: unknown key(s) {', '.join(sorted(unknown))}")


#: every kind's parser: it checks a row's context when the row is queued and when it is
#: composed (tests/test_enums.py fails on a kind without one)
PARSERS: dict[str, Callable[[Mapping[str, Any]], object]] = {
    MessageKind.INVITATION: InvitationContext.parse,
    MessageKind.UPDATE: UpdateContext.parse,
    MessageKind.CANCELLATION: CancellationContext.parse,
    MessageKind.CONFIRMATION: ConfirmationContext.parse,
    MessageKind.PROMOTION: PromotionContext.parse,
    MessageKind.REMINDER: SequenceContext.parse,
    MessageKind.NUDGE: SequenceContext.parse,
    MessageKind.FOLLOWUP: SequenceContext.parse,
    MessageKind.MESSAGE: GroupMessageContext.parse,
}


def check_context(kind: str, context: Mapping[str, Any] | None) -> None:
    """Refuse a context its kind's parser would not read (a producer/composer mismatch)."""
    parser = PARSERS.get(kind)
    if parser is not None:
        parser(context or {})
