"""Fuzzing ``roundtable events load FILE``: whatever the file holds, the event is loaded, or
an InputError names the file, the line and the field, and the database is as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.errors import InputError
from roundtable.events.spec import MAX_FILE_BYTES
from roundtable.workflows.event_changes import apply_event_file
from tests.fuzz.strategies import (
    EVENT_BASE,
    FILE_ENCODINGS,
    FUZZ,
    LONG_IDNA_EMAIL,
    EventFile,
    assert_cli_refusal_is_clean,
    assert_names_file_line_and_field,
    encoded,
    event_files,
    lines_in,
    render_event,
    run_command,
    scaled,
    toml_noise,
)
from tests.invitations.rsvp_support import snapshot

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
runner = CliRunner()


def _load(path: Path, data: bytes) -> InputError | None:
    """Load the file as ``events load`` does; the InputError if it is refused."""
    path.write_bytes(data)
    before = snapshot()
    try:
        apply_event_file(path, now=NOW)
    except InputError as error:
        assert snapshot() == before, "a refused event file must change nothing"
        return error
    return None


def _event_file(**changes: object) -> EventFile:
    """The sample with these values, as an explicit example."""
    rendered = render_event({**EVENT_BASE, **changes})
    return EventFile(rendered.text, rendered.lines, tuple(changes))


@settings(FUZZ, max_examples=scaled(70))
@given(case=event_files())
@example(case=_event_file(timezone="Europe/Zurich", starts="2027-03-28T02:30:00"))
@example(case=_event_file(starts="2027-02-30T10:00:00"))
@example(case=_event_file(title="<script>\x00</script>"))
@example(case=_event_file(capacity=2**63))
@example(case=_event_file(organizer={"name": "IOM", "email": LONG_IDNA_EMAIL}))
def test_a_file_with_hostile_values_loads_or_names_line_and_field(
    engine: Engine, tmp_path: Path, case: EventFile
) -> None:
    path = tmp_path / "fuzzed event.toml"
    error = _load(path, case.text.encode("utf-8"))
    if error is None:
        again = apply_event_file(path, now=NOW)
        assert again.changed_fields == (), "loading the same file twice must change nothing"
        return
    assert_names_file_line_and_field(error, str(path), case.text.count("\n") + 1)
    for problem in error.problems:
        if problem.message.startswith("is not valid TOML"):
            continue
        assert problem.field is not None
        assert case.may_name(problem.field), f"{problem} (changed: {case.changed})"
        assert problem.line == case.expected_line(problem.field), str(problem)


@settings(FUZZ, max_examples=scaled(60))
@given(
    text=toml_noise(),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8", *FILE_ENCODINGS]),
)
@example(text="a = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
@example(text="title = '" + "x" * (MAX_FILE_BYTES + 1) + "'", encoding="utf-8")
def test_any_text_in_any_encoding_loads_or_is_refused_whole(
    engine: Engine, tmp_path: Path, text: str, encoding: str
) -> None:
    path = tmp_path / "noise.toml"
    data = encoded(text, encoding)
    error = _load(path, data)
    if error is not None:
        assert_names_file_line_and_field(error, str(path), lines_in(data))


@settings(FUZZ, max_examples=scaled(30))
@given(data=st.binary(max_size=400))
def test_random_bytes_are_refused_without_a_trace(
    engine: Engine, tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "bytes.toml"
    error = _load(path, data)
    if error is not None:
        assert_names_file_line_and_field(error, str(path), lines_in(data))


@settings(FUZZ, max_examples=scaled(12))
@given(case=event_files())
def test_the_command_exits_0_or_1_with_located_messages(
    sqlite_engine: Engine, tmp_path: Path, case: EventFile
) -> None:
    path = tmp_path / "cli.toml"
    path.write_text(case.text, encoding="utf-8")
    before = snapshot()
    result = runner.invoke(app, ["events", "load", str(path)])
    assert_cli_refusal_is_clean(result, f"error: {path}", unchanged=lambda: snapshot() == before)


def test_the_installed_command_reports_hostile_files_and_exits_1(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The real process, as a script runs it: exit code, stderr, and no traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        render_event(
            {**EVENT_BASE, "timezone": "Mars/Olympus", "title": "=cmd|' /C calc'!A0\x00"}
        ).text,
        encoding="utf-8",
    )
    before = snapshot()
    done = run_command("events", "load", str(bad))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{bad}:6: timezone: 'Mars/Olympus' is not a time zone" in done.stderr
    assert f"{bad}:2: title: contains a NUL character" in done.stderr
    assert snapshot() == before
