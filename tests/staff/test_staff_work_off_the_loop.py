"""The dashboard's async handlers do their blocking work (parsing, hashing, database) in a
worker thread: one slow import or event save must not stall every other request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from roundtable.paths import examples_dir
from roundtable.web.app import create_app
from roundtable.workflows import events as event_workflow
from tests.staff.staff_support import add_member, client_for, seed_mix, signed_in

ADMIN = "admin@un.example.org"


@pytest.fixture
def client(sqlite_engine: Engine) -> Iterator[TestClient]:
    with client_for(create_app()) as test_client:
        yield test_client


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _watch(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[bool]:
    """Wrap ``owner.name`` (still doing the real work) to note whether each call ran on the loop."""
    calls: list[bool] = []
    real: Callable[..., Any] = getattr(owner, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        calls.append(_on_the_loop())
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, watched)
    return calls


def test_event_creation_editing_and_imports_run_in_a_worker_thread(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_member(ADMIN, "admin")
    seed_mix("tour", count=2)
    csrf = signed_in(client, ADMIN)
    created = _watch(monkeypatch, event_workflow, "create_event")
    updated = _watch(monkeypatch, event_workflow, "update_event")
    imported = _watch(monkeypatch, event_workflow, "import_invitee_data")
    text = (examples_dir() / "inter-ethnic-city.toml").read_text("utf-8")

    assert client.post("/dashboard/events/new", data={"csrf_token": csrf, "toml": text}).is_redirect
    edit = client.post(
        "/dashboard/events/inter-ethnic-city/edit", data={"csrf_token": csrf, "toml": text}
    )
    assert edit.status_code == 303
    good = (examples_dir() / "invitees.csv").read_bytes()
    answer = client.post(
        "/dashboard/events/tour/import",
        data={"csrf_token": csrf},
        files={"file": ("invitees.csv", good, "text/csv")},
    )
    assert answer.status_code == 200

    assert created == [False] and updated == [False] and imported == [False]
