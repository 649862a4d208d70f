"""Writing to a group: a subject and a Markdown body, per language, to invitees chosen by reply.

The organizers pick recipients by reply status, role, organization and attendance;
each recipient gets one outbox row of kind ``message`` (mailing ``message:<id>``),
so a copy is queued once per recipient per message, delivered like every other
mail (salutation, footer, the reader's language), and its progress is read from
those rows (docs/architecture.md, "Outbox and delivery").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from roundtable.errors import InputError, Problem, read_text_input
from roundtable.events.model import Event
from roundtable.events.spec import load_toml
from roundtable.events.toml_lines import KeyLines
from roundtable.invitations.model import Invitation, InviteeRole, Status
from roundtable.mail.kinds import GroupMessageContext
from roundtable.mail.model import GroupMessage, Message, MessageKind
from roundtable.mail.outbox import queue_for_invitations
from roundtable.people.model import Contact, Organization
from roundtable.presentation import i18n

MAX_SUBJECT = 200
MAX_BODY = 100_000
MAX_FILE_BYTES = 400_000
#: who may be written to: "invited" is the invited who have not replied
AUDIENCE_STATUSES = (
    Status.ACCEPTED,
    Status.TENTATIVE,
    Status.DECLINED,
    Status.WAITLISTED,
    Status.INVITED,
)


class Attendance(StrEnum):
    """Whether recipients were checked in at the door."""

    ANY = ""
    ATTENDED = "attended"
    ABSENT = "absent"


@dataclass(frozen=True)
class Version:
    """A subject and a Markdown body in one language."""

    subject: str
    body: str


@dataclass(frozen=True)
class Draft:
    """What the organizers wrote: the default version and one per language."""

    subject: str
    body: str
    translations: dict[str, Version] = field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        """What each outbox row carries, so that a resend writes the same words."""
        translations = {
            lang: {"subject": v.subject, "body_md": v.body} for lang, v in self.translations.items()
        }
        return GroupMessageContext(self.subject, self.body, translations).to_json()


@dataclass(frozen=True)
class Audience:
    """Who a message is for; empty lists mean "any"."""

    statuses: tuple[str, ...]
    roles: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    attendance: Attendance = Attendance.ANY

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": list(self.statuses),
            "role": list(self.roles),
            "organization": list(self.organizations),
            "attendance": str(self.attendance),
        }


@dataclass(frozen=True)
class HistoryLine:
    """One message of the history, with the progress of its copies."""

    id: int
    subject: str
    recipients: dict[str, Any]
    queued: int
    sent_by: str
    created_at: datetime
    progress: dict[str, int]


def version_for(context: Mapping[str, Any], language: str) -> Version:
    """The reader's version of a row's message, else the default one."""
    own = (context.get("translations") or {}).get(language) or {}
    return Version(
        subject=str(own.get("subject") or context.get("subject") or ""),
        body=str(own.get("body_md") or context.get("body_md") or ""),
    )


# --- checking what was written -------------------------------------------------------------


def checked_draft(
    subject: Any,
    body: Any,
    translations: Mapping[str, Any] | None,
    *,
    source: str,
    lines: KeyLines | None = None,
) -> Draft:
    """The draft, or an :class:`InputError` naming every bad field (and line, from a file)."""
    problems: list[Problem] = []

    def problem(path: tuple[str, ...], message: str) -> None:
        line = lines.line_of(path) if lines else None
        problems.append(Problem(message, source=source, line=line, field=".".join(path)))

    def version(where: tuple[str, ...], subject: Any, body: Any) -> Version:
        return Version(
            _subject(subject, (*where, "subject"), problem), _body(body, (*where, "body"), problem)
        )

    default = version((), subject, body)
    versions: dict[str, Version] = {}
    for lang, text in (translations or {}).items():
        if lang not in i18n.BABEL_LOCALES:
            known = ", ".join(i18n.BABEL_LOCALES)
            problem((str(lang),), f"is not a language we write in ({known})")
        elif not isinstance(text, Mapping):
            problem((lang,), "must be a table with a subject and a body")
        else:
            extra = sorted(set(text) - {"subject", "body"})
            if extra:
                problem((lang, str(extra[0])), "is not a field of a message (subject, body)")
            versions[lang] = version((lang,), text.get("subject"), text.get("body"))
    if problems:
        raise InputError(problems)
    return Draft(subject=default.subject, body=default.body, translations=versions)


def _subject(value: Any, path: tuple[str, ...], problem: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        problem(path, "is required: a line of text")
        return ""
    text = value.strip()
    if any(c in text for c in "\r\n\x00\u2028\u2029"):
        problem(path, "must be one line")
    elif len(text) > MAX_SUBJECT:
        problem(path, f"is longer than {MAX_SUBJECT} characters")
    return text


def _body(value: Any, path: tuple[str, ...], problem: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        problem(path, "is required: the message in Markdown")
        return ""
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        problem(path, "contains characters no mail can carry")
    elif len(value) > MAX_BODY:
        problem(path, f"is longer than {MAX_BODY} characters")
    return value.replace("\r\n", "\n")


def read_message_file(path: Path) -> Draft:
    """A message file: ``subject``, ``body`` and optional ``[fr]``, ``[es]``, … tables."""
    source = str(path)
    text = read_text_input(path, max_bytes=MAX_FILE_BYTES)
    document = load_toml(text, source)
    lines = KeyLines(text)
    translations = {k: v for k, v in document.items() if k not in ("subject", "body")}
    return checked_draft(
        document.get("subject"), document.get("body"), translations, source=source, lines=lines
    )


def checked_audience(
    statuses: Sequence[str],
    *,
    roles: Sequence[str] = (),
    organizations: Sequence[str] = (),
    attendance: str = "",
    source: str = "",
) -> Audience:
    """The audience, or an :class:`InputError` naming the unknown status, role or attendance."""
    problems: list[Problem] = []
    wanted = tuple(dict.fromkeys(s.strip() for s in statuses if s.strip()))
    if not wanted:
        problems.append(Problem("choose at least one reply status", source=source, field="to"))
    for status in wanted:
        if status not in AUDIENCE_STATUSES:
            known = ", ".join(AUDIENCE_STATUSES)
            problems.append(Problem(f"{status!r} is not one of {known}", source=source, field="to"))
    for role in roles:
        if role not in InviteeRole.ALL:
            problems.append(
                Problem(
                    f"{role!r} is not one of {', '.join(InviteeRole.ALL)}",
                    source=source,
                    field="role",
                )
            )
    if attendance not in tuple(Attendance):
        problems.append(
            Problem("must be attended, absent or empty", source=source, field="attendance")
        )
    if problems:
        raise InputError(problems)
    return Audience(
        statuses=wanted,
        roles=tuple(roles),
        organizations=tuple(o for o in organizations if o),
        attendance=Attendance(attendance),
    )


# --- recipients, queueing, history ---------------------------------------------------------


def recipients(session: Session, event: Event, audience: Audience) -> list[int]:
    """The invitation ids the audience names, in a stable order."""
    query = select(Invitation.id).where(
        Invitation.event_id == event.id, col(Invitation.status).in_(list(audience.statuses))
    )
    if audience.roles:
        query = query.where(col(Invitation.role).in_(list(audience.roles)))
    if audience.organizations:
        query = query.join(
            Organization, col(Organization.id) == col(Invitation.organization_id)
        ).where(col(Organization.name).in_(list(audience.organizations)))
    if audience.attendance == Attendance.ATTENDED:
        query = query.where(col(Invitation.attended_at).is_not(None))
    elif audience.attendance == Attendance.ABSENT:
        query = query.where(col(Invitation.attended_at).is_(None))
    return [int(i) for i in session.exec(query.order_by(col(Invitation.id))).all() if i is not None]


def queue_group_message(
    session: Session,
    event: Event,
    draft: Draft,
    audience: Audience,
    *,
    sent_by: str,
    now: datetime,
) -> GroupMessage:
    """Record the message and queue one copy per recipient, in the caller's transaction."""
    assert event.id is not None
    record = GroupMessage(
        event_id=event.id,
        subject=draft.subject,
        body=draft.body,
        translations={lang: vars(v) for lang, v in draft.translations.items()},
        recipients=audience.as_dict(),
        sent_by=sent_by,
        created_at=now,
    )
    session.add(record)
    session.flush()
    queued = queue_for_invitations(
        session,
        recipients(session, event, audience),
        event_id=event.id,
        kind=MessageKind.MESSAGE,
        mailing=mailing_of(record),
        due_at=now,
        context=draft.as_context(),
    )
    record.queued = len(queued)
    session.add(record)
    return record


