"""Typography as native readers expect it: the catalogs, French spacing and elision.

``msgfmt -c`` is GNU gettext's own check of a catalog (headers, plural forms, the
placeholders of every ``python-format`` entry); it runs here on each catalog as shipped.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from roundtable.mail.model import KINDS
from roundtable.mail.render import render
from roundtable.presentation import i18n
from tests.mail.samples import french_contact, sample_contact, sample_context, sample_event

CATALOGS = sorted(i18n.LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<style.*?</style>", re.S)
#: an ordinary space before the high punctuation, inside guillemets, or none at all before a
#: colon after a word ("Salle: …"; a time's "13:15" and a link's "https://" are not labels)
_LOOSE = re.compile(r"\S [:;!?»]|« |[^\W\d_]:(?!//)")
#: a Chinese label joined to its value with a Latin colon instead of the full-width one
_LATIN_COLON_AFTER_HAN = re.compile(r"[\u4e00-\u9fff]: ")


def test_there_is_a_catalog_for_every_language_but_english() -> None:
    assert sorted(path.parts[-3] for path in CATALOGS) == sorted(set(i18n.BABEL_LOCALES) - {"en"})


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.parts[-3])
def test_msgfmt_checks_every_catalog(catalog: Path, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt is missing: install gettext (`make test` does)")
    result = subprocess.run(
        [msgfmt, "-c", "-o", str(tmp_path / "messages.mo"), str(catalog)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _visible(text: str) -> str:
    """What the reader sees of an HTML part: no head, no style sheet, no tags."""
    body = text.split("<body", 1)[-1].split(">", 1)[-1]
    return html.unescape(_TAG.sub("", _STYLE.sub("", body)))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_french_mail_keeps_no_break_spaces_in_both_parts(kind: str) -> None:
    rendered = render(kind, sample_context(kind, french_contact()))
    parts = {"subject": rendered.subject, "text": rendered.text, "html": _visible(rendered.html)}
    for part, text in parts.items():
        loose = [match.group(0) for match in _LOOSE.finditer(text)]
        assert not loose, f"{kind} {part}: ordinary space in {loose}"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_chinese_labels_take_the_full_width_colon(kind: str) -> None:
    contact = sample_contact(email="li.wei@mission.example.org", full_name="李伟", language="zh")
    rendered = render(kind, sample_context(kind, contact))
    for text in (rendered.text, _visible(rendered.html)):
        assert not _LATIN_COLON_AFTER_HAN.findall(text), kind


def test_french_elides_de_before_a_vowel_but_leaves_the_events_own_words_alone() -> None:
    event = sample_event(organizer_name="Organisation internationale", title="Prix de Alger")
    rendered = render("invitation", sample_context("invitation", french_contact(), event=event))
    for text in (rendered.text, _visible(rendered.html)):
        assert "Au nom d’Organisation internationale" in text
        assert "au nom d’Organisation internationale." in text
        assert "«\u00a0Prix de Alger\u00a0»" in text
    consonant = sample_event(organizer_name="Mission permanente du Canada")
    rendered = render("invitation", sample_context("invitation", french_contact(), event=consonant))
    assert "au nom de Mission permanente du Canada." in rendered.text


def test_elision_is_french_only() -> None:
    assert i18n.typeset("es", "de\u00a0Asia") == "de\u00a0Asia"
    assert i18n.typeset("fr", "que\u00a0il") == "qu’il"
    assert i18n.typeset("fr", "de\u00a0Genève") == "de Genève"
