"""One presentation of an event to one reader, for the RSVP page, every mail and the calendar.

The page, the mail and the calendar file used to format times, zones, places and the
contact person each their own way (room and venue in another order; the page fell
back to the organizer as contact and the mail showed none; "your zone differs"
compared start and end on the page, the start only in mail). Here is the one way:

- a place reads from the smallest part to the largest, as an address does:
  room, venue, then the street address;
- times are shown on the venue's clock, and on the reader's own clock as well when
  it reads differently at the start or at the end;
- the person to ask is the event's contact, or else its organizer;
- a webcast is a link only when it is an ``http(s)`` address;
- the event's own words (title, format, description, access, agenda titles) are in the
  reader's language where the event gives them (``Event.translations``), else as written;
  words shown in another language than the reader's carry that language (``lang``) and
  ``dir="auto"`` in HTML.

Pure: no database and no clock; the reader's language and zone are passed in.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import Locale
from babel.dates import format_date, format_interval, format_skeleton, get_timezone_location
from babel.lists import format_list
from markupsafe import Markup

from roundtable.events.model import AgendaItem, Event
from roundtable.events.spec_translations import EVENT_LANGUAGE
from roundtable.presentation import i18n
from roundtable.presentation.markdown import markdown_to_html, markdown_to_text


@dataclass(frozen=True)
class When:
    """An interval or instant as read in one time zone."""

    #: "Thursday, 23 September 2027, 13:15–15:00 (New York time, EDT)"
    text: str
    #: "23 September 2027": short enough for a subject line
    date: str
    #: "Thursday, 23 September 2027": the day, for a page's first line
    day: str
    #: "13:15–15:00", or "13:15 – Friday, 24 September 2027, 10:00" across days
    hours: str
    #: "New York time, EDT"
    zone: str


@dataclass(frozen=True)
class EventWords:
    """The event's own words for one reader: their language where the event gives it."""

    title: str
    format: str
    description: str
    access: str
    #: the words left in the event's own language for a reader of another ("" when none)
    title_lang: str
    description_lang: str
    access_lang: str


def event_words(event: Event, language: str) -> EventWords:
    """Title, format, description and access in ``language`` where translated, else as written."""
    language = i18n.supported_language(language)
    given = event.translations.get(language, {}) if language != EVENT_LANGUAGE else {}

    def word(key: str, written: str) -> tuple[str, str]:
        if given.get(key):
            return given[key], ""
        return written, EVENT_LANGUAGE if written and language != EVENT_LANGUAGE else ""

    title, title_lang = word("title", event.title)
    format_, _ = word("format", event.format)
    description, description_lang = word("description", event.description)
    access, access_lang = word("access", event.access)
    return EventWords(
        title, format_, description, access, title_lang, description_lang, access_lang
    )


def agenda_title(item: AgendaItem, language: str) -> str:
    """An agenda item's title in ``language`` where translated, else as written."""
    return item.translations.get(i18n.supported_language(language)) or item.title


def written_in(language: str, translated: bool = False) -> str:
    """The language of words as written, when a reader of ``language`` reads them untranslated."""
    return (
        "" if translated or i18n.supported_language(language) == EVENT_LANGUAGE else EVENT_LANGUAGE
    )


def in_language(html: Markup, lang: str) -> Markup:
    """``html`` marked as written in ``lang``, its direction its own, when not the page's."""
    if not html or not lang:
        return html
    return Markup('<div lang="{}" dir="auto">{}</div>').format(lang, html)


@dataclass(frozen=True)
class AgendaLine:
    time: str
    title: str
    #: the title's language when it is not the reader's ("" when it is)
    title_lang: str
    speakers: tuple[str, ...]
    description_html: Markup
    description_text: str


@dataclass(frozen=True)
class ContactPerson:
    """Whom to ask for further information: the event's contact, else its organizer."""

    name: str
    office: str
    phone: str
    email: str

    @property
    def one_line(self) -> str:
        """ "Ms. Ana Ruiz, IOM New York, +1 212 681 7000, events@iom.example.org"."""
        return ", ".join(part for part in (self.name, self.office, self.phone, self.email) if part)


