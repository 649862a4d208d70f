"""The event form in headless Chromium, on a phone (390 px) and a desk (1280 px).

Creates an event by the form alone: the zone from the picker's list, agenda rows
added and reordered with the page's buttons, the description previewed, then saved.
Screenshots go to ``test-artifacts/staff/`` for people to look at.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from roundtable.db import read_session
from roundtable.events.model import Event
from roundtable.events.service import agenda_of
from tests.staff.staff_support import PASSWORD, add_member
from tests.staff.test_staff_browser import (
    ADMIN,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    playwright_api,
    server,  # noqa: F401 - the fixture
)


@pytest.mark.parametrize("width", [390, 1280])
def test_an_event_is_created_by_the_form_in_chromium(server: str, width: int) -> None:  # noqa: F811
    add_member(ADMIN, "admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    slug = f"form-{width}"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server}/login")
            page.fill("#email", ADMIN)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")

            page.goto(f"{server}/dashboard/events/new")
            page.fill("#slug", slug)
            page.fill("#title", f"Made in a {width} px browser")
            page.fill("#timezone", "Asia/Tokyo")
            page.fill("#starts", "2027-10-05T14:00")
            page.fill("#ends", "2027-10-05T16:30")
            page.fill("#capacity", "abc")
            page.fill("#description", "## Purpose\n\nA *short* exchange.")
            rows = page.locator("#agenda-rows > li")
            assert rows.count() == 2  # the template's row and a blank one
            rows.nth(1).locator("input[name='agenda.time']").fill("15:30")
            rows.nth(1).locator("input[name='agenda.title']").fill("Closing remarks")
            page.click("#add-agenda-row")
            assert rows.count() == 3
            rows.nth(2).locator("input[name='agenda.time']").fill("14:30")
            rows.nth(2).locator("input[name='agenda.title']").fill("Panel")
            rows.nth(2).locator("button[data-move=up]").click()
            assert rows.nth(1).locator("input[name='agenda.title']").input_value() == "Panel"

            page.click("button[value=preview]")
            # description headings sit below the page's own (docs/architecture.md, "Mail layout")
            assert page.locator(".markdown-preview h4").inner_text() == "Purpose"
            # The preview reads the form without saving; a bad field keeps its own message.
            assert "must be a whole number" in page.inner_text("#capacity-error")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"the page scrolls sideways at {width} px ({scroll})"
            page.screenshot(path=str(ARTIFACTS / f"event-form-{width}.png"), full_page=True)

            page.fill("#capacity", "60")
            page.click("button[value=save]")
            assert page.url.endswith(f"/dashboard/events/{slug}?notice=created"), page.url
            page.screenshot(path=str(ARTIFACTS / f"event-form-{width}-saved.png"))
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()

    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == slug)).one()
        assert (event.timezone, event.capacity) == ("Asia/Tokyo", 60)
        titles = [item.title for item in agenda_of(session, event)]
        assert titles == ["Opening remarks", "Panel", "Closing remarks"]
