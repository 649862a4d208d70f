"""The example invitation as it arrives: loaded, sent and delivered through the real path.

``events load`` the example event, ``invitees import`` one invitee per language,
``invitations send``, then the outbox rows are delivered over SMTP to a server in the
test process; what that server received is returned, parsed, by the language of its
HTML part. Shared by the phone-layout and spam-rule tests.
"""

from __future__ import annotations

import csv
import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.mail.model import Message
from roundtable.mail.transports import open_transport
from roundtable.paths import examples_dir
from tests.mail.smtp_server import SmtpSink

LANGUAGES = ("en", "ar", "zh", "fr")
#: the six official languages of the United Nations
SIX = ("ar", "zh", "en", "fr", "ru", "es")
SLUG = "inter-ethnic-city"


def one_per_language(tmp_path: Path, languages: tuple[str, ...] = LANGUAGES) -> Path:
    """The example invitee file cut to its first invitee in each of ``languages``."""
    with (examples_dir() / "invitees.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    chosen = [next(row for row in rows if row["language"] == lang) for lang in languages]
    path = tmp_path / "invitees.csv"
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen)
    return path


def delivered_invitations(
    tmp_path: Path, languages: tuple[str, ...] = LANGUAGES
) -> dict[str, EmailMessage]:
    """events load → invitees import → invitations send → delivery to SMTP; by language.

    Needs a database (the ``sqlite_engine`` or ``engine`` fixture).
    """
    runner = CliRunner()
    for args in (
        ["events", "load", str(examples_dir() / "inter-ethnic-city.toml")],
        ["invitees", "import", SLUG, str(one_per_language(tmp_path, languages))],
        ["invitations", "send", SLUG],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    with read_session() as session:
        rows = session.exec(select(Message)).all()
        ids = [row.id for row in rows if row.id is not None]
    with SmtpSink() as sink, open_transport(sink.url) as transport:
        deliver_batch(ids, transport)
        received = [email.message_from_bytes(m.data, policy=default) for m in sink.messages]
    by_language: dict[str, EmailMessage] = {}
    for message in received:
        assert isinstance(message, EmailMessage)
        html_part = message.get_body(("html",))
        assert html_part is not None
        language = re.search(r'<html lang="([a-z]+)"', html_part.get_content())
        assert language is not None
        by_language[language.group(1)] = message
    assert sorted(by_language) == sorted(languages)
    return by_language