@dataclass(frozen=True)
class EventView:
    """An event as one reader reads it: every value formatted, nothing left to compute."""

    title: str
    #: the event's own word for itself ("High-Level Roundtable"), or "meeting"
    format: str
    description_html: Markup
    description_text: str
    #: how to enter the venue, for confirmations and reminders
    access_html: Markup
    access_text: str
    #: the language of the title when it is not the reader's ("" when it is)
    title_lang: str
    #: on whose behalf we write: the organizer, then its co-organizers, as a localized list
    hosts: str
    #: the same hosts one by one, for a masthead that gives each its own line (a long Latin
    #: name would otherwise wrap inside right-to-left text)
    host_names: tuple[str, ...]
    co_organizers: str
    venue: str
    room: str
    address: str
    #: room and venue in one phrase: "Conference Room 6, United Nations Headquarters"
    place: str
    #: the place with its street address, as a calendar's LOCATION
    location: str
    #: an http(s) link, or "" (an event file could hold ``javascript:``)
    webcast_url: str
    #: in the venue's zone
    time: When
    #: in the reader's zone, only when their clock reads differently
    local_time: When | None
    deadline: When | None
    deadline_local: When | None
    agenda: tuple[AgendaLine, ...]
    organizer_name: str
    organizer_email: str
    contact: ContactPerson


def present_event(
    event: Event,
    agenda: Sequence[AgendaItem],
    *,
    language: str,
    reader_zone: ZoneInfo | None,
) -> EventView:
    """``event`` as a reader of ``language`` whose clock is ``reader_zone`` reads it."""
    clock = Clock(language, zone_of(event.timezone), reader_zone)
    words = clock.words
    own = event_words(event, clock.language)
    time, local_time = clock.both(event.starts_at, event.ends_at)
    deadline = deadline_local = None
    if event.rsvp_deadline is not None:
        deadline, deadline_local = clock.both(event.rsvp_deadline)
    co_organizers = list(event.co_organizers)
    # The organizer speaks first, on behalf of itself and its co-organizers.
    host_names = (
        event.organizer_name,
        *(c for c in co_organizers if c != event.organizer_name),
    )
    # Each name its own run, so an Arabic "و" does not join the Latin name beside it.
    hosts = [i18n.isolate(language, name) for name in host_names]
    named_co_organizers = [i18n.isolate(language, name) for name in co_organizers]
    return EventView(
        title=own.title,
        format=own.format or words.gettext("meeting"),
        description_html=in_language(markdown_to_html(own.description), own.description_lang),
        description_text=markdown_to_text(own.description),
        access_html=in_language(markdown_to_html(own.access), own.access_lang),
        access_text=markdown_to_text(own.access),
        title_lang=own.title_lang,
        hosts=format_list(hosts, locale=clock.locale),
        host_names=host_names,
        co_organizers=(
            format_list(named_co_organizers, locale=clock.locale) if co_organizers else ""
        ),
        venue=event.venue,
        room=event.room,
        address=event.address,
        place=place_of(event),
        location=location_of(event),
        webcast_url=web_link(event.webcast_url) or "",
        time=time,
        local_time=local_time,
        deadline=deadline,
        deadline_local=deadline_local,
        agenda=tuple(
            AgendaLine(
                time=item.time,
                title=agenda_title(item, clock.language),
                title_lang=written_in(clock.language, bool(item.translations.get(clock.language))),
                speakers=tuple(item.speakers),
                description_html=in_language(
                    markdown_to_html(item.description), written_in(clock.language)
                ),
                description_text=markdown_to_text(item.description),
            )
            for item in sorted(agenda, key=lambda item: item.position)
        ),
        organizer_name=event.organizer_name,
        organizer_email=event.organizer_email,
        contact=contact_person(event),
    )


def place_of(event: Event) -> str:
    """Room and venue: "Conference Room 6, United Nations Headquarters"."""
    return ", ".join(part for part in (event.room, event.venue) if part)


def location_of(event: Event) -> str:
    """Room, venue and street address: where a calendar or a map looks."""
    return ", ".join(part for part in (event.room, event.venue, event.address) if part)


def contact_person(event: Event) -> ContactPerson:
    """The event's contact when it names one; else the organizer, who always can be asked."""
    if any((event.contact_name, event.contact_office, event.contact_phone, event.contact_email)):
        return ContactPerson(
            event.contact_name, event.contact_office, event.contact_phone, event.contact_email
        )
    return ContactPerson(event.organizer_name, "", "", event.organizer_email)


_WEB_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def web_link(url: str) -> str | None:
    """``url`` when it may become a link (http or https); ``None`` otherwise."""
    return url if _WEB_LINK.match(url or "") else None


