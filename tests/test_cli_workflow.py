"""The whole organizer workflow through the command line, as a script would drive it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import func, select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session
from roundtable.events.model import Event
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.paths import examples_dir

runner = CliRunner()
SLUG = "inter-ethnic-city"


def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _count(model: type) -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_load_import_send_publish_checkin_cancel(engine: Engine, tmp_path: Path) -> None:
    examples = examples_dir()
    loaded = _json("events", "load", str(examples / "inter-ethnic-city.toml"))
    assert loaded["created"] is True and loaded["sequence"] == 0
    assert _json("events", "load", str(examples / "inter-ethnic-city.toml"))["changed"] == []

    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nnot-an-address,Someone\nok@example.org,\n", encoding="utf-8")
    refused = runner.invoke(app, ["invitees", "import", SLUG, str(bad)])
    assert refused.exit_code == 1
    assert "bad.csv:2: email" in refused.output and "bad.csv:3: name" in refused.output
    assert _count(Invitation) == 0, "one bad row rejects the whole file"

    imported = _json("invitees", "import", SLUG, str(examples / "invitees.csv"))
    assert imported["created"] == 43 and imported["skipped"] == 0
    assert _json("invitations", "send", SLUG) == {"queued": 43}
    assert _json("invitations", "send", SLUG) == {"queued": 0}

    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("# Recommandations\nIntégration\n".encode("latin-1"))
    for path, message in ((empty, "is empty"), (latin1, "is not UTF-8 text")):
        result = runner.invoke(app, ["recommendations", "publish", SLUG, str(path)])
        assert result.exit_code == 1 and message in result.output and path.name in result.output
    published = _json("recommendations", "publish", SLUG, str(examples / "recommendations.md"))
    assert published["followups_scheduled"] == 43

    assert _json("checkin", SLUG, "amina.haddad@example.org") == {
        "checked_in": True,
        "already": False,
    }
    report = _json("report", SLUG)
    assert report["attended"] == 1 and report["invitees"] == 43

    cancelled = _json("events", "cancel", SLUG)
    assert cancelled["cancellations_queued"] == 43
    with read_session() as session:
        event = session.exec(select(Event)).one()
        kinds = dict(session.exec(select(Message.kind, func.count()).group_by(Message.kind)).all())
    assert event.status == "cancelled" and event.sequence == 1
    assert kinds["cancellation"] == 43

    again = runner.invoke(app, ["events", "load", str(examples / "inter-ethnic-city.toml")])
    assert again.exit_code == 1 and "cancelled" in again.output
    assert runner.invoke(app, ["events", "cancel", SLUG]).exit_code == 1


def test_missing_files_and_unknown_events(engine: Engine, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["events", "load", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "nope.toml" in missing.output
    unknown = runner.invoke(app, ["invitations", "send", "no-such-event"])
    assert unknown.exit_code == 1 and "no-such-event" in unknown.output
    usage = runner.invoke(app, ["invitees", "import", "only-a-slug"])
    assert usage.exit_code == 2
