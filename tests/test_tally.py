"""The counts the database keeps (roundtable.tally) say what the rows say, through every change.

Each check reads the tallies as the report does (folded counts plus changes) and
compares them with counts taken here in Python from the rows themselves, on SQLite
and on PostgreSQL: after the rows are written, after statements that change many
rows or none of what is counted, after deletions that cascade, after folds, and
while writers and folds run at once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from roundtable import db
from roundtable.delivery.sweep import fold_tallies
from roundtable.invitations import tally as invitation_tallies
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.rsvp import ACCEPT, DECLINE, Reply
from roundtable.mail import tally as message_tallies
from roundtable.mail.model import Message, MessageStatus
from roundtable.tally import Tally
from roundtable.types import utcnow
from roundtable.workflows.replies import record_reply
from roundtable.workflows.sending import send_invitations
from tests.staff.staff_support import seed_mix

TALLIES = (*invitation_tallies.TALLIES, *message_tallies.TALLIES)


def tallied(tally: Tally, event_id: int) -> dict[tuple[object, ...], tuple[int, ...]]:
    """The tally's groups as the report reads them."""
    counted = tally.counted
    keys = [counted.c[key.name] for key in tally.keys]
    counts = [counted.c[count.name] for count in tally.counts]
    with db.read_session() as session:
        rows = session.execute(select(*keys, *counts), {"event_id": event_id}).all()
    width = len(keys)
    return {tuple(row[:width]): tuple(int(n) for n in row[width:]) for row in rows}


def counted_from_rows(event_id: int) -> dict[str, dict[tuple[object, ...], tuple[int, ...]]]:
    """The same groups, counted in Python from the invitations and messages."""
    with db.read_session() as session:
        invitations = session.execute(
            select(
                Invitation.organization_id,
                Invitation.role,
                Invitation.status,
                Invitation.invited_at,
                Invitation.attended_at,
                Invitation.language,
                Invitation.first_replied_at,
            ).where(Invitation.event_id == event_id)
        ).all()
        messages = session.execute(select(Message.status).where(Message.event_id == event_id)).all()
    by_organization: dict[tuple[object, ...], list[int]] = {}
    by_role: dict[tuple[object, ...], list[int]] = {}
    by_language: Counter[tuple[object, ...]] = Counter()
    by_day: Counter[tuple[object, ...]] = Counter()
    for organization_id, role, status, invited_at, attended_at, language, first in invitations:
        by_language[(event_id, language)] += 1
        if first is not None:
            by_day[(event_id, first.astimezone(UTC).date())] += 1
        columns = by_organization.setdefault((event_id, organization_id or 0), [0] * 7)
        columns[Status.ALL.index(status)] += 1
        counts = by_role.setdefault((event_id, role, status), [0, 0, 0])
        counts[0] += 1
        counts[1] += invited_at is not None
        counts[2] += attended_at is not None
    by_status = [0] * len(MessageStatus.ALL)
    for (status,) in messages:
        by_status[MessageStatus.ALL.index(status)] += 1
    return {
        invitation_tallies.BY_ORGANIZATION.name: {k: tuple(v) for k, v in by_organization.items()},
        invitation_tallies.BY_ROLE.name: {k: tuple(v) for k, v in by_role.items()},
        invitation_tallies.BY_LANGUAGE.name: {k: (n,) for k, n in by_language.items()},
        invitation_tallies.BY_FIRST_REPLY_DAY.name: {k: (n,) for k, n in by_day.items()},
        message_tallies.BY_STATUS.name: {(event_id,): tuple(by_status)} if messages else {},
    }


def assert_tallies_agree(event_id: int) -> None:
    expected = counted_from_rows(event_id)
    for tally in TALLIES:
        assert tallied(tally, event_id) == expected[tally.name], tally.name


def changes_left(tally: Tally) -> int:
    with db.read_session() as session:
        return int(session.execute(select(func.count()).select_from(tally.changes)).scalar_one())


@pytest.fixture
def seeded(engine: Engine) -> Iterator[int]:
    yield seed_mix("inter-ethnic-city", count=43).event_id


def test_the_tallies_follow_inserts_updates_and_deletes(seeded: int) -> None:
    event_id = seeded
    assert_tallies_agree(event_id)
    with db.write_session() as session:
        ids = list(
            session.execute(
                select(Invitation.id)
                .where(Invitation.event_id == event_id, Invitation.status != Status.NOT_INVITED)
                .order_by(Invitation.id)
            ).scalars()
        )
        # Many rows in one statement, to every status from every other.
        session.execute(
            update(Invitation)
            .where(Invitation.id.in_(ids[:12]))  # type: ignore[union-attr]
            .values(status=Status.ACCEPTED, attended_at=utcnow())
        )
        # A change of nothing counted: its changes net to nothing.
        session.execute(
            update(Invitation).where(Invitation.id.in_(ids[12:20])).values(notes="Vegetarian")  # type: ignore[union-attr]
        )
        # A first reply given, another taken back (its reply log entry deleted, say).
        session.execute(
            update(Invitation)
            .where(Invitation.id == ids[23])
            .values(first_replied_at=datetime(2027, 9, 3, 23, 59, tzinfo=UTC))
        )
        session.execute(
            update(Invitation).where(Invitation.id == ids[24]).values(first_replied_at=None)
        )
        # An invitee moves to no organization, another changes role.
        session.execute(
            update(Invitation).where(Invitation.id == ids[20]).values(organization_id=None)
        )
        session.execute(update(Invitation).where(Invitation.id == ids[21]).values(role="speaker"))
        # Withdrawn: the invitation and, by cascade, its messages.
        session.execute(delete(Invitation).where(Invitation.id == ids[22]))
        # New messages, and messages that move on.
        session.execute(
            insert(Message),
            [
                {
                    "event_id": event_id,
                    "invitation_id": invitation_id,
                    "kind": "update",
                    "mailing": "update:1",
                    "status": MessageStatus.QUEUED,
                    "due_at": utcnow(),
                    "context": {},
                }
                for invitation_id in ids[:5]
            ],
        )
        session.execute(
            update(Message)
            .where(Message.event_id == event_id, Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENT)
        )
    assert_tallies_agree(event_id)