class Clock:
    """Formats instants for one reader: on the venue's clock, and on theirs when it differs."""

    def __init__(self, language: str, venue_zone: ZoneInfo, reader_zone: ZoneInfo | None) -> None:
        self.language = i18n.supported_language(language)
        self.locale: Locale = i18n.babel_locale(self.language)
        self.words: gettext.NullTranslations = i18n.translations(self.language)
        self.venue_zone = venue_zone
        self.reader_zone = reader_zone

    def interval(self, start: datetime, end: datetime, zone: ZoneInfo) -> When:
        start, end = aware(start).astimezone(zone), aware(end).astimezone(zone)
        day = format_date(start, "full", locale=self.locale)
        if start.date() == end.date():
            hours = format_interval(start, end, "Hm", tzinfo=zone, locale=self.locale)
            moment = self._date_time(day, hours)
        else:
            hours = f"{self._hours(start)} – {self._full(end)}"
            moment = f"{self._full(start)} – {self._full(end)}"
        zone_label = self.zone_label(zone, start)
        return When(
            text=f"{moment} ({zone_label})",
            date=format_date(start, "long", locale=self.locale),
            day=day,
            hours=hours,
            zone=zone_label,
        )

    def instant(self, at: datetime, zone: ZoneInfo) -> When:
        at = aware(at).astimezone(zone)
        zone_label = self.zone_label(zone, at)
        return When(
            text=f"{self._full(at)} ({zone_label})",
            date=format_date(at, "long", locale=self.locale),
            day=format_date(at, "full", locale=self.locale),
            hours=self._hours(at),
            zone=zone_label,
        )

    def both(self, start: datetime, end: datetime | None = None) -> tuple[When, When | None]:
        """On the venue's clock, and on the reader's when it shows another time."""

        def show(zone: ZoneInfo) -> When:
            return self.interval(start, end, zone) if end else self.instant(start, zone)

        venue = show(self.venue_zone)
        own = self.reader_zone
        if own is None or not clocks_differ(self.venue_zone, own, start, end):
            return venue, None
        return venue, show(own)

    def zone_label(self, zone: ZoneInfo, at: datetime) -> str:
        """ "New York time, EDT" in English; "heure de New York, UTC-4" in French."""
        offset = utc_offset(at)
        if zone.key == "UTC" or zone.key.startswith("Etc/"):
            return offset
        abbreviation = at.tzname() or ""
        if self.language != "en" or not abbreviation.isalpha():
            abbreviation = i18n.isolate(self.language, offset)
        city = get_timezone_location(zone, locale=self.locale, return_city=True)
        named = self.words.gettext("%(city)s time, %(abbreviation)s") % {
            "city": city,
            "abbreviation": abbreviation,
        }
        return i18n.typeset(self.language, named)

    def _hours(self, at: datetime) -> str:
        return format_skeleton("Hm", at, tzinfo=at.tzinfo, locale=self.locale)

    def _full(self, at: datetime) -> str:
        return self._date_time(format_date(at, "full", locale=self.locale), self._hours(at))

    def _date_time(self, date: str, hours: str) -> str:
        pattern = str(self.locale.datetime_formats["medium"])
        return pattern.replace("{1}", date).replace("{0}", hours)


def clocks_differ(venue: ZoneInfo, own: ZoneInfo, start: datetime, end: datetime | None) -> bool:
    """Worth a second line only when the reader's clock says something else, then or at the end."""
    return any(
        aware(at).astimezone(venue).utcoffset() != aware(at).astimezone(own).utcoffset()
        for at in (start, end)
        if at is not None
    )


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def utc_offset(at: datetime) -> str:
    """ "UTC", "UTC-4", "UTC+5:30"."""
    offset = at.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r} where an aware instant is required")
    return at


@dataclass(frozen=True)
class CalendarWords:
    """The labels of a calendar entry's DESCRIPTION, in the reader's language."""

    cancelled: str
    reply: str
    programme: str
    webcast: str
    contact: str


def calendar_words(language: str) -> CalendarWords:
    """The DESCRIPTION's labels from the same catalogs as the mail and the page."""
    words = i18n.translations(language)
    return CalendarWords(
        cancelled=words.gettext("This event has been cancelled."),
        reply=words.gettext("Please reply:"),
        programme=words.gettext("Programme (local time):"),
        webcast=words.gettext("Webcast:"),
        contact=words.gettext("For further information, please contact:"),
    )
