"""The invitee's pages in French, Spanish, Arabic, Chinese and Russian, over HTTP.

An invitee who reads another language sees the whole page in it, dates too,
and not a page half in English: every string the pages use has a translation
in every catalog, and the page shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.errors import Problem
from roundtable.events.model import AgendaItem
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.rsvp import Reply, ReplyError, reply_from_form, respond
from roundtable.people.model import Contact
from roundtable.presentation import i18n
from roundtable.types import utcnow
from roundtable.web.app import create_app
from roundtable.web.rsvp import problem_text
from tests.invitations.rsvp_support import add_event, invitation, invite, snapshot
from tests.mail.bidi_check import unisolated_latin
from tests.mail.test_mail_catalogs import (
    CATALOG_LANGUAGES,
    catalog,
    page_messages,
    reply_messages,
)

BASE_URL = "https://rsvp.example.org"  # what the ``env`` fixture configures
NBSP = "\u00a0"  # French sets it before ":", "?" and inside « »


@dataclass(frozen=True)
class Expected:
    """What an invitee's page must say in their language."""

    language: str
    direction: str
    will_you_attend: str
    send_reply: str
    not_replied: str
    #: the meeting's date at the venue, and in Tokyo, where it is already Friday
    venue_date: str
    own_date: str


EXPECTED = [
    Expected(
        "fr",
        "ltr",
        f"Participerez-vous à la réunion{NBSP}?",
        "Envoyer ma réponse",
        "Vous n’avez pas encore répondu.",
        "jeudi 23 septembre 2027",
        "vendredi 24 septembre 2027",
    ),
    Expected(
        "es",
        "ltr",
        "¿Asistirá usted a la reunión?",
        "Enviar mi respuesta",
        "Aún no ha respondido.",
        "jueves, 23 de septiembre de 2027",
        "viernes, 24 de septiembre de 2027",
    ),
    Expected(
        "ar",
        "rtl",
        "هل ستحضرون الاجتماع؟",
        "إرسال ردي",
        "لم تردّوا على الدعوة بعد.",
        "الخميس، 23 سبتمبر 2027",
        "الجمعة، 24 سبتمبر 2027",
    ),
    Expected(
        "zh",
        "ltr",
        "您是否出席？",
        "提交回复",
        "您尚未回复。",
        "2027年9月23日星期四",
        "2027年9月24日星期五",
    ),
    Expected(
        "ru",
        "ltr",
        "Примете ли Вы участие?",
        "Отправить ответ",
        "Вы ещё не ответили.",
        "четверг, 23 сентября 2027\u202fг.",
        "пятница, 24 сентября 2027\u202fг.",
    ),
]