def test_the_application_s_own_writers_keep_the_tallies(seeded: int) -> None:
    """Sending the invitations and recording replies, as the service does them."""
    event_id = seeded
    send_invitations("inter-ethnic-city", now=utcnow())
    with db.read_session() as session:
        silent = list(
            session.execute(
                select(Invitation.id)
                .where(Invitation.event_id == event_id, Invitation.status == Status.INVITED)
                .order_by(Invitation.id)
            ).scalars()
        )
    assert silent, "the mix must hold invitees yet to reply"
    for number, invitation_id in enumerate(silent):
        response = (ACCEPT, DECLINE)[number % 2]
        record_reply(invitation_id, Reply(response), actor="invitee", now=utcnow())
    assert_tallies_agree(event_id)
    fold_tallies()
    assert_tallies_agree(event_id)


def test_folding_keeps_the_counts_and_empties_the_changes(seeded: int) -> None:
    event_id = seeded
    with db.write_session() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.event_id == event_id, Invitation.status == Status.INVITED)
            .values(status=Status.DECLINED)
        )
    assert all(changes_left(tally) for tally in TALLIES)
    fold_tallies()
    assert not any(changes_left(tally) for tally in TALLIES)
    assert_tallies_agree(event_id)
    fold_tallies()  # nothing to fold: nothing changes
    assert_tallies_agree(event_id)
    # Counted afresh from the rows, as the migration fills them: the same counts.
    with db.get_engine().begin() as connection:
        for tally in TALLIES:
            tally.refill(connection)
    assert_tallies_agree(event_id)


def test_a_group_counted_down_to_nothing_is_left_out(seeded: int) -> None:
    """As a count over the rows would: no organization shown with zero invitees."""
    event_id = seeded
    with db.write_session() as session:
        session.execute(delete(Invitation).where(Invitation.status == Status.NOT_INVITED))
        session.execute(
            update(Invitation)
            .where(Invitation.event_id == event_id)
            .values(status=Status.CANCELLED, role="observer")
        )
    fold_tallies()
    cancelled = Status.ALL.index(Status.CANCELLED)
    for counts in tallied(invitation_tallies.BY_ORGANIZATION, event_id).values():
        assert [n for i, n in enumerate(counts) if i != cancelled] == [0] * 6
    assert {key[1] for key in tallied(invitation_tallies.BY_ROLE, event_id)} == {"observer"}
    assert_tallies_agree(event_id)


def test_writers_and_folds_at_once_count_each_change_once(seeded: int) -> None:
    """Replies in four threads while another folds over and over: nothing lost, nothing twice."""
    event_id = seeded
    with db.read_session() as session:
        ids = list(
            session.execute(
                select(Invitation.id).where(
                    Invitation.event_id == event_id, Invitation.status != Status.NOT_INVITED
                )
            ).scalars()
        )
    stop = threading.Event()
    failures: list[BaseException] = []

    def reply(seed: int) -> None:
        chooser = random.Random(seed)
        try:
            for _ in range(40):
                with db.write_session() as session:
                    session.execute(
                        update(Invitation)
                        .where(Invitation.id == chooser.choice(ids))
                        .values(status=chooser.choice(Status.REPLIED))
                    )
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    def fold() -> None:
        try:
            while not stop.is_set():
                fold_tallies()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    folder = threading.Thread(target=fold)
    folder.start()
    writers = [threading.Thread(target=reply, args=(seed,)) for seed in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stop.set()
    folder.join()
    assert not failures, failures
    assert_tallies_agree(event_id)
    fold_tallies()
    assert_tallies_agree(event_id)


def test_the_invitee_table_counts_from_the_tally_what_the_rows_hold(seeded: int) -> None:
    """The table's total, read from the tally when neither a search nor an organization
    narrows it, is the number of rows it pages through, for every status and role."""
    from roundtable.invitations.model import InviteeRole
    from roundtable.reports.dashboard_queries import InviteeQuery, invitee_page

    event_id = seeded
    send_invitations("inter-ethnic-city", now=utcnow())  # changes left unfolded
    with db.read_session() as session:
        for status in ("", *Status.ALL):
            for role in ("", *InviteeRole.ALL):
                query = InviteeQuery(status=status, role=role, per_page=200)
                page = invitee_page(session, event_id, query)
                assert page.total == len(page.items), (status, role)
        assert invitee_page(session, event_id, InviteeQuery()).total == 43