def mailing_of(record: GroupMessage) -> str:
    return f"message:{record.id}"


def history(session: Session, event_id: int) -> list[HistoryLine]:
    """The event's group messages, newest first, with their copies counted by state."""
    records = session.exec(
        select(GroupMessage)
        .where(GroupMessage.event_id == event_id)
        .order_by(col(GroupMessage.created_at).desc(), col(GroupMessage.id).desc())
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for mailing, status, count in session.exec(
        select(Message.mailing, Message.status, func.count())
        .where(Message.event_id == event_id, Message.kind == MessageKind.MESSAGE)
        .group_by(col(Message.mailing), col(Message.status))
    ).all():
        base = mailing.split("#", 1)[0]
        progress = counts.setdefault(base, {})
        progress[status] = progress.get(status, 0) + int(count)
    return [
        HistoryLine(
            id=int(r.id or 0),
            subject=r.subject,
            recipients=dict(r.recipients),
            queued=r.queued,
            sent_by=r.sent_by,
            created_at=r.created_at,
            progress=counts.get(mailing_of(r), {}),
        )
        for r in records
    ]


def recipient_names(session: Session, invitation_ids: Sequence[int]) -> list[tuple[int, str]]:
    """``(invitation id, "Name <address>")`` for a preview's choice of recipient."""
    if not invitation_ids:
        return []
    rows = session.exec(
        select(Invitation, Contact.email)
        .join(Contact, col(Contact.id) == col(Invitation.contact_id))
        .where(col(Invitation.id).in_(list(invitation_ids)))
        .order_by(col(Invitation.id))
    ).all()
    return [(int(inv.id or 0), f"{inv.display_name} <{email}>") for inv, email in rows]
