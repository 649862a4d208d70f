"""The event's own words in other languages: read, refused with file/line/field, written back."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy.engine import Engine

from roundtable.db import read_session, write_session
from roundtable.errors import InputError
from roundtable.events.service import agenda_of, get_event, load_event
from roundtable.events.spec import MAX_LENGTHS, parse_event_mapping
from roundtable.events.spec_export import event_mapping, event_toml
from roundtable.types import utcnow
from tests.events.event_files import SAMPLE, SOURCE, line_of, only_problem, parse, problems_of

FRENCH = """
[translations.fr]
title = "La ville interethnique"
format = "Table ronde de haut niveau"
description = \"\"\"
Les villes **accueillent** les migrants.
\"\"\"
access = "Entrée avec un badge ; pièce d'identité."
"""
FIRST_AGENDA_TITLE = 'title = "Opening remarks"'


def _with_agenda_translation(text: str, value: str) -> str:
    return text.replace(FIRST_AGENDA_TITLE, f"{FIRST_AGENDA_TITLE}\ntranslations = {value}", 1)


def test_translations_and_access_are_read() -> None:
    text = _with_agenda_translation(SAMPLE + FRENCH, '{ fr = "Ouverture", es = "Apertura" }')
    spec = parse(text.replace("[organizer]", 'access = "Bring **photo ID**."\n\n[organizer]', 1))
    assert spec.access == "Bring **photo ID**."
    assert spec.translations == {
        "fr": {
            "title": "La ville interethnique",
            "format": "Table ronde de haut niveau",
            "description": "Les villes **accueillent** les migrants.",
            "access": "Entrée avec un badge ; pièce d'identité.",
        }
    }
    assert spec.agenda[0].translations == {"fr": "Ouverture", "es": "Apertura"}
    assert spec.agenda[1].translations == {}


def test_an_unknown_language_is_named_with_its_line() -> None:
    text = SAMPLE + FRENCH.replace("[translations.fr]", "[translations.de]")
    problem = only_problem(text)
    assert problem.field == "translations.de"
    assert problem.line == line_of(text, "[translations.de]")
    assert problem.source == SOURCE and "fr, es, ar, zh, ru" in problem.message


def test_an_unknown_key_in_a_translation_is_named() -> None:
    text = SAMPLE + FRENCH.replace('format = "Table', 'formt = "Table')
    problem = only_problem(text)
    assert problem.field == "translations.fr.formt"
    assert problem.line == line_of(text, "formt")
    assert "did you mean 'format'" in problem.message


def test_agenda_translations_are_checked_like_titles() -> None:
    long_title = "x" * (MAX_LENGTHS["agenda.title"] + 1)
    text = _with_agenda_translation(SAMPLE, f'{{ en = "Opening", fr = "{long_title}" }}')
    found = {problem.field: problem for problem in problems_of(text)}
    assert set(found) == {"agenda[1].translations.en", "agenda[1].translations.fr"}
    assert "the event's own words are in English" in found["agenda[1].translations.en"].message
    assert "at most 500 fit" in found["agenda[1].translations.fr"].message
    assert found["agenda[1].translations.fr"].line == line_of(text, "translations = ")


def test_the_api_mapping_is_checked_the_same_way() -> None:
    document = tomllib.loads(SAMPLE)
    document["translations"] = {"fr": {"title": 3}, "xx": {}}
    with pytest.raises(InputError) as caught:
        parse_event_mapping(document, "api")
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"translations.fr.title", "translations.xx"}


def test_stored_translations_are_written_back_and_read_the_same(sqlite_engine: Engine) -> None:
    text = _with_agenda_translation(SAMPLE + FRENCH, '{ fr = "Ouverture", "es" = "Apertura" }')
    spec = parse(text.replace("[organizer]", 'access = "Bring photo ID."\n\n[organizer]', 1))
    with write_session() as session:
        load_event(session, spec, utcnow())
    with read_session() as session:
        event = get_event(session, spec.slug)
        mapping = event_mapping(event, agenda_of(session, event))
    written = event_toml(mapping)
    assert "[translations.fr]" in written
    assert 'translations = { fr = "Ouverture", es = "Apertura" }' in written
    again = parse(written)
    assert again.translations == spec.translations and again.access == spec.access
    assert again.agenda == spec.agenda
