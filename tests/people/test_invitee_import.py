"""Importing invitee files into an event, on SQLite and PostgreSQL: all or nothing, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from roundtable.db import read_session, write_session
from roundtable.errors import InputError, NotFound
from roundtable.events.model import Event, EventStatus
from roundtable.invitations.invitee_file import parse_invitee_bytes
from roundtable.invitations.invitee_import import ImportResult, import_invitee_file, import_invitees
from roundtable.invitations.model import Invitation, Status
from roundtable.people.model import Contact, Organization
from tests.factories import make_event

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)

GOOD_ROWS = (
    "ana@example.org,Ana,Silva,Permanent Mission of Brazil,speaker\n"
    "ben@example.org,Ben,Okafor,IOM,\n"
)


def add_event(slug: str = "roundtable", **overrides: object) -> int:
    with write_session() as session:
        event = make_event(slug, **overrides)
        session.add(event)
        session.flush()
        assert event.id is not None
        return event.id


def table_sizes() -> dict[str, int]:
    with read_session() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Contact, Organization, Invitation)
        }


def contacts() -> dict[str, Contact]:
    with read_session() as session:
        return {c.email: c for c in session.exec(select(Contact))}


def invitations() -> dict[str, Invitation]:
    with read_session() as session:
        query = select(Contact.email, Invitation).join(
            Contact,
            Contact.id == Invitation.contact_id,  # type: ignore[arg-type]
        )
        return {email: invitation for email, invitation in session.exec(query)}


def organization_names() -> dict[int, str]:
    with read_session() as session:
        return {o.id: o.name for o in session.exec(select(Organization)) if o.id is not None}


def csv_bytes(header: str, body: str) -> bytes:
    return f"{header}\n{body}".encode()


# -- bad input writes nothing ---------------------------------------------------------------------


BAD_FILES = {
    "bad email": (
        "email,first_name,last_name,organization,role\n" + GOOD_ROWS + "cy@@example.org,Cy,Li,,\n",
        4,
        "email",
        "exactly one @",
    ),
    "missing name": (
        "email,first_name,last_name,organization,role\n" + GOOD_ROWS + "cy@example.org,,,IOM,\n",
        4,
        "first_name",
        "name is required",
    ),
    "unknown role": (
        "email,first_name,last_name,organization,role\n"
        + GOOD_ROWS
        + "cy@example.org,Cy,Li,,chair\n",
        4,
        "role",
        "unknown role 'chair'",
    ),
    "unknown language": (
        "email,name,language\nana@example.org,Ana,pt\nben@example.org,Ben,en\n",
        2,
        "language",
        "unknown language 'pt'",
    ),
    "unknown time zone": (
        "email,name,timezone\nana@example.org,Ana,Europe/Paris\nben@example.org,Ben,Mars/Olympus\n",
        3,
        "timezone",
        "unknown time zone 'Mars/Olympus'",
    ),
    "line break in a field": (
        'email,name,position\nana@example.org,Ana,"Head\nof unit"\nben@example.org,Ben,\n',
        2,
        "position",
        "line break",
    ),
    "control character": (
        "email,name,position\nana@example.org,Ana,\nben@example.org,Ben\x07,\n",
        3,
        "name",
        "U+0007",
    ),
    "unknown column": (
        "email,name,mobile\nana@example.org,Ana,+1 212\n",
        1,
        "mobile",
        "unknown column 'mobile'",
    ),
    "conflicting repeated address": (
        "email,name,role\nana@example.org,Ana,speaker\nben@example.org,Ben,\nANA@example.org,Ana,\n",
        4,
        "email",
        "also on line 2",
    ),
    "over-long field": (
        "email,name,honorific\nana@example.org,Ana,Her Excellency the Ambassador Extraordinary\n",
        2,
        "honorific",
        "at most 40",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_located_problems_and_nothing_written(
    engine: Engine, case: str
) -> None:
    text, line, field, words = BAD_FILES[case]
    add_event()
    with pytest.raises(InputError) as caught:
        import_invitee_file(text.encode(), "roundtable", skip_invalid=False, source="list.csv")
    [problem] = caught.value.problems
    assert (problem.source, problem.line, problem.field) == ("list.csv", line, field)
    assert words in problem.message
    assert f"list.csv:{line}: {field}: " in str(caught.value)
    assert table_sizes() == {"Contact": 0, "Organization": 0, "Invitation": 0}


def test_a_file_that_is_not_utf8_is_refused_whole(engine: Engine, tmp_path: Path) -> None:
    add_event()
    path = tmp_path / "invitees.csv"
    path.write_bytes("email,name\nana@example.org,Ana\nzoe@example.org,Zoé\n".encode("cp1252"))
    for skip_invalid in (False, True):
        with pytest.raises(InputError) as caught:
            import_invitee_file(path, "roundtable", skip_invalid=skip_invalid)
        [problem] = caught.value.problems
        assert (problem.source, problem.line) == (str(path), 3)
        assert "not UTF-8" in problem.message
    assert table_sizes() == {"Contact": 0, "Organization": 0, "Invitation": 0}


def test_every_problem_is_reported_at_once(engine: Engine) -> None:
    add_event()
    text = "email,name,role\nbad,Ana,\nben@example.org,,\ncy@example.org,Cy,boss\n"
    with pytest.raises(InputError) as caught:
        import_invitee_file(text.encode(), "roundtable", skip_invalid=False)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (2, "email"),
        (3, "name"),
        (4, "role"),
    ]


def test_an_unknown_event_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no event with slug 'nowhere'"):
        import_invitee_file(b"email,name\na@example.org,A\n", "nowhere", skip_invalid=False)
    assert table_sizes()["Contact"] == 0


def test_a_cancelled_event_takes_no_invitees(engine: Engine) -> None:
    add_event(status=EventStatus.CANCELLED, cancelled_at=T0)
    with pytest.raises(InputError, match="cancelled"):
        import_invitee_file(b"email,name\na@example.org,A\n", "roundtable", skip_invalid=True)
    assert table_sizes() == {"Contact": 0, "Organization": 0, "Invitation": 0}


# -- skipping invalid rows ------------------------------------------------------------------------


def test_skip_invalid_imports_the_valid_rows_and_returns_the_problems(engine: Engine) -> None:
    add_event()
    text = (
        "email,first_name,last_name,organization,role\n"
        + GOOD_ROWS
        + "not-an-email,Cy,Li,,\n"
        + "dee@example.org,Dee,Ng,IOM,overlord\n"
        + "eve@example.org,Eve,Ito,,observer\n"
    )
    result = import_invitee_file(text.encode(), "roundtable", skip_invalid=True, source="x.csv")
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert [(p.source, p.line, p.field) for p in result.skipped] == [
        ("x.csv", 4, "email"),
        ("x.csv", 5, "role"),
    ]
    assert sorted(contacts()) == ["ana@example.org", "ben@example.org", "eve@example.org"]
    assert {email: i.role for email, i in invitations().items()} == {
        "ana@example.org": "speaker",
        "ben@example.org": "participant",
        "eve@example.org": "observer",
    }


def test_skip_invalid_still_refuses_a_file_with_a_bad_header(engine: Engine) -> None:
    add_event()
    with pytest.raises(InputError, match="unknown column 'phone'"):
        import_invitee_file(
            b"email,name,phone\na@example.org,A,1\n", "roundtable", skip_invalid=True
        )
    assert table_sizes()["Contact"] == 0


# -- what an import writes ------------------------------------------------------------------------


def test_an_import_creates_contacts_organizations_and_uninvited_invitations(
    engine: Engine, tmp_path: Path
) -> None:
    event_id = add_event()
    path = tmp_path / "invitees.csv"
    path.write_text(
        "email,honorific,first_name,last_name,position,organization,role,language,timezone\n"
        "Ana@Example.org,H.E. Ms.,Ana,Silva,Ambassador,Permanent Mission of Brazil,speaker,es,"
        "America/Sao_Paulo\n"
        "ben@example.org,,Ben,Okafor,,IOM,,,\n"
        "cy@example.org,Dr.,Cy,Li,Director,IOM,Moderator,ZH,asia/shanghai\n",
        encoding="utf-8",
    )
    result = import_invitee_file(path, "roundtable", skip_invalid=False, now=T0)
    assert result == ImportResult(created=3, skipped=[])
    assert set(contacts()) == {"ana@example.org", "ben@example.org", "cy@example.org"}
    people = invitations()
    orgs = organization_names()
    ana = people["ana@example.org"]
    assert (ana.display_name, ana.position, ana.language, ana.timezone) == (
        "H.E. Ms. Ana Silva",
        "Ambassador",
        "es",
        "America/Sao_Paulo",
    )
    assert orgs[ana.organization_id] == "Permanent Mission of Brazil"  # type: ignore[index]
    assert people["ben@example.org"].organization_id == people["cy@example.org"].organization_id
    assert (people["ben@example.org"].language, people["ben@example.org"].timezone) == ("en", None)
    assert people["cy@example.org"].timezone == "Asia/Shanghai"
    assert ana.created_at == ana.updated_at == T0
    rows = invitations()
    assert {email: (i.event_id, i.role, i.status) for email, i in rows.items()} == {
        "ana@example.org": (event_id, "speaker", Status.NOT_INVITED),
        "ben@example.org": (event_id, "participant", Status.NOT_INVITED),
        "cy@example.org": (event_id, "moderator", Status.NOT_INVITED),
    }


def test_reimporting_the_same_file_changes_nothing(engine: Engine) -> None:
    add_event()
    data = csv_bytes(
        "email,first_name,last_name,organization,role,language,timezone",
        "ana@example.org,Ana,Silva,IOM,speaker,fr,Europe/Zurich\n"
        "ben@example.org,Ben,Okafor,,,,\n"
        "cy@example.org,Cy,Li,UNAoC,observer,zh,\n",
    )
    import_invitee_file(data, "roundtable", skip_invalid=False, now=T0)
    before = (contacts(), invitations(), organization_names())
    again = import_invitee_file(data, "roundtable", skip_invalid=False, now=T1)
    assert again == ImportResult(unchanged=3)
    after = (contacts(), invitations(), organization_names())
    assert after == before
    assert {c.updated_at for c in after[0].values()} == {T0}
    assert {i.updated_at for i in after[1].values()} == {T0}


def test_a_changed_row_updates_the_details_and_role_but_never_the_status(engine: Engine) -> None:
    add_event()
    header = "email,honorific,first_name,last_name,position,organization,role,language"
    import_invitee_file(
        csv_bytes(
            header,
            "ana@example.org,Ms.,Ana,Silva,Counsellor,IOM,participant,en\n"
            "ben@example.org,,Ben,Okafor,,IOM,,\n",
        ),
        "roundtable",
        skip_invalid=False,
        now=T0,
    )
    with write_session() as session:
        ana = session.exec(
            select(Invitation)
            .join(Contact, Contact.id == Invitation.contact_id)  # type: ignore[arg-type]
            .where(Contact.email == "ana@example.org")
        ).one()
        ana.status, ana.token_hash, ana.responded_at = Status.DECLINED, "h" * 64, T0
        session.add(ana)

    result = import_invitee_file(
        csv_bytes(
            header,
            "ANA@example.org,H.E. Ms.,Ana,Silva Costa,Ambassador,UNAoC,speaker,fr\n"
            "ben@example.org,,Ben,Okafor,,IOM,,\n",
        ),
        "roundtable",
        skip_invalid=False,
        now=T1,
    )
    assert result == ImportResult(updated=1, unchanged=1)
    ana = invitations()["ana@example.org"]
    assert (ana.display_name, ana.position, ana.language) == (
        "H.E. Ms. Ana Silva Costa",
        "Ambassador",
        "fr",
    )
    assert organization_names()[ana.organization_id] == "UNAoC"  # type: ignore[index]
    assert (ana.role, ana.status) == ("speaker", Status.DECLINED)
    assert (ana.created_at, ana.updated_at) == (T0, T1)
    assert invitations()["ben@example.org"].updated_at == T0
    assert {c.updated_at for c in contacts().values()} == {T0}


def test_each_event_keeps_the_organization_its_own_file_gave(engine: Engine) -> None:
    """Reports group by the invitation's organization: another event's file never moves it."""
    add_event("first")
    add_event("second", uid="second-uid@roundtable.test")
    header = "email,first_name,last_name,organization"
    import_invitee_file(
        csv_bytes(header, "ana@example.org,Ana,Silva,IOM\nben@example.org,Ben,Okafor,\n"),
        "first",
        skip_invalid=False,
    )
    import_invitee_file(
        csv_bytes(header, "ana@example.org,Ana,Silva,UNAoC\nben@example.org,Ben,Okafor,IOM\n"),
        "second",
        skip_invalid=False,
    )
    assert _organizations_by_event() == {
        ("first", "ana@example.org"): "IOM",
        ("second", "ana@example.org"): "UNAoC",
        ("first", "ben@example.org"): None,
        ("second", "ben@example.org"): "IOM",
    }


def _organizations_by_event() -> dict[tuple[str, str], str | None]:
    names = organization_names()
    with read_session() as session:
        return {
            (slug, email): names.get(organization_id or -1)
            for slug, email, organization_id in session.exec(
                select(Event.slug, Contact.email, Invitation.organization_id)
                .join(Event, col(Event.id) == Invitation.event_id)
                .join(Contact, col(Contact.id) == Invitation.contact_id)
            )
        }


def test_a_blank_cell_keeps_what_an_earlier_file_said_on_this_list(engine: Engine) -> None:
    add_event()
    import_invitee_file(
        csv_bytes(
            "email,honorific,first_name,last_name,position,organization,language,timezone",
            "ana@example.org,Dr.,Ana,Silva,Director,IOM,es,Europe/Madrid\n",
        ),
        "roundtable",
        skip_invalid=False,
        now=T0,
    )
    result = import_invitee_file(
        csv_bytes("email,name,position,role", "ana@example.org,Ana Silva,,moderator\n"),
        "roundtable",
        skip_invalid=False,
        now=T1,
    )
    assert result == ImportResult(updated=1)
    ana = invitations()["ana@example.org"]
    assert (ana.honorific, ana.first_name, ana.last_name, ana.position, ana.language) == (
        "Dr.",
        "Ana",
        "Silva",
        "Director",
        "es",
    )
    assert (ana.timezone, ana.role, ana.updated_at) == ("Europe/Madrid", "moderator", T1)


def _all_invitations() -> list[Invitation]:
    with read_session() as session:
        return list(session.exec(select(Invitation)))


def test_addresses_match_case_insensitively_within_and_across_files(engine: Engine) -> None:
    add_event()
    first = import_invitee_file(
        csv_bytes(
            "email,name,organization",
            "Ana.Silva@Example.ORG,Ana Silva,IOM\nana.silva@example.org,Ana Silva,IOM\n",
        ),
        "roundtable",
        skip_invalid=False,
    )
    second = import_invitee_file(
        csv_bytes("email,name,organization", "ANA.SILVA@EXAMPLE.ORG,Ana Silva,IOM\n"),
        "roundtable",
        skip_invalid=False,
    )
    assert (first.created, second.unchanged) == (1, 1)
    assert list(contacts()) == ["ana.silva@example.org"]
    assert table_sizes() == {"Contact": 1, "Organization": 1, "Invitation": 1}


def test_names_in_every_script_survive_the_database(engine: Engine) -> None:
    add_event()
    text = (
        "\ufeffemail,honorific,first_name,last_name,organization,language\n"
        "ahmed@example.org,معالي,أحمد,أبو الغيط,جامعة الدول العربية,ar\n"
        "wang@example.org,阁下,毅,王,中华人民共和国常驻联合国代表团,zh\n"
        "sergey@example.org,Г-н,Сергей,Лавров,Постоянное представительство России,ru\n"
        'zoe@example.org,Mme,Zoé,"Lefèvre, née Dupré","Mission permanente de la France, NY",fr\n'
    )
    import_invitee_file(text.encode(), "roundtable", skip_invalid=False)
    people = invitations()
    orgs = organization_names()
    assert people["ahmed@example.org"].display_name == "معالي أحمد أبو الغيط"
    assert people["wang@example.org"].full_name == "王毅"
    assert people["sergey@example.org"].display_name == "Г-н Сергей Лавров"
    assert people["zoe@example.org"].last_name == "Lefèvre, née Dupré"
    assert set(orgs.values()) == {
        "جامعة الدول العربية",
        "中华人民共和国常驻联合国代表团",
        "Постоянное представительство России",
        "Mission permanente de la France, NY",
    }


def test_formulas_and_html_are_stored_as_given(engine: Engine) -> None:
    add_event()
    text = 'email,name,position\nx@example.org,<img src=x onerror=alert(1)>,"=HYPERLINK(""x"")"\n'
    import_invitee_file(text.encode(), "roundtable", skip_invalid=False)
    invitee = invitations()["x@example.org"]
    assert invitee.full_name == "<img src=x onerror=alert(1)>"
    assert invitee.position == '=HYPERLINK("x")'


def test_import_invitees_runs_in_the_callers_transaction(engine: Engine) -> None:
    add_event()
    parsed = parse_invitee_bytes(b"email,name\na@example.org,A\n", "x.csv")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), write_session() as session:
        event = session.exec(select(Event)).one()
        result = import_invitees(session, event, parsed.rows, now=T0)
        assert result.created == 1
        raise Abort
    assert table_sizes() == {"Contact": 0, "Organization": 0, "Invitation": 0}


def test_five_thousand_rows_import_in_bulk(engine: Engine) -> None:
    add_event()
    known = "email,first_name,last_name,organization,role,language\n"
    known += "guest17@example.org,Old,Name,Old Org,,en\n"
    import_invitee_file(known.encode(), "roundtable", skip_invalid=False, now=T0)
    lines = ["email,first_name,last_name,organization,role,language"]
    roles = ["participant", "speaker", "panellist", "moderator", "observer"]
    languages = ["en", "fr", "es", "ar", "zh", "ru"]
    for n in range(5000):
        lines.append(
            f"Guest{n}@Example.org,Guest,Number {n},Organization {n % 97},"
            f"{roles[n % 5]},{languages[n % 6]}"
        )
    data = ("\n".join(lines) + "\n").encode()

    result = import_invitee_file(data, "roundtable", skip_invalid=False, now=T1)
    assert (result.created, result.updated, result.unchanged) == (4999, 1, 0)
    assert table_sizes() == {"Contact": 5000, "Organization": 98, "Invitation": 5000}
    by_email = invitations()
    assert by_email["guest17@example.org"].full_name == "Guest Number 17"
    assert by_email["guest4999@example.org"].language == languages[4999 % 6]

    again = import_invitee_file(data, "roundtable", skip_invalid=False, now=T1 + timedelta(hours=1))
    assert again == ImportResult(unchanged=5000)
