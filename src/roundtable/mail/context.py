"""What a mail template needs to know about one message, and nothing more.

Pure: no database, no clock (``now`` is passed in), no I/O beyond the translation
catalogs read once per process. Everything that depends on the reader's language
(salutation, dates and times, zone names, list punctuation) is formatted here, so
the templates only place finished strings and never compute.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import (
    format_timedelta,
)
from markupsafe import Markup

from roundtable.events.model import AgendaItem, Event
from roundtable.invitations.model import InviteeRole
from roundtable.mail.group_messages import Version, version_for
from roundtable.mail.kinds import RESPONSES
from roundtable.mail.model import KINDS, MessageKind
from roundtable.people.model import Addressee
from roundtable.people.zones import own_zone
from roundtable.presentation import i18n
from roundtable.presentation.event import Clock, EventView, aware, present_event, zone_of
from roundtable.presentation.markdown import markdown_to_html, markdown_to_text

FOLLOWUP_VARIANTS = ("attendee", "declined")

#: reply words as the RSVP form posts them, mapped to the statuses they lead to
_RESPONSE_ALIASES = {"accept": "accepted", "decline": "declined"}

#: fields an update's ``changes`` may name; times are ISO 8601 instants with an offset
CHANGE_FIELDS = (
    "time",
    "starts_at",
    "ends_at",
    "timezone",
    "venue",
    "room",
    "address",
    "webcast_url",
    "title",
)

_NOTHING = "—"

#: the names every salutation may use, whichever of them its English form shows
SALUTATION_NAMES = ("honorific", "first_name", "last_name", "full_name")


@dataclass(frozen=True)
class Change:
    """One thing an update changed, as the invitee should read it."""

    label: str
    old: str
    new: str


@dataclass(frozen=True)
class InviteeDetails:
    email: str
    #: as on an envelope: "H.E. Ms. Amina Diallo"
    display_name: str
    full_name: str
    #: the opening line, punctuation included: "Excellency," / "Dear Dr. Novak,"
    salutation: str
    position: str
    organization: str
    role: str
    #: a sentence telling a speaker, panellist, moderator or observer what is asked; "" otherwise
    role_phrase: str


@dataclass(frozen=True)
class RsvpLinks:
    """Where the invitee replies; the three answers only preselect the form (a GET never acts)."""

    page: str | None
    accept: str | None
    tentative: str | None
    decline: str | None
    ics: str | None
    unsubscribe: str | None


#: Template blocks rendered once per batch, by (template, kind, language, id of the event's
#: view); each entry holds the view it was rendered from, which keeps that id from reuse.
BlockStore = dict[tuple[str, str, str, int], tuple[EventView, str]]


@dataclass(frozen=True)
class MailContext:
    """Everything a template of one mail kind may use."""

    kind: str
    language: str
    direction: Literal["ltr", "rtl"]
    invitee: InviteeDetails
    event: EventView
    links: RsvpLinks
    #: confirmation: the reply recorded (accepted, declined, tentative, waitlisted)
    response: str | None
    guests: int
    #: update: what changed, old → new
    changes: tuple[Change, ...]
    #: follow-up: for those who attended or for those who declined
    variant: str | None
    recommendations_html: Markup
    recommendations_text: str
    #: reminder: "tomorrow", "in 7 days"
    offset_label: str
    #: free text from staff, e.g. the reason for a cancellation
    note: str
    #: a message to a group: the reader's version of what the organizers wrote
    message_subject: str
    message_html: Markup
    message_text: str
    #: confirmation of a place: the Content-ID of the check-in QR code image, else ""
    checkin_qr: str = ""
    #: a representative's mail: whom they stand in for ("H.E. Ms. …, Permanent Representative of …")
    representing: str = ""
    #: a decline's confirmation: the representative the invitee named
    representative: str = ""
    #: cancellation: this invitee's invitation was withdrawn, the event goes on
    withdrawn: bool = False
    #: event-wide blocks already rendered for the batch (``{% shared %}``, mail/render.py)
    blocks: BlockStore = field(default_factory=dict, compare=False, repr=False)


class SharedParts:
    """What the messages of one batch share, made once: the event as each language reads it,
    and the template blocks that show only the event.

    A batch is one claim of rows, most often of one mailing; its bundles hold the
    very same ``Event`` and agenda objects, read in one go, so an entry keyed by
    those objects cannot outlive a change to the event: the next batch reads the
    rows again. Presenting the event (dates in the reader's language, the hosts,
    the agenda) was a tenth of composing a message (bench/README.md).
    """

    def __init__(self) -> None:
        #: the event-wide blocks of the batch's messages, rendered once (mail/render.py)
        self.blocks: BlockStore = {}
        self._views: dict[
            tuple[int, int, str, ZoneInfo | None], tuple[Event, object, EventView]
        ] = {}

    def present_event(
        self,
        event: Event,
        agenda: Sequence[AgendaItem],
        *,
        language: str,
        reader_zone: ZoneInfo | None,
    ) -> EventView:
        key = (id(event), id(agenda), language, reader_zone)
        found = self._views.get(key)
        # The entry keeps its objects alive, so their ids cannot be reused meanwhile.
        if found is not None and found[0] is event and found[1] is agenda:
            return found[2]
        view = present_event(event, agenda, language=language, reader_zone=reader_zone)
        self._views[key] = (event, agenda, view)
        return view


def build_context(
    kind: str,
    *,
    event: Event,
    agenda: Sequence[AgendaItem],
    contact: Addressee,
    organization: str | None,
    role: str,
    now: datetime,
    rsvp_url: str | None = None,
    ics_url: str | None = None,
    unsubscribe_url: str | None = None,
    extra: Mapping[str, Any] | None = None,
    checkin_qr: str = "",
    shared: SharedParts | None = None,
) -> MailContext:
    """The context for one message of ``kind`` to ``contact`` about ``event``.

    ``contact`` is the invitee as this event's list names them: another event may
    know the same address by other details. ``shared``: the batch's
    :class:`SharedParts` (a batch of one mailing presents its event once per language).

    ``extra`` carries what only one kind needs:

    - confirmation: ``response`` (or ``status``): accepted, declined, tentative,
      waitlisted (``accept``/``decline`` are accepted too); ``guests``: int
    - update: ``changes``: ``[{"field": f, "old": …, "new": …}]`` with ``f`` in
      :data:`CHANGE_FIELDS`; times are ISO 8601 instants with an offset, and ``time``
      takes ``{"starts_at": …, "ends_at": …}`` on both sides
    - follow-up: ``variant`` ("attendee" | "declined"); ``recommendations_md``
      (defaults to the event's recommendations)
    - reminder: ``offset_label`` (already localized) or ``offset_seconds`` (the rule's
      offset before the start); without either the label is computed from ``now``
    - cancellation (or any kind): ``note``, a message from the organizers; ``withdrawn``:
      only this invitee's invitation was withdrawn, not the event
    - any kind: ``representing``, whom a representative stands in for;
      ``representative``, the representative a declining invitee named
    """
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}; expected one of {', '.join(KINDS)}")
    extra = extra or {}
    shared = shared or SharedParts()
    language = i18n.supported_language(contact.language)
    words = i18n.translations(language)
    venue_zone = zone_of(event.timezone)
    invitee_zone = own_zone(contact.timezone)
    times = Clock(language, venue_zone, invitee_zone)

    response = _response(kind, extra)
    variant, recommendations = _followup(kind, extra, event)
    written = version_for(extra, language) if kind == MessageKind.MESSAGE else Version("", "")
    return MailContext(
        kind=kind,
        language=language,
        direction=i18n.text_direction(language),
        invitee=InviteeDetails(
            email=contact.email,
            display_name=contact.display_name,
            full_name=contact.full_name,
            salutation=salutation(contact, words),
            position=contact.position,
            organization=organization or "",
            role=role,
            role_phrase=role_phrase(role, words),
        ),
        event=shared.present_event(event, agenda, language=language, reader_zone=invitee_zone),
        links=RsvpLinks(
            page=rsvp_url,
            accept=f"{rsvp_url}?response=accept" if rsvp_url else None,
            tentative=f"{rsvp_url}?response=tentative" if rsvp_url else None,
            decline=f"{rsvp_url}?response=decline" if rsvp_url else None,
            ics=ics_url,
            unsubscribe=unsubscribe_url,
        ),
        response=response,
        guests=int(extra.get("guests") or 0),
        changes=_changes(extra.get("changes") or (), times, words)
        if kind == MessageKind.UPDATE
        else (),
        variant=variant,
        recommendations_html=markdown_to_html(recommendations),
        recommendations_text=markdown_to_text(recommendations),
        offset_label=_offset_label(kind, extra, event, now, times, words),
        note=str(extra.get("note") or ""),
        message_subject=written.subject,
        message_html=markdown_to_html(written.body),
        message_text=markdown_to_text(written.body),
        checkin_qr=checkin_qr,
        representing=str(extra.get("representing") or ""),
        representative=str(extra.get("representative") or ""),
        withdrawn=kind == MessageKind.CANCELLATION and bool(extra.get("withdrawn")),
        blocks=shared.blocks,
    )


def salutation(contact: Addressee, words: gettext.NullTranslations) -> str:
    """The opening line for ``contact``, as protocol wants it, in the reader's language.

    Ambassadors and ministers (H.E.) are addressed as "Excellency,"; others by
    honorific and family name; without an honorific, by full name. The gettext
    context (msgctxt) tells translators the gender where English does not show it.
    """
    names = {
        "honorific": contact.honorific.strip(),
        "first_name": contact.first_name,
        "last_name": contact.last_name or contact.full_name,
        "full_name": contact.full_name,
    }
    form = honorific_form(contact.honorific)
    if form == "excellency-male":
        return words.pgettext("excellency-male", "Excellency,")
    if form == "excellency-female":
        return words.pgettext("excellency-female", "Excellency,")
    if form == "excellency":
        return words.pgettext("excellency", "Excellency,")
    if form == "male":
        return words.pgettext("dear-male", "Dear %(honorific)s %(last_name)s,") % names
    if form == "female":
        return words.pgettext("dear-female", "Dear %(honorific)s %(last_name)s,") % names
    if form == "title":
        return words.pgettext("dear-title", "Dear %(honorific)s %(last_name)s,") % names
    return words.pgettext("dear-name", "Dear %(full_name)s,") % names


_MALE = frozenset({"mr", "his", "sir", "m", "monsieur", "sr", "senor", "señor"})
_FEMALE = frozenset({"ms", "mrs", "miss", "her", "mme", "madam", "madame", "dame", "sra", "senora"})


def honorific_form(
    honorific: str,
) -> Literal[
    "excellency-male", "excellency-female", "excellency", "male", "female", "title", "none"
]:
    """How an honorific shapes the salutation.

    "H.E. Ms." → ``excellency-female``, "Mr." → ``male``, "Dr." → ``title``.
    """
    words = honorific.lower().replace(".", "").replace(",", " ").split()
    if words[:2] == ["h", "e"]:  # "H. E." written with a space
        words = ["he", *words[2:]]
    if not words:
        return "none"
    male = any(word in _MALE for word in words)
    female = any(word in _FEMALE for word in words)
    if words[0] == "he" or "excellency" in words:
        if male != female:
            return "excellency-male" if male else "excellency-female"
        return "excellency"
    if len(words) == 1 and male:
        return "male"
    if len(words) == 1 and female:
        return "female"
    return "title"


def role_phrase(role: str, words: gettext.NullTranslations) -> str:
    """What the invitee is asked to do beyond attending; empty for a participant."""
    if role == InviteeRole.PARTICIPANT:
        return ""
    if role == InviteeRole.SPEAKER:
        return words.gettext("You are invited to address the meeting as a speaker.")
    if role == InviteeRole.PANELLIST:
        return words.gettext("You are invited to speak on the panel.")
    if role == InviteeRole.MODERATOR:
        return words.gettext("You are invited to moderate the discussion.")
    if role == InviteeRole.OBSERVER:
        return words.gettext("You are invited to attend as an observer.")
    raise ValueError(f"unknown role {role!r}; expected one of {', '.join(InviteeRole.ALL)}")


def _response(kind: str, extra: Mapping[str, Any]) -> str | None:
    if kind != MessageKind.CONFIRMATION:
        return None
    given = str(extra.get("response") or extra.get("status") or "")
    response = _RESPONSE_ALIASES.get(given, given)
    if response not in RESPONSES:
        raise ValueError(
            f"a confirmation needs extra['response'] in {', '.join(RESPONSES)}, not {given!r}"
        )
    return response


def _followup(kind: str, extra: Mapping[str, Any], event: Event) -> tuple[str | None, str]:
    if kind != MessageKind.FOLLOWUP:
        return None, ""
    variant = extra.get("variant")
    if variant not in FOLLOWUP_VARIANTS:
        raise ValueError(
            f"a follow-up needs extra['variant'] in {', '.join(FOLLOWUP_VARIANTS)}, not {variant!r}"
        )
    recommendations = str(extra.get("recommendations_md") or event.recommendations or "")
    if not recommendations.strip():
        raise ValueError("a follow-up needs recommendations (extra['recommendations_md'])")
    return str(variant), recommendations


def _changes(
    given: Sequence[Mapping[str, Any]], times: Clock, words: gettext.NullTranslations
) -> tuple[Change, ...]:
    changes = []
    for change in given:
        field = change.get("field")
        if field not in CHANGE_FIELDS:
            raise ValueError(
                f"unknown changed field {field!r}; expected one of {', '.join(CHANGE_FIELDS)}"
            )
        old, new = change.get("old"), change.get("new")
        changes.append(
            Change(
                label=_change_label(str(field), words),
                old=_change_value(str(field), old, times),
                new=_change_value(str(field), new, times),
            )
        )
    return tuple(changes)


def _change_label(field: str, words: gettext.NullTranslations) -> str:
    if field == "time":
        return words.gettext("Date and time")
    if field == "starts_at":
        return words.gettext("Start")
    if field == "ends_at":
        return words.gettext("End")
    if field == "timezone":
        return words.gettext("Time zone")
    if field == "venue":
        return words.gettext("Venue")
    if field == "room":
        return words.gettext("Room")
    if field == "address":
        return words.gettext("Address")
    if field == "webcast_url":
        return words.gettext("Webcast")
    return words.gettext("Title")


def _change_value(field: str, value: Any, times: Clock) -> str:
    if value is None or value == "":
        return _NOTHING
    if field == "time":
        if not isinstance(value, Mapping):
            raise ValueError("a 'time' change needs {'starts_at': …, 'ends_at': …} on both sides")
        if value.get("timezone"):
            times = Clock(times.language, zone_of(value["timezone"]), times.reader_zone)
        venue, own = times.both(_instant(value["starts_at"]), _instant(value["ends_at"]))
        return venue.text if own is None else f"{venue.text} / {own.text}"
    if field in ("starts_at", "ends_at"):
        return times.instant(_instant(value), times.venue_zone).text
    return str(value)


def _offset_label(
    kind: str,
    extra: Mapping[str, Any],
    event: Event,
    now: datetime,
    times: Clock,
    words: gettext.NullTranslations,
) -> str:
    """How far away the event is, in words: "today", "tomorrow", "in 7 days", "in 2 hours"."""
    if kind != MessageKind.REMINDER:
        return ""
    if extra.get("offset_label"):
        return str(extra["offset_label"])
    start = aware(event.starts_at)
    if extra.get("offset_seconds") is not None:
        ahead = timedelta(seconds=int(extra["offset_seconds"]))
    else:
        ahead = start - aware(now)
    if ahead <= timedelta(0):
        return words.gettext("today")
    zone = times.venue_zone
    days = (start.astimezone(zone).date() - (start - ahead).astimezone(zone).date()).days
    if ahead < timedelta(days=1):
        if days == 0:
            return words.gettext("today")
        return format_timedelta(
            ahead, granularity="hour", threshold=100, add_direction=True, locale=times.locale
        )
    if days == 1:
        return words.gettext("tomorrow")
    return format_timedelta(
        timedelta(days=max(days, 1)),
        granularity="day",
        threshold=1000,
        add_direction=True,
        locale=times.locale,
    )


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return aware(value)
    try:
        return aware(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 instant with an offset: {value!r}") from exc