@pytest.fixture
def web(sqlite_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def visible_text(html: str) -> str:
    """What a reader sees: the text between tags, not URLs or attribute values.

    Only ASCII white space is folded: the no-break spaces of French typography stay.
    """
    collector = _TextCollector()
    collector.feed(html)
    return re.sub(r"[ \t\r\n]+", " ", " ".join(collector.chunks)).strip()


def add_full_event() -> int:
    """An event that shows every part of the page: co-organizers, webcast, agenda, guests."""
    event_id = add_event(
        co_organizers=["IOM", "UNAoC"],
        description="Opening **remarks**.",
        webcast_url="https://webtv.un.org/",
        max_guests=2,
        rsvp_deadline=utcnow() + timedelta(days=30),
    )
    with write_session() as session:
        session.add(
            AgendaItem(
                event_id=event_id,
                position=0,
                time="13:15",
                title="Opening",
                speakers=["Director General, IOM"],
            )
        )
    return event_id


def shows(text: str, phrase: str) -> bool:
    """``phrase`` stands in ``text`` as words of its own ("Accept", but not in "Accepter")."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def english_strings_on(page_text: str) -> list[str]:
    """The pages' English source strings that the English page shows."""
    sources = [message for _context, message in page_messages()]
    return [message for message in sources if shows(page_text, message)]


def forms(value: object) -> tuple[str, ...]:
    """A catalog field, one string or its plural forms, as a tuple of strings."""
    if isinstance(value, tuple | list):
        return tuple(str(form or "") for form in value)
    return (str(value or ""),)


def post_reply(client: TestClient, token: str, **fields: str) -> str:
    """Reply with the page's own form; returns the page the browser lands on."""
    answer = post_form(client, token, **fields)
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"]).text


def post_form(client: TestClient, token: str, **fields: str) -> httpx.Response:
    """Send the page's own form, with its token, as the browser would; returns the answer."""
    page = client.get(f"/rsvp/{token}").text
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', page)
    assert found, "the page carries its form token"
    return client.post(
        f"/rsvp/{token}",
        data={"form_token": found.group(1), **fields},
        headers={"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"},
    )


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_every_string_of_the_pages_is_translated(language: str) -> None:
    """Fuzzy entries count as missing: the compiled catalog leaves them out.

    Jinja puts a page's translation into the HTML unescaped, so "<" or "&" in one
    would be markup; the catalogs hold plain text.
    """
    entries = {(m.context, forms(m.id)[0]): m for m in catalog(language) if m.id}
    problems = []
    for key in page_messages():
        entry = entries.get(key)
        if entry is None or entry.fuzzy:
            problems.append(("missing" if entry is None else "fuzzy", key[1]))
        elif not all(form.strip() for form in forms(entry.string)):
            problems.append(("empty", key[1]))
        elif any(char in form for form in forms(entry.string) for char in "<&"):
            problems.append(("markup", key[1]))
    assert not problems, f"{language}: {problems}"


def test_the_extraction_finds_the_strings_of_every_page() -> None:
    sources = {message for _context, message in page_messages()}
    assert "Will you attend?" in sources  # rsvp.html, and the page's sentinel
    assert "Telephone:" in sources  # _contact.html
    assert "Skip to content" in sources  # _base.html
    assert "Stop follow-up mail" in sources  # unsubscribe.html
    assert "Too many attempts" in sources  # error.html
    assert "Invitation not found" in sources  # not_found.html
    assert "You are bringing %(num)d guest." in sources  # ngettext, keyed by its singular


@pytest.mark.parametrize("expected", EXPECTED, ids=[case.language for case in EXPECTED])
def test_the_page_is_in_the_invitees_language(web: TestClient, expected: Expected) -> None:
    event_id = add_full_event()
    _, english = invite(event_id, 1, timezone="Asia/Tokyo")
    _, token = invite(event_id, 2, timezone="Asia/Tokyo", language=expected.language)

    page = web.get(f"/rsvp/{token}")

    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{expected.language}" dir="{expected.direction}">' in html
    text = visible_text(html)
    for translated in (expected.will_you_attend, expected.send_reply, expected.not_replied):
        assert translated in text
    assert expected.venue_date in text
    assert expected.own_date in text

    english_text = visible_text(web.get(f"/rsvp/{english}").text)
    shown_in_english = english_strings_on(english_text)
    assert "Will you attend?" in shown_in_english and len(shown_in_english) > 20
    translations = i18n.translations(expected.language)
    leftovers = [
        source
        for source in shown_in_english
        if shows(text, source) and translations.gettext(source) != source  # "Outlook.com" stays
    ]
    assert not leftovers, f"English on the {expected.language} page: {leftovers}"
    assert "Thursday" not in text and "September" not in text


def test_a_reply_in_french_comes_back_in_french(web: TestClient) -> None:
    invitation_id, token = invite(add_full_event(), 1, language="fr")

    page = post_reply(web, token, response="accept", guests="2")

    assert invitation(invitation_id).status == Status.ACCEPTED
    assert '<html lang="fr" dir="ltr">' in page
    text = visible_text(page)
    assert "Nous vous remercions. Votre acceptation a bien été enregistrée" in text
    assert re.search(r"Vous avez accepté l’invitation le \d{1,2} [a-zéû]+ \d{4}\.", text)
    assert "2 invités vous accompagneront." in text
    for english in ("Thank you", "You accepted on", "You are bringing", "guests"):
        assert english not in text


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("ru", "Вас будут сопровождать 2 гостя."),
        ("ar", "سيرافقكم ضيفان."),
        ("zh", "将有2位嘉宾随同您出席。"),
        ("es", "Le acompañarán 2 invitados."),
    ],
)
def test_the_number_of_guests_agrees_with_the_language(
    web: TestClient, language: str, sentence: str
) -> None:
    _, token = invite(add_full_event(), 1, language=language)
    page = post_reply(web, token, response="accept", guests="2")
    assert sentence in visible_text(page)


