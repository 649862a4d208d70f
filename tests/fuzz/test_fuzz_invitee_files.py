"""Fuzzing ``roundtable invitees import SLUG FILE``: every file is imported whole, or refused
whole with an InputError naming the file, the line and the column; never half of it."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session
from roundtable.errors import InputError
from roundtable.events.model import Event
from roundtable.invitations.invitee_file import parse_invitee_bytes
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.people.model import Contact
from tests.fuzz.strategies import (
    FUZZ,
    LONG_IDNA_EMAIL,
    assert_cli_refusal_is_clean,
    assert_names_file_line_and_field,
    invitee_files,
    lines_in,
    run_command,
    scaled,
)
from tests.invitations.rsvp_support import add_event, snapshot

SLUG = "fuzz-import"
runner = CliRunner()


def _event_id() -> int:
    with read_session() as session:
        found = session.exec(select(Event.id).where(Event.slug == SLUG)).first()
    return found if found is not None else add_event(SLUG)


def _listed(event_id: int) -> set[str]:
    """The addresses on the event's list."""
    with read_session() as session:
        return set(
            session.exec(
                select(Contact.email)
                .join(Invitation, col(Invitation.contact_id) == col(Contact.id))
                .where(Invitation.event_id == event_id)
            ).all()
        )


def _invitations() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(Invitation)).one())


@settings(FUZZ, max_examples=scaled(70))
@given(data=invitee_files(), skip_invalid=st.booleans())
@example(
    data=f"email,name\nana@example.org,Ana\n{LONG_IDNA_EMAIL},Long\n".encode(), skip_invalid=False
)
@example(data=f"email,name\n{LONG_IDNA_EMAIL},Long\n".encode(), skip_invalid=True)
@example(data=b"email,name\nana@example.org,\"=cmd|' /C calc'!A0\r\n\"\n", skip_invalid=False)
@example(data=b"email,name\nana@example.org," + b"x" * 140_000 + b"\n", skip_invalid=False)
@example(data=b"\xff\xfee\x00m\x00a\x00i\x00l\x00", skip_invalid=True)
def test_a_file_is_imported_whole_or_refused_whole(
    engine: Engine, tmp_path: Path, data: bytes, skip_invalid: bool
) -> None:
    event_id = _event_id()
    path = tmp_path / "fuzzed invitees.csv"
    path.write_bytes(data)
    parsed = parse_invitee_bytes(data, str(path))
    before, listed_before = snapshot(), _listed(event_id)

    try:
        result = import_invitee_file(path, SLUG, skip_invalid=skip_invalid)
    except InputError as error:
        assert snapshot() == before, "a refused file must write nothing"
        assert not skip_invalid or not parsed.readable
        assert_names_file_line_and_field(error, str(path), lines_in(data))
        return

    assert skip_invalid or not parsed.problems
    listed = _listed(event_id)
    assert {row.email for row in parsed.rows} <= listed, "every valid row is on the list"
    assert len(listed - listed_before) == result.created
    assert result.created + result.updated + result.unchanged == len(parsed.rows)
    for problem in result.skipped:
        assert problem.source == str(path) and problem.line and problem.field, problem


@settings(FUZZ, max_examples=scaled(12))
@given(data=invitee_files())
def test_the_command_exits_0_or_1_and_names_file_and_line(
    sqlite_engine: Engine, tmp_path: Path, data: bytes
) -> None:
    _event_id()
    path = tmp_path / "cli.csv"
    path.write_bytes(data)
    invitations = _invitations()
    result = runner.invoke(app, ["invitees", "import", SLUG, str(path)])
    assert_cli_refusal_is_clean(
        result, f"error: {path}:", unchanged=lambda: _invitations() == invitations
    )


def test_the_installed_command_refuses_a_utf16_file_with_formulas_and_writes_nothing(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _event_id()
    path = tmp_path / "from-excel.csv"
    path.write_bytes("email,name\n=cmd@example.org,=cmd|' /C calc'!A0\n".encode("utf-16"))
    done = run_command("invitees", "import", SLUG, str(path))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"error: {path}:1: the file is not UTF-8 (byte 0xFF" in done.stderr
    assert _invitations() == 0
