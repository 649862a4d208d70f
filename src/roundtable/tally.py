"""Counts the database keeps: a table's rows tallied per group, read without counting them.

The staff report over 100,000 invitations and 300,000 messages counted every row
each time it was opened (docs/architecture.md, "Reports"); a tally keeps the counts
as the rows change, so that the report reads one row per group instead.

A tally is two tables beside its source table:

- ``<name>_change``: what each change of the source added to or took from the
  counts, appended by triggers on the source. PostgreSQL runs one trigger per
  statement, which sees every row the statement changed (its transition tables);
  SQLite runs one per row. Appending takes no lock another writer waits for: the
  replies of 32 invitees at once do not queue behind one counter row.
- ``<name>``: the folded counts, one row per group. :func:`fold` moves the changes
  into it (the sweep does, every dispatch interval), so that the changes stay few.

A group's count is the sum of both (:func:`counted`). The triggers are the only
writers, so every path that changes the source is counted: the application's ORM
and Core statements, the benchmark's SQL, an administrator's ``psql``.

The same definition makes the tables, the triggers (``create_all`` and the migration
that introduced them) and the statements that fold and read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    Table,
    UniqueConstraint,
    bindparam,
    event,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from roundtable.db import is_postgresql_connection

#: PostgreSQL's names for the rows a statement changed, as the triggers declare them
NEW_ROWS, OLD_ROWS = "new_rows", "old_rows"

#: the event whose groups :attr:`Tally.counted` reads: passed as ``{"event_id": …}``
EVENT_ID = bindparam("event_id", type_=Integer)


@dataclass(frozen=True)
class Key:
    """A column the counts are grouped by, and how a source row gives its value.

    ``expression`` is SQL over one source row, written ``{row}.column``. It may be
    NULL only for rows that count nothing (a NULL group is never folded into one row).
    """

    name: str
    type: TypeEngine[Any]
    expression: str
    #: the expression on SQLite, where it must be written otherwise (dates, say)
    sqlite_expression: str | None = None
    #: whether rows that count nothing may have no value here (no day for no reply)
    nullable: bool = False

    def on(self, dialect: str) -> str:
        """The expression on ``dialect``, ``{row}`` still to be named."""
        if dialect == "sqlite" and self.sqlite_expression:
            return self.sqlite_expression
        return self.expression


@dataclass(frozen=True)
class Count:
    """A count: ``expression`` is 1 for a source row that counts, 0 for one that does not."""

    name: str
    expression: str


@dataclass(frozen=True)
class Tally:
    """A source table's rows counted by ``keys``; the first key is the event's id."""

    name: str
    source: str
    keys: tuple[Key, ...]
    counts: tuple[Count, ...]
    folded: Table
    changes: Table

    # --- reading -------------------------------------------------------------------------

    @cached_property
    def counted(self) -> Any:
        """The groups of the event ``:event_id`` with their counts, folded and changes summed.

        A subquery built once: a statement over it, built once too, is executed with
        ``{"event_id": …}`` (:data:`EVENT_ID`). Building it anew for each read cost the
        event page some 0.8 ms a tally, three times what the database took for most.

        Groups whose counts all came to zero (every invitee of an organization moved
        to another status) are left out, as a count over the source would not see them.
        """
        parts = [
            select(*(table.c[key.name] for key in self.keys), *self._count_columns(table)).where(
                table.c[self.keys[0].name] == EVENT_ID
            )
            for table in (self.folded, self.changes)
        ]
        both = union_all(*parts).subquery()
        sums = [func.sum(both.c[count.name]).label(count.name) for count in self.counts]
        statement: Select[Any] = (
            select(*(both.c[key.name] for key in self.keys), *sums)
            .group_by(*(both.c[key.name] for key in self.keys))
            .having(or_(*(total != 0 for total in self._sums(both))))
        )
        return statement.subquery()

    def _count_columns(self, table: Table) -> list[ColumnElement[Any]]:
        return [table.c[count.name] for count in self.counts]

    def _sums(self, table: Any) -> list[ColumnElement[Any]]:
        return [func.sum(table.c[count.name]) for count in self.counts]

    # --- folding -------------------------------------------------------------------------

    def fold(self, connection: Connection) -> None:
        """Move the changes into the folded counts, in the connection's transaction.

        On PostgreSQL one statement deletes the changes it folds, so a change appended
        meanwhile (not yet committed, or committed after the statement began) stays
        for the next fold; two folds at once fold each change once. SQLite has one
        writer at a time: the changes up to the last id are folded, then deleted.
        """
        keys = ", ".join(key.name for key in self.keys)
        counts = ", ".join(count.name for count in self.counts)
        sums = ", ".join(f"sum({count.name})" for count in self.counts)
        add = ", ".join(
            f"{count.name} = {self.name}.{count.name} + excluded.{count.name}"
            for count in self.counts
        )
        upsert = f"ON CONFLICT ({keys}) DO UPDATE SET {add}"
        # Groups that came to nothing are dropped (rows of a NULL key count nothing).
        nonzero = " OR ".join(f"sum({count.name}) <> 0" for count in self.counts)
        if is_postgresql_connection(connection):
            connection.exec_driver_sql(
                f"WITH moved AS (DELETE FROM {self.name}_change RETURNING {keys}, {counts}) "
                f"INSERT INTO {self.name} ({keys}, {counts}) "
                f"SELECT {keys}, {sums} FROM moved GROUP BY {keys} HAVING {nonzero} {upsert}"
            )
            return
        last = connection.exec_driver_sql(f"SELECT max(id) FROM {self.name}_change").scalar()
        if last is None:
            return
        connection.exec_driver_sql(
            f"INSERT INTO {self.name} ({keys}, {counts}) "
            f"SELECT {keys}, {sums} FROM {self.name}_change WHERE id <= ? GROUP BY {keys} "
            f"HAVING {nonzero} {upsert}",
            (last,),
        )
        connection.exec_driver_sql(f"DELETE FROM {self.name}_change WHERE id <= ?", (last,))

    def refill(self, connection: Connection) -> None:
        """Count the source afresh: the folded counts from its rows, no changes left."""
        dialect = connection.dialect.name
        nonzero = " OR ".join(
            f"sum({count.expression.format(row='r')}) <> 0" for count in self.counts
        )
        connection.exec_driver_sql(f"DELETE FROM {self.name}_change")
        connection.exec_driver_sql(f"DELETE FROM {self.name}")
        connection.exec_driver_sql(
            f"INSERT INTO {self.name} ({', '.join(key.name for key in self.keys)}, "
            f"{', '.join(count.name for count in self.counts)}) "
            f"SELECT {', '.join(self._values(dialect, 'r'))} FROM {self.source} AS r "
            f"GROUP BY {', '.join(str(n + 1) for n in range(len(self.keys)))} HAVING {nonzero}"
        )

    # --- the triggers --------------------------------------------------------------------

    def _values(self, dialect: str, row: str, sign: str = "", aggregate: bool = True) -> list[str]:
        """The keys and counts of rows named ``row``, the counts summed (or not) and signed."""
        keys = [key.on(dialect).format(row=row) for key in self.keys]
        counts = [
            f"{sign}sum({count.expression.format(row=row)})"
            if aggregate
            else f"{sign}({count.expression.format(row=row)})"
            for count in self.counts
        ]
        return keys + counts

    def trigger_ddl(self, dialect: str) -> list[str]:
        """The statements that make the source's triggers on ``dialect``."""
        columns = ", ".join([key.name for key in self.keys] + [c.name for c in self.counts])
        if dialect == "postgresql":
            return self._postgresql_triggers(columns)
        return self._sqlite_triggers(columns)

    def _postgresql_triggers(self, columns: str) -> list[str]:
        groups = ", ".join(str(n + 1) for n in range(len(self.keys)))

        def appended(*parts: tuple[str, str]) -> str:
            selects = " UNION ALL ".join(
                f"SELECT {', '.join(self._values('postgresql', rows, sign))} FROM {rows} "
                f"GROUP BY {groups}"
                for rows, sign in parts
            )
            keys = ", ".join(key.name for key in self.keys)
            nonzero = " OR ".join(f"sum({count.name}) <> 0" for count in self.counts)
            sums = ", ".join(f"sum({count.name})" for count in self.counts)
            return (
                f"INSERT INTO {self.name}_change ({columns}) SELECT {keys}, {sums} "
                f"FROM ({selects}) AS change ({columns}) GROUP BY {keys} HAVING {nonzero};"
            )

        function = f"{self.name}_record"
        body = (
            f"BEGIN IF TG_OP = 'INSERT' THEN {appended((NEW_ROWS, ''))} "
            f"ELSIF TG_OP = 'DELETE' THEN {appended((OLD_ROWS, '-'))} "
            f"ELSE {appended((NEW_ROWS, ''), (OLD_ROWS, '-'))} END IF; RETURN NULL; END"
        )
        statements = [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ {body} $$"
        ]
        transitions = {
            "INSERT": f"NEW TABLE AS {NEW_ROWS}",
            "UPDATE": f"OLD TABLE AS {OLD_ROWS} NEW TABLE AS {NEW_ROWS}",
            "DELETE": f"OLD TABLE AS {OLD_ROWS}",
        }
        for operation, tables in transitions.items():
            trigger = f"{self.name}_on_{operation.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {trigger} ON {self.source}")
            statements.append(
                f"CREATE TRIGGER {trigger} AFTER {operation} "
                f"ON {self.source} REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {function}()"
            )
        return statements

    def _sqlite_triggers(self, columns: str) -> list[str]:
        def row(name: str, sign: str = "") -> str:
            return f"({', '.join(self._values('sqlite', name, sign, aggregate=False))})"

        insert = f"INSERT INTO {self.name}_change ({columns}) VALUES"
        expressions = [key.on("sqlite") for key in self.keys] + [
            count.expression for count in self.counts
        ]
        changed = " OR ".join(
            f"({expression.format(row='OLD')}) IS NOT ({expression.format(row='NEW')})"
            for expression in expressions
        )
        return [
            f"CREATE TRIGGER IF NOT EXISTS {self.name}_on_insert AFTER INSERT ON {self.source} "
            f"BEGIN {insert} {row('NEW')}; END",
            f"CREATE TRIGGER IF NOT EXISTS {self.name}_on_update AFTER UPDATE ON {self.source} "
            f"WHEN {changed} BEGIN {insert} {row('OLD', '-')}, {row('NEW')}; END",
            f"CREATE TRIGGER IF NOT EXISTS {self.name}_on_delete AFTER DELETE ON {self.source} "
            f"BEGIN {insert} {row('OLD', '-')}; END",
        ]

    def create_triggers(self, connection: Connection) -> None:
        dialect = connection.dialect.name
        for statement in self.trigger_ddl(dialect):
            connection.exec_driver_sql(statement)

    def drop_triggers(self, connection: Connection) -> None:
        postgresql = is_postgresql_connection(connection)
        for operation in ("insert", "update", "delete"):
            trigger = f"{self.name}_on_{operation}"
            connection.exec_driver_sql(
                f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {self.source}" if postgresql else "")
            )
        if postgresql:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {self.name}_record()")


