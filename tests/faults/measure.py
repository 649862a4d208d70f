"""The figures of a fault test: expected, received, duplicated, in flight; and the outbox's end.

Messages are told apart by their ``Message-ID``, which is derived from the outbox
row: a resend of the same row carries the same one, so the sink's copies of it
count as duplicates whatever connection or worker they came through.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass

from sqlmodel import col, select

from roundtable.db import read_session
from roundtable.installation.service import message_id_part
from roundtable.mail.mime import make_message_id
from roundtable.mail.model import Message, MessageStatus
from roundtable.types import utcnow
from tests.integration.pipeline import ROOT
from tests.mail.smtp_server import SmtpSink

#: the organizer's domain of the events the fault tests create
DOMAIN = "iom.example.org"
REPORT = ROOT / "test-artifacts" / "faults.jsonl"


@dataclass(frozen=True)
class Tally:
    """One line of the report: ``received`` distinct messages, ``duplicated`` extra copies."""

    fault: str
    expected: int
    received: int
    duplicated: int
    in_flight_at_fault: int
    #: copies of messages that should not have been sent at all
    unexpected: int
    #: the most attempts any expected row took
    max_attempts: int
    seconds: float

    def line(self) -> str:
        return (
            f"fault={self.fault} expected={self.expected} received={self.received} "
            f"duplicated={self.duplicated} in_flight_at_fault={self.in_flight_at_fault} "
            f"unexpected={self.unexpected} max_attempts={self.max_attempts} "
            f"seconds={self.seconds:.1f}"
        )


def tally(
    fault: str,
    expected_rows: Collection[int],
    sink: SmtpSink,
    *,
    in_flight: int,
    started: float,
) -> Tally:
    """Count what the sink received against the rows that should have arrived, and record it.

    The line is printed (``pytest -s``) and appended to ``test-artifacts/faults.jsonl``
    before the test asserts anything, so that a failing run leaves its figures too.
    """
    part = message_id_part()
    wanted = {make_message_id(row, DOMAIN, installation=part) for row in expected_rows}
    copies = Counter(str(received.message["Message-ID"]) for received in sink.messages)
    with read_session() as session:
        attempts = session.exec(
            select(Message.attempts).where(col(Message.id).in_(list(expected_rows)))
        ).all()
    result = Tally(
        fault=fault,
        expected=len(wanted),
        received=len(wanted & copies.keys()),
        duplicated=sum(n - 1 for header, n in copies.items() if header in wanted),
        in_flight_at_fault=in_flight,
        unexpected=sum(n for header, n in copies.items() if header not in wanted),
        max_attempts=max(attempts, default=0),
        seconds=round(time.monotonic() - started, 1),
    )
    print(f"\n{result.line()}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as report:
        report.write(json.dumps({**asdict(result), "at": utcnow().isoformat()}) + "\n")
    return result


def rows(*, kinds: Collection[str] | None = None, due_only: bool = True) -> list[Message]:
    """The outbox rows (of these kinds) that are due now, or all of them, in id order."""
    with read_session() as session:
        query = select(Message)
        if due_only:
            query = query.where(col(Message.due_at) <= utcnow())
        if kinds is not None:
            query = query.where(col(Message.kind).in_(list(kinds)))
        return list(session.exec(query.order_by(col(Message.id))).all())


def in_flight() -> int:
    """Rows claimed by a worker and not yet recorded: what a fault may catch mid-send."""
    with read_session() as session:
        return len(
            session.exec(select(Message.id).where(Message.status == MessageStatus.SENDING)).all()
        )


def settled(ids: Collection[int]) -> bool:
    """Every one of these rows has reached a final state."""
    final = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.DROPPED)
    with read_session() as session:
        states = session.exec(select(Message.status).where(col(Message.id).in_(list(ids)))).all()
    return len(states) == len(ids) and all(state in final for state in states)


def outbox_problems(sent: Collection[int], *, max_attempts: int) -> list[str]:
    """What is wrong with how the outbox ended, empty when it is consistent.

    Consistent: the rows meant to go out are ``sent`` with their ``Message-ID`` and
    time recorded, no due row is left ``queued`` or ``sending`` (nor holds a lease),
    and no row took more attempts than the fault explains.
    """
    problems = []
    wanted = set(sent)
    part = message_id_part()
    for row in rows():
        assert row.id is not None
        where = f"row {row.id} ({row.kind}, {row.status}, attempts {row.attempts})"
        if row.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
            problems.append(f"{where}: left unfinished")
        if row.lease_until is not None:
            problems.append(f"{where}: still holds a lease")
        if row.id in wanted:
            if row.status != MessageStatus.SENT:
                problems.append(f"{where}: not sent")
            elif row.message_id != make_message_id(row.id, DOMAIN, installation=part):
                problems.append(f"{where}: sent without its Message-ID")
            elif row.sent_at is None:
                problems.append(f"{where}: sent without its time")
            if not 1 <= row.attempts <= max_attempts:
                problems.append(f"{where}: implausible attempt count")
        elif row.status == MessageStatus.SENT:
            problems.append(f"{where}: sent, but it should not have been")
    return problems
