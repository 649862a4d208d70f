"""The example roundtable in ``examples/`` is what ``make demo`` loads and what people copy.

These are checks of the files themselves, independent of the code that imports them: the
shape docs/interfaces.md gives them ("Files"), fictional addresses only, and the languages
that show what multilingual invitations look like.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EVENT_FILE = EXAMPLES / "inter-ethnic-city.toml"
INVITEE_FILE = EXAMPLES / "invitees.csv"
RECOMMENDATIONS_FILE = EXAMPLES / "recommendations.md"
README = EXAMPLES / "README.md"

INVITEE_HEADER = [
    "honorific",
    "first_name",
    "last_name",
    "position",
    "organization",
    "email",
    "role",
    "language",
    "timezone",
]
#: the keys of docs/interfaces.md, "Event file" (``max_guests`` the one beyond the first contract)
EVENT_KEYS = {
    "slug",
    "title",
    "format",
    "starts",
    "ends",
    "timezone",
    "venue",
    "room",
    "address",
    "webcast_url",
    "capacity",
    "max_guests",
    "rsvp_deadline",
    "reminders",
    "nudge",
    "followup_after",
    "description",
    "access",
    "co_organizers",
    "organizer",
    "contact",
    "agenda",
    "translations",
}
ORGANIZER_KEYS = {"name", "email"}
CONTACT_KEYS = {"name", "office", "phone", "email"}
AGENDA_KEYS = {"time", "title", "speakers", "translations"}
TRANSLATED_KEYS = {"title", "format", "description", "access"}

ROLES = {"participant", "speaker", "panellist", "moderator", "observer"}
LANGUAGES = {"en", "fr", "es", "ar", "zh", "ru"}
FICTIONAL_DOMAINS = ("example.org", "example.net")
DURATION = re.compile(r"[1-9][0-9]*[mhd]")


def invitees() -> list[dict[str, str]]:
    text = INVITEE_FILE.read_bytes().decode("utf-8")  # strict: a stray Latin-1 byte fails here
    return list(csv.DictReader(io.StringIO(text, newline="")))


def event() -> dict[str, Any]:
    with EVENT_FILE.open("rb") as handle:
        return tomllib.load(handle)


def is_fictional(address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    fictional = any(domain == d or domain.endswith("." + d) for d in FICTIONAL_DOMAINS)
    return bool(local) and local.isascii() and fictional


def local_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- invitees ------------------------------------------------------------------------------------


def test_invitee_file_is_utf8_with_the_expected_header() -> None:
    text = INVITEE_FILE.read_bytes().decode("utf-8")
    assert not text.startswith("\ufeff")
    assert next(csv.reader(io.StringIO(text))) == INVITEE_HEADER


def test_there_are_about_forty_invitees_each_complete() -> None:
    rows = invitees()
    assert 35 <= len(rows) <= 45
    for row in rows:
        assert None not in row, f"a row has more cells than the header: {row}"
        assert row["first_name"] and row["last_name"] and row["email"], row


def test_invitee_addresses_are_unique_and_fictional() -> None:
    addresses = [row["email"] for row in invitees()]
    assert len({address.lower() for address in addresses}) == len(addresses)
    assert [address for address in addresses if not is_fictional(address)] == []


def test_invitees_show_every_language_and_role() -> None:
    rows = invitees()
    assert {row["language"] for row in rows} == LANGUAGES
    roles = [row["role"] for row in rows]
    assert set(roles) == ROLES
    assert (roles.count("panellist"), roles.count("moderator")) == (2, 1)


def test_invitee_time_zones_are_iana_names() -> None:
    for row in invitees():
        if row["timezone"]:
            ZoneInfo(row["timezone"])


def test_names_in_other_scripts_are_written_in_them() -> None:
    by_language: dict[str, list[str]] = {}
    for row in invitees():
        by_language.setdefault(row["language"], []).append(row["first_name"] + row["last_name"])
    scripts = {"ar": "\u0600-\u06ff", "zh": "\u4e00-\u9fff", "ru": "\u0400-\u04ff"}
    for language, letters in scripts.items():
        assert any(re.search(f"[{letters}]", name) for name in by_language[language]), language


# -- the event -----------------------------------------------------------------------------------


def test_event_file_has_only_the_keys_of_the_contract() -> None:
    document = event()
    assert set(document) <= EVENT_KEYS, set(document) - EVENT_KEYS
    assert set(document["organizer"]) == ORGANIZER_KEYS
    assert set(document["contact"]) == CONTACT_KEYS
    for item in document["agenda"]:
        assert {"time", "title"} <= set(item) <= AGENDA_KEYS, item
        assert set(item.get("translations", {})) <= LANGUAGES - {"en"}, item
    assert set(document["translations"]) == {"fr", "es"}
    for words in document["translations"].values():
        assert set(words) == TRANSLATED_KEYS


def test_event_times_are_local_and_in_order() -> None:
    document = event()
    ZoneInfo(document["timezone"])
    starts, ends = local_time(document["starts"]), local_time(document["ends"])
    deadline = local_time(document["rsvp_deadline"])
    assert all(moment.tzinfo is None for moment in (starts, ends, deadline))
    assert deadline < starts < ends
    agenda = [time.fromisoformat(item["time"]) for item in document["agenda"]]
    assert agenda == sorted(agenda)
    assert starts.time() <= agenda[0] and agenda[-1] < ends.time()


@pytest.mark.parametrize("key", ["nudge", "followup_after"])
def test_event_durations_are_written_as_the_contract_says(key: str) -> None:
    assert DURATION.fullmatch(event()[key])


def test_event_reminders_are_durations() -> None:
    reminders = event()["reminders"]
    assert reminders and all(DURATION.fullmatch(reminder) for reminder in reminders)


def test_event_addresses_are_fictional() -> None:
    document = event()
    assert is_fictional(document["organizer"]["email"])
    assert is_fictional(document["contact"]["email"])


# -- the other files -----------------------------------------------------------------------------


def test_recommendations_are_markdown_with_sections() -> None:
    text = RECOMMENDATIONS_FILE.read_bytes().decode("utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert len(headings) >= 4 and "Next steps" in headings
    assert re.search(r"^- ", text, flags=re.MULTILINE)


def test_readme_commands_use_the_example_files_and_slug() -> None:
    text = README.read_text(encoding="utf-8")
    slug = event()["slug"]
    commands = [line for line in text.splitlines() if line.startswith("roundtable ")]
    assert commands
    for command in commands:
        words = command.split()
        for path in (word for word in words if word.startswith("examples/")):
            assert (EXAMPLES.parent / path).is_file(), path
        if words[1] not in {"db", "events"}:
            assert slug in words, command