def define(
    metadata: MetaData, name: str, source: str, keys: Sequence[Key], counts: Sequence[Count]
) -> Tally:
    """The tally's two tables on ``metadata``; its triggers made when ``create_all`` runs.

    The triggers are made once every table exists (the tally tables name no foreign
    key, so they may be created before their source): after the whole metadata.
    No foreign key to the event either: deleting an event deletes its invitations,
    whose triggers then append changes for it.
    """

    def key_columns() -> list[Column[Any]]:
        return [Column(key.name, key.type, nullable=key.nullable) for key in keys]

    def count_columns() -> list[Column[Any]]:
        return [Column(count.name, Integer, nullable=False) for count in counts]

    key_names = [key.name for key in keys]
    folded = Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        *key_columns(),
        *count_columns(),
        UniqueConstraint(*key_names, name=f"{name}_once"),
    )
    changes = Table(
        f"{name}_change",
        metadata,
        Column("id", Integer, primary_key=True),
        *key_columns(),
        *count_columns(),
        Index(f"{name}_change_event", key_names[0]),
    )
    tally = Tally(name, source, tuple(keys), tuple(counts), folded, changes)

    @event.listens_for(metadata, "after_create")
    def _make_triggers(_target: MetaData, connection: Connection, **_kw: Any) -> None:
        tally.create_triggers(connection)

    return tally
