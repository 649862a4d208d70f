"""The command line: staff accounts, tokens, check-in and the report.

As docs/interfaces.md describes them ("Commands", "Report").
"""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from roundtable.cli import app
from roundtable.db import read_session, write_session
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import hash_token
from roundtable.mail.model import Message, MessageStatus
from roundtable.people.model import Organization
from roundtable.staff.accounts import password_matches, staff_for_token
from roundtable.staff.model import StaffUser
from tests.factories import invitee_details, make_contact, make_event

runner = CliRunner()


def test_staff_add_with_password_from_stdin(engine: Engine) -> None:
    result = runner.invoke(
        app,
        ["staff", "add", "Officer@Example.org", "--role", "organizer", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with read_session() as session:
        user = session.exec(select(StaffUser)).one()
    assert user.email == "officer@example.org" and user.role == "organizer"
    assert password_matches(user.password_hash, "correct horse battery")
    assert "correct horse" not in (user.password_hash or "")


def test_staff_add_refuses_bad_input_and_writes_nothing(engine: Engine) -> None:
    result = runner.invoke(app, ["staff", "add", "not-an-address", "--role", "emperor"])
    assert result.exit_code == 1
    assert "email" in result.output and "role" in result.output
    with read_session() as session:
        assert session.exec(select(StaffUser)).all() == []


def test_staff_add_twice_is_an_error(engine: Engine) -> None:
    assert runner.invoke(app, ["staff", "add", "a@example.org", "--role", "viewer"]).exit_code == 0
    again = runner.invoke(app, ["staff", "add", "A@example.org", "--role", "viewer"])
    assert again.exit_code == 1 and "exists" in again.output


def test_staff_token_is_shown_once_and_stored_hashed(engine: Engine) -> None:
    runner.invoke(app, ["staff", "add", "a@example.org", "--role", "admin"])
    result = runner.invoke(app, ["staff", "token", "a@example.org", "--json"])
    assert result.exit_code == 0, result.output
    token = json.loads(result.stdout)["token"]
    with read_session() as session:
        user = staff_for_token(session, token)
        assert user is not None and user.email == "a@example.org"
        assert staff_for_token(session, token[:-1] + ("x" if token[-1] != "x" else "y")) is None
        from roundtable.staff.model import ApiToken

        assert session.exec(select(ApiToken.token_hash)).one() != token


def test_staff_token_for_unknown_account(engine: Engine) -> None:
    result = runner.invoke(app, ["staff", "token", "nobody@example.org"])
    assert result.exit_code == 1 and "no staff account" in result.output


def test_usage_errors_exit_2(engine: Engine) -> None:
    assert runner.invoke(app, ["staff", "add", "a@example.org"]).exit_code == 2
    assert runner.invoke(app, ["report"]).exit_code == 2


def _populate() -> dict[str, int]:
    """An event with a known mix of replies, organizations, roles and messages."""
    statuses = [
        Status.NOT_INVITED,
        Status.INVITED,
        Status.INVITED,
        Status.ACCEPTED,
        Status.ACCEPTED,
        Status.ACCEPTED,
        Status.TENTATIVE,
        Status.DECLINED,
        Status.WAITLISTED,
    ]
    with write_session() as session:
        event = make_event()
        italy, canada = Organization(name="Permanent Mission of Italy"), Organization(name="Canada")
        session.add_all([event, italy, canada])
        session.flush()
        for n, status in enumerate(statuses):
            contact = make_contact(n)
            session.add(contact)
            session.flush()
            invitation = Invitation(
                event_id=event.id,
                contact_id=contact.id,
                **invitee_details(n),
                organization_id=(italy if n % 2 else canada).id,
                status=status,
                role="panellist" if n < 2 else "participant",
                token_hash=None if status == Status.NOT_INVITED else hash_token(f"t{n}"),
                invited_at=None if status == Status.NOT_INVITED else event.created_at,
                attended_at=event.starts_at if n == 3 else None,
            )
            session.add(invitation)
            session.flush()
            if status != Status.NOT_INVITED:
                session.add(
                    Message(
                        event_id=event.id,
                        invitation_id=invitation.id,
                        kind="invitation",
                        mailing="invitation",
                        status=MessageStatus.FAILED if n == 1 else MessageStatus.SENT,
                    )
                )
    return {"invited": 8, "replies": 6}


def test_report_json_counts_match_the_rows(engine: Engine) -> None:
    expected = _populate()
    result = runner.invoke(app, ["report", "roundtable", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["event"] == "roundtable"
    assert report["invitees"] == 9
    assert report["status"] == {
        "not_invited": 1,
        "invited": 2,
        "accepted": 3,
        "tentative": 1,
        "declined": 1,
        "waitlisted": 1,
        "cancelled": 0,
    }
    assert report["response_rate"] == round(expected["replies"] / expected["invited"], 4)
    assert report["delivery"]["sent"] == 7 and report["delivery"]["failed"] == 1
    assert report["delivery"]["queued"] == 0
    assert report["attended"] == 1
    assert sum(report["by_organization"]["Permanent Mission of Italy"].values()) == 4
    assert sum(report["by_organization"]["Canada"].values()) == 5
    assert report["by_role"]["panellist"] == {"not_invited": 1, "invited": 1}


def test_report_text_and_csv(engine: Engine) -> None:
    _populate()
    text = runner.invoke(app, ["report", "roundtable"])
    assert text.exit_code == 0 and "Italy" in text.stdout and "Replies" in text.stdout
    csv_out = runner.invoke(app, ["report", "roundtable", "--csv"])
    assert csv_out.exit_code == 0
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("email,") and len(lines) == 10


def test_report_unknown_event(engine: Engine) -> None:
    result = runner.invoke(app, ["report", "nope", "--json"])
    assert result.exit_code == 1 and "nope" in result.output


def test_checkin_marks_attendance_once(engine: Engine) -> None:
    _populate()
    first = runner.invoke(app, ["checkin", "roundtable", "GUEST4@example.org"])
    assert first.exit_code == 0 and "checked in" in first.stdout
    again = runner.invoke(app, ["checkin", "roundtable", "guest4@example.org", "--json"])
    assert json.loads(again.stdout) == {"checked_in": True, "already": True}
    missing = runner.invoke(app, ["checkin", "roundtable", "stranger@example.org"])
    assert missing.exit_code == 1 and "not on the list" in missing.output
    with read_session() as session:
        attended = session.exec(
            select(Invitation).where(Invitation.attended_at.is_not(None))  # type: ignore[union-attr]
        ).all()
    assert len(attended) == 2
