"""Rendering: snapshots of every kind, escaping, the text twin, RTL, buttons, inlined CSS.

Snapshots live in tests/mail/snapshots/. After an intended change of wording or
layout, regenerate them with ``UPDATE_SNAPSHOTS=1 pytest tests/mail`` and review
the diff like any other change.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import DictLoader, Environment, StrictUndefined
from jinja2.exceptions import UndefinedError

from roundtable.mail.context import MailContext
from roundtable.mail.model import KINDS
from roundtable.mail.render import (
    InliningLoader,
    RenderedMail,
    build_environment,
    environment,
    one_line,
    render,
    templates_dir,
    tidy_text,
)
from tests.mail.samples import RSVP_URL, arabic_contact, french_contact, sample_context

SNAPSHOTS = Path(__file__).parent / "snapshots"
LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")
WITH_BUTTONS = ("invitation", "reminder", "nudge")
#: kinds whose body repeats the full event details (time in both zones, place, address)
WITH_DETAILS = ("invitation", "confirmation", "update", "reminder", "nudge", "promotion")

_HREF = re.compile(r'href="([^"]+)"')
_URL = re.compile(r"https?://[^\s)<>\"]+")
_TAG = re.compile(r"<[^>]+>")


def assert_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.exists():
        pytest.fail(f"no snapshot {name}; create it with UPDATE_SNAPSHOTS=1 and review it")
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{name} changed; if intended, rerun with UPDATE_SNAPSHOTS=1"


def check_snapshots(case: str, rendered: RenderedMail) -> None:
    assert_snapshot(f"{case}.subject.txt", rendered.subject + "\n")
    assert_snapshot(f"{case}.txt", rendered.text)
    assert_snapshot(f"{case}.html", rendered.html)


def visible_text(markup: str) -> str:
    """What a reader of the HTML part sees, roughly: no tags, entities decoded."""
    body = markup.split("<body", 1)[1]
    return html.unescape(_TAG.sub(" ", body))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_in_english_matches_its_snapshot(kind: str) -> None:
    check_snapshots(f"{kind}.en", render(kind, sample_context(kind)))


def test_the_invitation_in_french_matches_its_snapshot() -> None:
    rendered = render("invitation", sample_context("invitation", french_contact()))
    check_snapshots("invitation.fr", rendered)
    assert rendered.subject.startswith("Invitation\u00a0: ")
    assert "Excellence," in rendered.text
    assert "nous avons l’honneur de vous inviter" in rendered.text


def test_the_invitation_in_arabic_is_right_to_left_and_matches_its_snapshot() -> None:
    rendered = render("invitation", sample_context("invitation", arabic_contact()))
    check_snapshots("invitation.ar", rendered)
    assert '<html lang="ar" dir="rtl"' in rendered.html
    assert '<body class="body"' in rendered.html and 'dir="rtl">' in rendered.html
    assert "صاحبة السعادة،" in rendered.text
    assert "يشرفنا أن ندعوكم" in rendered.text


def test_names_and_titles_are_escaped_in_html_and_plain_in_text() -> None:
    rendered = render("invitation", sample_context("invitation"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "O&#39;Brien" in rendered.html
    assert "The &#34;Inter-Ethnic&#34; City &lt;b&gt;&amp;&lt;/b&gt; Migrants" in rendered.html
    assert "Dear Dr. O'Brien <script>alert(1)</script>," in rendered.text
    assert 'The "Inter-Ethnic" City <b>&</b> Migrants' in rendered.subject


@pytest.mark.parametrize("kind", KINDS)
def test_the_text_twin_has_the_same_links_and_facts_as_the_html(kind: str) -> None:
    ctx = sample_context(kind)
    rendered = render(kind, ctx)
    html_links = {html.unescape(link) for link in _HREF.findall(rendered.html)}
    html_links = {link for link in html_links if not link.startswith("mailto:")}
    assert set(_URL.findall(rendered.text)) == html_links
    seen = visible_text(rendered.html)
    facts = [
        ctx.event.title,
        ctx.invitee.salutation,
        ctx.event.time.date,
        ctx.event.organizer_name,
    ]
    if kind in WITH_DETAILS:
        assert ctx.event.local_time is not None
        facts += [ctx.event.time.text, ctx.event.local_time.text, ctx.event.place]
        facts += [ctx.event.address, ctx.event.co_organizers]
    for fact in facts:
        assert fact in rendered.text, fact
        assert fact in seen, fact


@pytest.mark.parametrize("kind", KINDS)
def test_only_invitations_reminders_and_nudges_carry_reply_buttons(kind: str) -> None:
    rendered = render(kind, sample_context(kind))
    has_buttons = f"{RSVP_URL}?response=accept" in rendered.html
    assert has_buttons == (kind in WITH_BUTTONS)
    for answer in ("accept", "tentative", "decline"):
        link = f"{RSVP_URL}?response={answer}"
        assert (link in rendered.text) == (kind in WITH_BUTTONS)
        assert (link in rendered.html) == (kind in WITH_BUTTONS)


def test_without_an_rsvp_link_there_are_no_buttons_and_no_dangling_text() -> None:
    rendered = render("invitation", sample_context("invitation", rsvp_url=None))
    assert "?response=" not in rendered.html
    assert "invitation page" not in rendered.text
    assert "None" not in rendered.text and "None" not in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, language: str) -> None:
    contact = replace(french_contact() if language == "fr" else arabic_contact(), language=language)
    rendered = render(kind, sample_context(kind, contact))
    assert f'<html lang="{language}"' in rendered.html
    assert rendered.subject and "\n" not in rendered.subject
    if language != "en":
        # the sentences come from the catalog, not the English source
        assert "we have the honour" not in rendered.text
        assert "Kindly reply by" not in rendered.text
        assert "Please accept the assurances" not in rendered.text


def test_the_html_is_a_600px_table_layout_with_inline_styles_and_dark_mode_support() -> None:
    page = render("invitation", sample_context("invitation")).html
    assert '<meta name="color-scheme" content="light dark">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (prefers-color-scheme: dark)" in page
    assert 'class="container" style="width: 600px; max-width: 100%' in page
    assert 'role="presentation"' in page
    for tag in re.findall(r"<[a-z][^>]*\bclass=\"[^\"]*\"[^>]*>", page):
        assert " style=" in tag, f"class not inlined: {tag}"
    assert 'class="preheader" style="display: none;' in page
    preheader = page.split('class="preheader"', 1)[1].split("</div>", 1)[0]
    assert "Thursday, 23 September 2027, 13:15–15:00 (New York time, EDT)" in preheader


def test_the_text_part_is_tidy() -> None:
    text = render("invitation", sample_context("invitation")).text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_a_waitlisted_confirmation_says_so_and_offers_no_calendar() -> None:
    ctx = sample_context("confirmation", extra={"response": "waitlisted"})
    rendered = render("confirmation", ctx)
    assert rendered.subject.startswith("Waiting list: ")
    assert "placed on the waiting list" in rendered.text
    assert "invite.ics" not in rendered.text and "invite.ics" not in rendered.html


def test_a_declined_follow_up_is_worded_for_those_who_could_not_come() -> None:
    ctx = sample_context("followup", extra={"variant": "declined"})
    rendered = render("followup", ctx)
    assert "Although you were unable to join us" in rendered.text
    assert "Invest in inclusive cities." in rendered.text
    assert "<strong>inclusive</strong>" in rendered.html
    assert f"{RSVP_URL}/unsubscribe" in rendered.text


def test_the_update_lists_each_change_old_and_new() -> None:
    ctx: MailContext = sample_context("update")
    text = render("update", ctx).text
    assert "Room: Conference Room 6 → Trusteeship Council Chamber" in text
    assert (
        "Date and time: Thursday, 23 September 2027, 13:15–15:00 (New York time, EDT) / "
        "Thursday, 23 September 2027, 18:15–20:00 (Dublin time, IST) → "
        "Friday, 24 September 2027, 10:00–12:00 (New York time, EDT) / "
        "Friday, 24 September 2027, 15:00–17:00 (Dublin time, IST)"
    ) in text, "old and new times on the venue's clock and on the reader's"


def test_one_line_removes_every_line_break_and_control_character() -> None:
    assert one_line("A\r\nB\x00C\u2028D\tE  F\n") == "A B C D E F"


def test_templates_are_found_beside_the_source_tree() -> None:
    folder = templates_dir()
    assert (folder / "_layout.html.j2").is_file()
    for kind in KINDS:
        for name in ("subject.txt.j2", "body.txt.j2", "body.html.j2"):
            assert (folder / kind / name).is_file(), f"{kind}/{name}"


def test_the_environment_escapes_html_only_and_refuses_undefined_names() -> None:
    env = environment()
    assert env is environment()  # one per process
    assert env.undefined is StrictUndefined
    assert callable(env.autoescape)
    assert env.autoescape("invitation/body.html.j2")
    assert not env.autoescape("invitation/body.txt.j2")
    assert not env.autoescape("invitation/subject.txt.j2")


def test_css_is_inlined_once_per_template_not_per_message() -> None:
    loads: Counter[str] = Counter()

    class CountingLoader(InliningLoader):
        def get_source(
            self, environment: Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            loads[template] += 1
            return super().get_source(environment, template)

    env = build_environment(CountingLoader(templates_dir()))
    ctx = sample_context("invitation")
    pages = [
        env.get_template("invitation/body.html.j2").render(ctx=ctx, subject="s") for _ in range(3)
    ]
    assert loads["invitation/body.html.j2"] == 1
    assert loads["_layout.html.j2"] == 1
    assert 'class="p" style="margin: 0 0 16px"' in pages[2]


def test_after_warming_up_no_message_loads_a_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker warms up before forking: its children render without reading a file."""
    from roundtable.mail import render as rendering

    rendering.environment.cache_clear()
    rendering.warm_up()
    loads: list[str] = []
    loader = environment().loader
    assert isinstance(loader, InliningLoader)
    original = loader.get_source

    def counting(env: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        loads.append(template)
        return original(env, template)

    monkeypatch.setattr(loader, "get_source", counting)
    for kind in KINDS:
        for contact in (None, french_contact(), arabic_contact()):
            render(kind, sample_context(kind, contact))
    assert loads == []


def test_a_shared_block_is_rendered_once_per_batch_and_kind() -> None:
    """``{% shared %}`` blocks: the second message of a batch reuses the first one's text."""
    first = sample_context("invitation")
    second = replace(first, invitee=replace(first.invitee, salutation="Dear Dr. Other,"))
    assert second.blocks is first.blocks, "one batch: one store of blocks"
    render("invitation", first)
    rendered_blocks = dict(first.blocks)
    assert any(name == "_event_details.html.j2" for name, *_ in rendered_blocks)
    again = render("invitation", second)
    assert first.blocks == rendered_blocks, "nothing rendered twice"
    assert "Dear Dr. Other," in again.text
    render("reminder", replace(first, kind="reminder"))
    assert {kind for _name, kind, *_ in first.blocks} == {"invitation", "reminder"}


def test_a_shared_block_cannot_read_the_invitee() -> None:
    """A block that would show one invitee's details to the next fails to render instead."""
    env = build_environment(
        DictLoader(
            {
                "body.txt.j2": '{% shared "_block.txt.j2" %}',
                "_block.txt.j2": "{{ ctx.event.title }} for {{ ctx.invitee.display_name }}",
            }
        )
    )
    with pytest.raises(UndefinedError, match="invitee"):
        env.get_template("body.txt.j2").render(ctx=sample_context("invitation"))


def _tidied_by_expressions(text: str) -> str:
    """The definition: spaces and tabs before a line feed go, three line feeds become two."""
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def test_tidy_text_keeps_one_blank_line_and_no_trailing_space() -> None:
    raw = "\n\n  Dear Ambassador,  \n\t\n\n\nThe meeting\u00a0: 10:00\t\r\n\n\n  \n"
    assert tidy_text(raw) == "Dear Ambassador,\n\nThe meeting\u00a0: 10:00\n"


@given(
    st.lists(st.sampled_from(["a", " ", "\t", "\n", "\r", "\u00a0", "\u2028", "b c"])).map("".join)
)
def test_tidy_text_is_its_definition(text: str) -> None:
    assert tidy_text(text) == _tidied_by_expressions(text)
