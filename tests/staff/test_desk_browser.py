"""The composer and the nudge button in headless Chromium, at a phone's width and a desk's.

Screenshots land in ``test-artifacts/desk/`` for people to look at.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from roundtable.db import read_session
from roundtable.mail.model import GroupMessage, Message, MessageKind
from tests.staff.staff_support import PASSWORD, add_member, seed_mix
from tests.staff.test_staff_browser import (  # noqa: F401 - ``server`` is a fixture
    CHROMIUM,
    CHROMIUM_ARGS,
    playwright_api,
    server,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "desk"
ORGANIZER = "officer@un.example.org"
SLUG = "inter-ethnic-city"


def test_write_to_those_who_accepted_and_nudge_the_silent_in_chromium(server: str) -> None:  # noqa: F811
    seeded = seed_mix(SLUG, count=30)
    accepted = sum(1 for row in seeded.invitations if row.status == "accepted")
    add_member(ORGANIZER, "organizer", events=(seeded.event_id,))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in (390, 1280):
                page = browser.new_context(viewport={"width": width, "height": 844}).new_page()
                page.goto(f"{server}/login")
                page.fill("#email", ORGANIZER)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.goto(f"{server}/dashboard/events/{SLUG}/write")
                page.uncheck("input[name=to][value=tentative]")
                page.click("button[value=count]")
                assert page.inner_text("#recipient-count") == f"{accepted} recipients"
                page.fill("#subject", f"Logistics ({width})")
                page.fill("#body", "Doors open at **12:45**; please bring an identity document.")
                page.click("button[value=preview]")
                assert "Doors open at 12:45" in page.inner_text("pre.mail-text")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"the page scrolls sideways at {width} px"
                page.screenshot(path=str(ARTIFACTS / f"write-preview-{width}.png"), full_page=True)
                page.click("button[value=send]")
                assert f"Message queued: {accepted} copies" in page.inner_text(".notice")
                page.screenshot(path=str(ARTIFACTS / f"write-sent-{width}.png"), full_page=True)

                page.goto(f"{server}/dashboard/events/{SLUG}")
                page.click("text=Remind the silent ones now")
                notice = page.inner_text(".notice")
                assert "nudge(s) queued" in notice or "reminded today" in notice
                page.screenshot(path=str(ARTIFACTS / f"event-nudged-{width}.png"))
        finally:
            browser.close()
    with read_session() as session:
        assert len(session.exec(select(GroupMessage)).all()) == 2
        copies = session.exec(select(Message).where(Message.kind == MessageKind.MESSAGE)).all()
        assert len(copies) == 2 * accepted
