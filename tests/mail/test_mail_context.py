"""The mail context: salutations, roles, times in two zones, kind-specific values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from roundtable.mail.context import build_context, honorific_form, role_phrase, salutation
from roundtable.presentation import i18n
from tests.mail.samples import (
    NOW,
    RSVP_URL,
    sample_agenda,
    sample_contact,
    sample_context,
    sample_event,
)


def contact_with(honorific: str, language: str = "en", **changes: str) -> object:
    values = {"first_name": "Eva", "last_name": "Novak", "full_name": "Eva Novak"}
    values.update(changes)
    return sample_contact(honorific=honorific, language=language, **values)


@pytest.mark.parametrize(
    ("honorific", "language", "expected"),
    [
        ("H.E.", "en", "Excellency,"),
        ("H.E. Mr.", "en", "Excellency,"),
        ("H.E. Ms.", "en", "Excellency,"),
        ("H. E. Mrs", "en", "Excellency,"),
        ("Dr.", "en", "Dear Dr. Novak,"),
        ("Ms.", "en", "Dear Ms. Novak,"),
        ("Mr", "en", "Dear Mr Novak,"),
        ("", "en", "Dear Eva Novak,"),
        ("H.E. Mr.", "es", "Excelentísimo señor:"),
        ("H.E. Ms.", "es", "Excelentísima señora:"),
        ("H.E.", "fr", "Excellence,"),
        ("Mr.", "fr", "Monsieur,"),
        ("Ms.", "fr", "Madame,"),
        ("Dr.", "fr", "Madame, Monsieur,"),
        ("Ms.", "es", "Estimada Sra. Novak:"),
        ("Dr.", "es", "Estimado/a Dr. Novak:"),
        ("H.E. Ms.", "ar", "صاحبة السعادة،"),
        ("Mr.", "zh", "尊敬的Novak先生："),
        ("Ms.", "ru", "Уважаемая госпожа Novak!"),
    ],
)
def test_the_salutation_follows_protocol_in_the_readers_language(
    honorific: str, language: str, expected: str
) -> None:
    contact = contact_with(honorific, language)
    assert salutation(contact, i18n.translations(language)) == expected  # type: ignore[arg-type]


def test_a_name_given_as_one_field_still_gets_a_salutation() -> None:
    contact = contact_with("Dr.", first_name="", last_name="", full_name="Ama Mensah")
    assert salutation(contact, i18n.translations("en")) == "Dear Dr. Ama Mensah,"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("honorific", "form"),
    [
        ("H.E.", "excellency"),
        ("HE", "excellency"),
        ("His Excellency", "excellency-male"),
        ("H.E. Ms.", "excellency-female"),
        ("Mrs.", "female"),
        ("Prof.", "title"),
        ("Ambassador", "title"),
        ("  ", "none"),
    ],
)
def test_honorifics_are_read_for_their_form(honorific: str, form: str) -> None:
    assert honorific_form(honorific) == form


def test_each_role_is_told_what_is_asked_of_them() -> None:
    words = i18n.translations("en")
    assert role_phrase("participant", words) == ""
    assert role_phrase("panellist", words) == "You are invited to speak on the panel."
    assert "speaker" in role_phrase("speaker", words)
    assert "moderate" in role_phrase("moderator", words)
    assert "observer" in role_phrase("observer", words)
    with pytest.raises(ValueError, match="unknown role"):
        role_phrase("chair", words)


def test_the_time_is_shown_in_the_venues_zone_and_the_invitees() -> None:
    event = sample_context("invitation").event
    assert event.time.text == "Thursday, 23 September 2027, 13:15–15:00 (New York time, EDT)"
    assert event.time.date == "23 September 2027"
    assert event.local_time is not None
    assert event.local_time.text == "Thursday, 23 September 2027, 18:15–20:00 (Dublin time, IST)"
    assert event.deadline is not None
    assert event.deadline.text == "Monday, 20 September 2027, 18:00 (New York time, EDT)"


@pytest.mark.parametrize("zone", [None, "America/New_York", "America/Toronto", "Not/AZone"])
def test_no_second_time_when_the_invitees_clock_reads_the_same(zone: str | None) -> None:
    ctx = sample_context("invitation", sample_contact(timezone=zone))
    assert ctx.event.local_time is None
    assert ctx.event.deadline_local is None


def test_an_evening_in_new_york_crosses_midnight_in_kolkata() -> None:
    ctx = sample_context("invitation", sample_contact(timezone="Asia/Kolkata"))
    assert ctx.event.local_time is not None
    assert ctx.event.local_time.text == (
        "Thursday, 23 September 2027, 22:45 – Friday, 24 September 2027, 00:30 (Kolkata time, IST)"
    )


def test_zones_far_from_utc_show_the_next_day_and_a_numeric_offset() -> None:
    ctx = sample_context("invitation", sample_contact(timezone="Pacific/Kiritimati"))
    assert ctx.event.local_time is not None
    assert ctx.event.local_time.text == (
        "Friday, 24 September 2027, 07:15–09:00 (Kiritimati time, UTC+14)"
    )
    ctx = sample_context("invitation", sample_contact(timezone="Pacific/Pago_Pago"))
    assert ctx.event.local_time is not None
    assert ctx.event.local_time.text.endswith("06:15–08:00 (Pago Pago time, SST)")


def test_the_week_between_the_two_dst_changes_is_four_hours_not_five() -> None:
    # Europe left summer time on 31 October 2027, the United States on 7 November.
    event = sample_event(
        starts_at=datetime(2027, 11, 3, 17, 15, tzinfo=UTC),
        ends_at=datetime(2027, 11, 3, 19, 0, tzinfo=UTC),
        rsvp_deadline=datetime(2027, 11, 8, 23, 0, tzinfo=UTC),
    )
    ctx = sample_context("invitation", sample_contact(timezone="Europe/London"), event=event)
    assert ctx.event.time.text == "Wednesday, 3 November 2027, 13:15–15:00 (New York time, EDT)"
    assert ctx.event.local_time is not None
    assert ctx.event.local_time.text == (
        "Wednesday, 3 November 2027, 17:15–19:00 (London time, GMT)"
    )
    assert ctx.event.deadline is not None
    assert ctx.event.deadline.text == "Monday, 8 November 2027, 18:00 (New York time, EST)"


def test_other_languages_name_the_zone_with_its_offset_from_utc() -> None:
    contact = sample_contact(language="fr", timezone="Asia/Kolkata")
    ctx = sample_context("invitation", contact)
    # Babel writes French intervals with thin spaces around the dash.
    assert ctx.event.time.text == (
        "jeudi 23 septembre 2027, 13:15\u2009–\u200915:00 (heure de New York, UTC-4)"
    )
    assert ctx.event.local_time is not None
    assert ctx.event.local_time.zone == "heure de Calcutta, UTC+5:30"


@pytest.mark.parametrize(
    ("extra", "language", "label"),
    [
        ({"offset_seconds": 86400}, "en", "tomorrow"),
        ({"offset_seconds": 7 * 86400}, "en", "in 7 days"),
        ({"offset_seconds": 7 * 86400}, "fr", "dans 7 jours"),
        ({"offset_seconds": 2 * 3600}, "en", "today"),
        ({"offset_label": "very soon"}, "en", "very soon"),
        ({}, "en", "in 22 days"),
    ],
)
def test_the_reminder_says_how_far_away_the_event_is(
    extra: dict[str, object], language: str, label: str
) -> None:
    ctx = sample_context("reminder", sample_contact(language=language), extra=extra)
    assert ctx.offset_label == label


def test_an_early_morning_event_reminded_the_evening_before_is_in_hours() -> None:
    event = sample_event(
        starts_at=datetime(2027, 9, 23, 5, 0, tzinfo=UTC),  # 01:00 in New York
        ends_at=datetime(2027, 9, 23, 6, 0, tzinfo=UTC),
    )
    ctx = sample_context("reminder", event=event, extra={"offset_seconds": 3 * 3600})
    assert ctx.offset_label == "in 3 hours"


def test_the_rsvp_links_preselect_each_answer() -> None:
    links = sample_context("invitation").links
    assert links.page == RSVP_URL
    assert links.accept == f"{RSVP_URL}?response=accept"
    assert links.tentative == f"{RSVP_URL}?response=tentative"
    assert links.decline == f"{RSVP_URL}?response=decline"
    assert links.ics == f"{RSVP_URL}/invite.ics"
    bare = sample_context("invitation", rsvp_url=None).links
    assert (bare.page, bare.accept, bare.ics) == (None, None, None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"response": "accept"}, "accepted"), ({"status": "waitlisted"}, "waitlisted")],
)
def test_a_confirmation_takes_the_reply_under_either_name(
    given: dict[str, str], expected: str
) -> None:
    assert sample_context("confirmation", extra=given).response == expected


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("confirmation", {}, "needs extra\\['response'\\]"),
        ("confirmation", {"response": "maybe"}, "needs extra\\['response'\\]"),
        ("followup", {"variant": None}, "needs extra\\['variant'\\]"),
        ("update", {"changes": [{"field": "colour", "old": "a", "new": "b"}]}, "unknown changed"),
        (
            "update",
            {"changes": [{"field": "starts_at", "old": "2027-09-23T13:00", "new": None}]},
            "not an ISO 8601 instant with an offset",
        ),
        ("memo", {}, "unknown mail kind"),
    ],
)
def test_missing_or_wrong_kind_values_are_refused(
    kind: str, extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_context(
            kind,
            event=sample_event(),
            agenda=[],
            contact=sample_contact(),
            organization=None,
            role="participant",
            now=NOW,
            extra=extra,
        )


def test_a_follow_up_without_given_text_uses_the_events_recommendations() -> None:
    ctx = sample_context("followup", extra={"variant": "attendee"})
    assert ctx.recommendations_text == (
        "1. Invest in inclusive cities.\n2. Share data across agencies."
    )


def test_the_agenda_is_in_programme_order_and_the_invitee_is_described() -> None:
    ctx = sample_context("invitation")
    assert [line.time for line in ctx.event.agenda] == ["13:15", "13:30"]
    assert ctx.event.agenda[0].speakers == ("Director General, IOM", "High Representative, UNAoC")
    assert ctx.invitee.organization == "Permanent Mission of Ireland"
    assert ctx.invitee.position == "Counsellor"
    assert ctx.invitee.display_name.startswith("Dr. Ciarán")
    assert ctx.event.place == "Conference Room 6, United Nations Headquarters"
    assert ctx.event.contact is not None and ctx.event.contact.phone == "+1 212 681 7000 ext. 212"
    assert ctx.direction == "ltr"


def test_an_event_without_format_or_contact_person_still_reads_well() -> None:
    event = sample_event(format="", contact_name="", contact_office="", contact_phone="")
    event.contact_email = ""
    ctx = build_context(
        "invitation",
        event=event,
        agenda=sample_agenda(),
        contact=sample_contact(),
        organization=None,
        role="participant",
        now=NOW,
    )
    assert ctx.event.format == "meeting"
    # With no contact person, the organizer is whom to ask: as on the RSVP page.
    assert (ctx.event.contact.name, ctx.event.contact.email) == (
        event.organizer_name,
        event.organizer_email,
    )
    assert ctx.invitee.organization == ""


def test_unknown_languages_fall_back_to_english() -> None:
    assert i18n.supported_language("pt-BR") == "en"
    assert i18n.supported_language("fr-CA") == "fr"
    assert i18n.supported_language(None) == "en"
    assert i18n.text_direction("ar") == "rtl"
