"""The example invitation in the six languages, as it arrives over SMTP.

Loaded, imported, sent and delivered through the real path (``tests/mail/delivered.py``),
then read as a native reader would: the reader's language in every header and part,
right to left for Arabic with every Latin value isolated, each language's colon after a
label, French spacing, and the event's own words in the reader's language where the
event file gives them (the example has French and Spanish).
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.mail.bidi_check import unisolated_latin
from tests.mail.delivered import SIX, delivered_invitations

#: the subject's first word, by language: the invitation says what it is in each
SUBJECT_STARTS = {
    "en": "Invitation: ",
    "fr": "Invitation\u00a0: ",
    "es": "Invitación: ",
    "ru": "Приглашение: ",
    "ar": "دعوة: ",
    "zh": "邀请函：",
}


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, page = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and page is not None
    return str(text.get_content()), str(page.get_content())


def test_each_reader_gets_their_language_in_every_part(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    mails = delivered_invitations(tmp_path, SIX)
    for language, message in mails.items():
        text, page = _parts(message)
        assert message["Content-Language"] == language
        assert str(message["Subject"]).startswith(SUBJECT_STARTS[language]), (
            language,
            message["Subject"],
        )
        direction = "rtl" if language == "ar" else "ltr"
        assert re.search(rf'<html lang="{language}"[^>]*dir="{direction}"', page), language
        # every label is joined to its value as the language writes it
        if language == "fr":
            # (the organizers' own words, e.g. an English "Moderator:", stay as written)
            assert "Lieu\u00a0: " in text and "Date et heure\u00a0: " in text
            assert not re.search(r"(Lieu|Adresse|Date et heure|Accepter|Décliner): ", text)
        elif language == "zh":
            assert not re.search(r"[\u4e00-\u9fff]: ", text)
    arabic_text, arabic_page = _parts(mails["ar"])
    assert unisolated_latin(arabic_page) == []
    assert "\u2068405 East 42nd Street" in arabic_text
    # the event file has French and Spanish words: those readers get them, others the default
    for language in ("fr", "es"):
        text, page = _parts(mails[language])
        assert "The Inter-Ethnic City" not in str(mails[language]["Subject"]), language
    english_title = html.unescape(_parts(mails["en"])[1])
    assert "The Inter-Ethnic City" in english_title