def test_the_follow_up_page_speaks_the_invitees_language_too(web: TestClient) -> None:
    _, token = invite(add_full_event(), 1, language="ru")
    text = visible_text(web.get(f"/rsvp/{token}/unsubscribe").text)
    assert "Отказаться от последующих рассылок" in text
    assert "Stop follow-up mail" not in text


# --- the reply form's problems ----------------------------------------------------------


def field_errors(html: str) -> list[str]:
    """The problems the page shows beside the form's fields."""
    return [
        visible_text(match)
        for match in re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', html, re.S)
    ]


@pytest.mark.parametrize(
    ("fields", "english", "french"),
    [
        (
            {"response": "accept", "guests": "abc"},
            "The number of guests must be a whole number from 0 to 2.",
            "Le nombre d’invités doit être un nombre entier compris entre 0 et 2.",
        ),
        (
            {"response": "accept", "notes": "n" * 2001},
            "Notes can be at most 2,000 characters long.",
            "Vos remarques ne peuvent pas dépasser 2\u202f000 caractères.",  # French groups digits
        ),
    ],
)
def test_a_mistake_is_explained_in_the_invitees_language(
    web: TestClient, fields: dict[str, str], english: str, french: str
) -> None:
    event_id = add_full_event()
    _, english_token = invite(event_id, 1)
    _, french_token = invite(event_id, 2, language="fr")
    before = snapshot()

    in_french = post_form(web, french_token, **fields)
    in_english = post_form(web, english_token, **fields)

    assert (in_french.status_code, in_english.status_code) == (422, 422)
    assert '<html lang="fr" dir="ltr">' in in_french.text
    assert field_errors(in_french.text) == [french]
    assert french in visible_text(in_french.text)  # the summary above the form too
    assert english not in in_french.text
    assert field_errors(in_english.text) == [english]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("es", "El número de acompañantes debe ser un número entero entre 0 y 2."),
        ("ar", "يجب أن يكون عدد الضيوف عددًا صحيحًا من 0 إلى 2."),
        ("zh", "嘉宾人数必须是0至2之间的整数。"),
        ("ru", "Число гостей должно быть целым числом от 0 до 2."),
    ],
)
def test_every_language_explains_a_mistake(web: TestClient, language: str, sentence: str) -> None:
    _, token = invite(add_full_event(), 1, language=language)
    answer = post_form(web, token, response="accept", guests="many")
    assert answer.status_code == 422
    assert field_errors(answer.text) == [sentence]


def test_a_representative_left_half_named_is_explained_in_russian(web: TestClient) -> None:
    _, token = invite(add_full_event(), 1, language="ru")
    answer = post_form(web, token, response="accept", substitute_email="ana@example.org")
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert "Просим указать имя Вашего представителя." in errors
    assert any(error.startswith("Если вместо Вас будет присутствовать") for error in errors)


