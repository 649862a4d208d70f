"""The secret key stays with its database, and Message-IDs differ between installations.

Run as an operator runs them: the installed command in subprocesses, from two
working directories against one SQLite database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from roundtable import db
from roundtable.config import get_settings
from roundtable.db import read_session
from roundtable.delivery.compose import compose, load_bundle
from roundtable.types import utcnow

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ROUNDTABLE = Path(sys.executable).with_name("roundtable")
EVENT = ROOT / "examples" / "inter-ethnic-city.toml"
INVITEES = ROOT / "examples" / "invitees.csv"
SLUG = "inter-ethnic-city"


def _env(database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUNDTABLE_")}
    env["ROUNDTABLE_DATABASE_URL"] = f"sqlite:///{database}"
    env["ROUNDTABLE_MAIL_URL"] = f"file://{database.parent / 'outbox'}"
    # This checkout's code, whatever the working directory of the command.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return {**env, **extra}


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(ROUNDTABLE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _ok(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = _run(cwd, env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _refused(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = _run(cwd, env, *args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return " ".join(done.stderr.split())


def _invited(database: Path, cwd: Path) -> None:
    env = _env(database)
    _ok(cwd, env, "db", "upgrade")
    _ok(cwd, env, "events", "load", str(EVENT))
    _ok(cwd, env, "invitees", "import", SLUG, str(INVITEES))
    said = " ".join(_ok(cwd, env, "invitations", "send", SLUG).split())
    # Where the mail goes and what sends it: no broker here, and no server running.
    assert said.endswith(
        f"invitation(s) queued for the folder {database.parent / 'outbox'}; "
        "`roundtable serve` or a worker sends them"
    ), said


def test_a_second_working_directory_uses_the_databases_key_and_another_key_is_refused(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data" / "roundtable.db"
    _invited(database, tmp_path / "one")
    key_file = database.parent / "secret_key"
    assert key_file.exists(), "the generated key lives beside the database"
    assert not (tmp_path / "one" / "var" / "secret_key").exists()

    # Another folder, the same database: the same key, so the same links.
    elsewhere = tmp_path / "two"
    assert "0 invitation(s) queued" in _ok(elsewhere, _env(database), "invitations", "send", SLUG)
    assert not (elsewhere / "var").exists()

    other = _env(database, ROUNDTABLE_SECRET_KEY="another-key-" + "y" * 40)
    for command in (
        ["invitations", "send", SLUG],
        ["events", "load", str(EVENT)],
        ["events", "cancel", SLUG],
        ["serve", "--port", "1"],
    ):
        message = _refused(elsewhere, other, *command)
        assert "the secret key from ROUNDTABLE_SECRET_KEY is not the key" in message, command
        assert "roundtable db accept-key" in message
    assert "cancelled" not in _ok(elsewhere, _env(database), "report", SLUG).lower()

    # Deliberate rotation: the new key is adopted, and now the file's key is the stranger.
    assert "ROUNDTABLE_SECRET_KEY" in _ok(elsewhere, other, "db", "accept-key")
    _ok(elsewhere, other, "invitations", "send", SLUG)
    message = _refused(elsewhere, _env(database), "invitations", "send", SLUG)
    assert f"the secret key from the key file {key_file} is not the key" in message


def test_a_worker_with_another_key_does_not_start(tmp_path: Path, redis_url: str) -> None:
    database = tmp_path / "data" / "roundtable.db"
    _invited(database, tmp_path / "one")
    env = _env(
        database, ROUNDTABLE_SECRET_KEY="another-key-" + "y" * 40, ROUNDTABLE_BROKER_URL=redis_url
    )
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.run(
        [str(celery), "-A", "workers", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 1
    assert "the secret key from ROUNDTABLE_SECRET_KEY is not the key" in worker.stderr


def test_a_database_other_than_sqlite_needs_the_key(tmp_path: Path) -> None:
    env = _env(tmp_path / "unused.db")
    env["ROUNDTABLE_DATABASE_URL"] = "postgresql+psycopg://127.0.0.1:1/nothing"
    message = _refused(tmp_path, env, "invitations", "send", SLUG)
    assert "ROUNDTABLE_SECRET_KEY is not set: a postgresql database needs it" in message


def _first_message_id(database: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """The Message-ID of outbox row 1 composed twice (a resend), and the database's part."""
    monkeypatch.setenv("ROUNDTABLE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("ROUNDTABLE_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    db.reset_engines()
    try:
        with read_session() as session:
            bundle = load_bundle(session, 1)
        first = str(compose(bundle, utcnow())["Message-ID"])
        with read_session() as session:
            again = str(compose(load_bundle(session, 1), utcnow())["Message-ID"])
    finally:
        db.reset_engines()
        get_settings.cache_clear()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        part = connection.execute(text("SELECT message_id_part FROM installation")).scalar_one()
    engine.dispose()
    return first, again, part


def test_two_installations_never_mint_the_same_message_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = []
    for name in ("this-year", "next-year"):
        database = tmp_path / name / "roundtable.db"
        _invited(database, tmp_path / name)
        first, again, part = _first_message_id(database, monkeypatch)
        assert first == again, "a resend of one row keeps its Message-ID"
        assert re.fullmatch(rf"<msg-1\.{part}@[a-z0-9.-]+>", first)
        ids.append(first)
    assert ids[0] != ids[1]


def test_the_message_id_on_the_wire_carries_the_installation_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker writes for row 1 is what the database's part says."""
    from roundtable.delivery.deliver import deliver_batch
    from roundtable.mail.transports import open_transport

    database = tmp_path / "data" / "roundtable.db"
    _invited(database, tmp_path / "one")
    _, _, part = _first_message_id(database, monkeypatch)
    monkeypatch.setenv("ROUNDTABLE_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    db.reset_engines()
    outbox = tmp_path / "wire"
    try:
        with open_transport(f"file://{outbox}") as transport:
            deliver_batch([1], transport)
    finally:
        db.reset_engines()
        get_settings.cache_clear()
    [written] = list(outbox.glob("*.eml"))
    sent = message_from_bytes(written.read_bytes())
    assert sent["Message-ID"].startswith(f"<msg-1.{part}@")


# -- first steps: a database not (yet) at this code's schema -----------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["invitations", "send", SLUG],
        ["events", "load", str(EVENT)],
        ["invitees", "import", SLUG, str(INVITEES)],
        ["report", SLUG],
        ["staff", "list"],
        ["db", "accept-key"],
    ],
)
def test_a_database_never_upgraded_says_what_to_run(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "data" / "roundtable.db"
    message = _refused(tmp_path / "fresh", _env(database), *command)
    assert "has no schema yet: run `roundtable db upgrade` first" in message
    assert str(database) in message


def test_a_database_newer_than_the_code_says_so(tmp_path: Path) -> None:
    database = tmp_path / "data" / "roundtable.db"
    _ok(tmp_path, _env(database), "db", "upgrade")
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    message = _refused(tmp_path, _env(database), "report", SLUG)
    assert "at revision 0099_from_the_future, newer than this version of Roundtable" in message


def test_the_report_tells_mail_due_now_from_mail_due_later(tmp_path: Path) -> None:
    """Invitations wait for a worker (``queued``); reminders and the nudge wait for their time."""
    import json

    database = tmp_path / "data" / "roundtable.db"
    _invited(database, tmp_path / "one")
    delivery = json.loads(_ok(tmp_path, _env(database), "report", SLUG, "--json"))["delivery"]
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        kinds = dict(
            connection.execute(text("SELECT kind, count(*) FROM message GROUP BY kind")).all()
        )
    engine.dispose()
    assert delivery["queued"] == kinds.pop("invitation") > 0
    assert delivery["scheduled"] == sum(kinds.values()) > 0, "reminders and the nudge"
    assert list(delivery)[:2] == ["scheduled", "queued"]
    text_report = _ok(tmp_path, _env(database), "report", SLUG)
    assert "scheduled" in text_report and "queued" in text_report
