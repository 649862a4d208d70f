"""Statuses, message kinds, reply responses and refusal codes are StrEnums, defined once.

A value such as ``"deadline_passed"`` used to be repeated as a literal in three files;
now each is a member of one enum and nothing outside its definition compares with the
literal. The staff report is a dataclass whose ``as_dict()`` is the JSON it always was.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.events.model import EventStatus
from roundtable.invitations.model import InviteeRole, Status
from roundtable.invitations.rsvp import Refusal, Response
from roundtable.mail.model import KINDS, MessageKind, MessageStatus
from roundtable.reports.event_report import EventReport

ROOT = Path(__file__).resolve().parents[1]
ENUMS: tuple[type[StrEnum], ...] = (
    Status,
    MessageStatus,
    MessageKind,
    EventStatus,
    Response,
    Refusal,
    InviteeRole,
)
#: values that are also ordinary words elsewhere (a Markdown heading, a form field) are left out
GUARDED = {m.value for m in (*Refusal, *MessageKind, *MessageStatus)} - {"update", "invitation"}


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_each_is_a_str_enum_with_the_stored_values(enum: type[StrEnum]) -> None:
    assert issubclass(enum, StrEnum)
    assert all(member == member.value and str(member) == member.value for member in enum)


def test_the_tuples_reports_use_keep_their_order() -> None:
    assert Status.ALL == (
        "not_invited",
        "invited",
        "accepted",
        "tentative",
        "declined",
        "waitlisted",
        "cancelled",
    )
    assert set(Status.REPLIED) == {"accepted", "tentative", "declined", "waitlisted"}
    assert MessageStatus.ALL == ("queued", "sending", "sent", "failed", "missed", "dropped")
    assert tuple(KINDS) == tuple(MessageKind)
    assert InviteeRole.ALL == ("participant", "speaker", "panellist", "moderator", "observer")
    assert "ALL" not in InviteeRole.__members__
    assert "ALL" not in Status.__members__ and "ALL" not in MessageStatus.__members__


def _compared_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                if isinstance(operand, ast.Constant) and operand.value in GUARDED:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {operand.value!r}")
    return found


def test_no_code_compares_with_a_literal_status_kind_or_refusal() -> None:
    offending = [
        hit
        for base in (ROOT / "src" / "roundtable", ROOT / "workers")
        for path in sorted(base.rglob("*.py"))
        for hit in _compared_literals(path)
    ]
    assert not offending, offending


def test_the_report_is_a_dataclass_whose_json_keeps_its_shape(sqlite_engine: Engine) -> None:
    event_file = ROOT / "examples" / "inter-ethnic-city.toml"
    runner = CliRunner()
    assert runner.invoke(app, ["events", "load", str(event_file)]).exit_code == 0
    result = runner.invoke(app, ["report", "inter-ethnic-city", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    fields = [field.name for field in dataclasses.fields(EventReport)]
    assert list(document) == fields
    assert fields == [
        "event",
        "title",
        "starts_at",
        "event_status",
        "invitees",
        "status",
        "response_rate",
        "by_organization",
        "by_role",
        "delivery",
        "attended",
    ]
    assert document["status"] == dict.fromkeys(Status.ALL, 0)
    assert document["delivery"] == dict.fromkeys(("scheduled", *MessageStatus.ALL), 0)
    assert document["event_status"] == "scheduled"