def test_naming_yourself_as_representative_is_explained_in_french(web: TestClient) -> None:
    _, token = invite(add_full_event(), 1, language="fr")
    with read_session() as session:
        own = session.exec(
            select(Contact.email)
            .join(Invitation, col(Invitation.contact_id) == col(Contact.id))
            .where(Invitation.language == "fr")
        ).one()
    answer = post_form(web, token, response="decline", substitute_name="Moi", substitute_email=own)
    assert answer.status_code == 422
    assert field_errors(answer.text) == [
        "C’est votre propre adresse : veuillez indiquer celle de la personne qui vous représentera."
    ]


def problems_the_rules_can_raise() -> list[Problem]:
    """One of each problem the reply rules know, found by breaking every rule once."""
    bad_forms: list[tuple[dict[str, str], int]] = [
        ({"response": "yes", "guests": "many", "notes": "x" * 3000}, 2),
        ({"response": "accept", "guests": "1", "notes": "nul\x00"}, 0),
        ({"response": "accept", "substitute_email": "not-an-email"}, 2),
        ({"response": "decline", "substitute_name": "A\nB", "substitute_email": "a@b.org"}, 2),
        ({"response": "decline", "substitute_name": "A" * 201, "substitute_email": "a@b.org"}, 2),
    ]
    problems: list[Problem] = []
    for fields, max_guests in bad_forms:
        with pytest.raises(ReplyError) as raised:
            reply_from_form(fields, max_guests=max_guests)
        problems += raised.value.problems
    for seats_taken in (10, 9, 7):
        with pytest.raises(ReplyError) as raised:
            respond(
                Status.ACCEPTED,
                Reply("accept", guests=5),
                seats_taken=seats_taken,
                capacity=10,
                max_guests=5,
                deadline_passed=False,
            )
        problems += raised.value.problems
    return problems


def test_the_catalogs_hold_every_problem_the_rules_can_raise() -> None:
    """A sentence written without ``N_`` would never reach the catalogs, nor the page."""
    problems = problems_the_rules_can_raise()
    extracted = {message for _context, message in reply_messages()}
    raised = {getattr(problem, "msgid", problem.message) for problem in problems}
    assert raised <= extracted


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_every_problem_reads_in_the_language_without_english(language: str) -> None:
    """The compiled catalog, as the page uses it: a fuzzy entry would come out in English."""
    for problem in problems_the_rules_can_raise():
        text = problem_text(problem, language)
        assert text != problem.message, (language, problem.message)
        assert "%" not in text and text.strip() == text


def test_a_problem_the_catalogs_do_not_know_keeps_its_english() -> None:
    problem = Problem("A sentence no catalog holds.", field="x")
    assert problem_text(problem, "fr") == problem.message


def test_the_arabic_page_isolates_every_latin_value(web: TestClient) -> None:
    """Address, webcast link, co-organizers: each a run of its own on the Arabic page."""
    _, token = invite(add_full_event(), 1, language="ar")
    page = web.get(f"/rsvp/{token}").text
    assert unisolated_latin(page) == [], unisolated_latin(page)


@pytest.mark.parametrize(
    ("language", "reply", "programme"),
    [
        ("fr", f"Merci de répondre{NBSP}:", f"Programme (heure locale){NBSP}:"),
        ("ar", "يرجى الرد:", "البرنامج (بالتوقيت المحلي):"),
        ("zh", "请回复：", "议程（当地时间）："),
        ("en", "Please reply:", "Programme (local time):"),
    ],
)
def test_the_calendar_entry_speaks_the_invitees_language(
    web: TestClient, language: str, reply: str, programme: str
) -> None:
    _, token = invite(add_full_event(), 1, language=language)
    entry = Calendar.from_ical(web.get(f"/rsvp/{token}/invite.ics").content)
    description = str(next(iter(entry.walk("VEVENT")))["DESCRIPTION"])
    assert description.startswith(f"{reply} ")
    assert programme in description
    isolated = "\u2068https://webtv.un.org/\u2069" in description
    assert isolated == (language == "ar")
