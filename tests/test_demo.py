"""``roundtable demo`` as a user runs it: loads the example, fills the outbox, serves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from roundtable.db import read_session
from roundtable.demo_rehearsal import PARTICIPANTS, rebuild_rehearsal
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.mail.model import Message
from roundtable.paths import examples_dir
from roundtable.types import utcnow
from roundtable.workflows.event_changes import apply_event_file
from tests.ports import free_port

pytestmark = pytest.mark.slow


def test_demo_serves_the_dashboard_and_a_working_rsvp_link(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUNDTABLE_")}
    roundtable = Path(sys.executable).with_name("roundtable")
    log = tmp_path / "demo.log"
    for run in (1, 2):  # the second run finds everything in place
        process = subprocess.Popen(
            [str(roundtable), "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            link = _wait_for_link(log, process)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            page = httpx.get(link, timeout=5)
            assert page.status_code == 200 and "Inter-Ethnic City" in page.text
            login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
            assert login.status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        text = log.read_text()
        if run == 1:
            assert "invitations queued: 43" in text
        else:
            assert "invitations queued: 0" in text and "already loaded" in text
    outbox = list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert len(outbox) >= 43


def _wait_for_link(log: Path, process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"RSVP link:\s+(\S+)", log.read_text())
        if found and "Uvicorn running" in log.read_text():
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"roundtable demo exited:\n{log.read_text()}")
        time.sleep(0.3)
    pytest.fail(f"roundtable demo did not start:\n{log.read_text()}")


def test_the_rehearsal_is_rebuilt_minutes_ahead(sqlite_engine: Engine) -> None:
    examples = examples_dir()
    apply_event_file(examples / "inter-ethnic-city.toml", now=utcnow())
    import_invitee_file(examples / "invitees.csv", "inter-ethnic-city", skip_invalid=False)
    for _ in range(2):
        now = utcnow()
        rehearsal = rebuild_rehearsal(
            examples / "inter-ethnic-city.toml", examples / "invitees.csv", now=now
        )
        assert rehearsal.invited == PARTICIPANTS
        assert now < rehearsal.starts_at <= now + timedelta(minutes=4)
    with read_session() as session:
        invitations = session.exec(
            select(func.count()).select_from(Invitation).where(Invitation.event_id != 1)
        ).one()
        kinds = dict(
            session.exec(
                select(Message.kind, func.count())
                .where(Message.event_id != 1)
                .group_by(Message.kind)
            ).all()
        )
    assert invitations == PARTICIPANTS, "the old rehearsal was replaced, not added to"
    assert kinds["invitation"] == PARTICIPANTS and kinds["confirmation"] == 2
    assert kinds["reminder"] == 2 * PARTICIPANTS and kinds["nudge"] == PARTICIPANTS
    assert kinds["followup"] == PARTICIPANTS
