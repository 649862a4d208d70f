"""The invitee's RSVP page in a real browser (headless Chromium), at phone and laptop width.

The HTTP tests prove what the page says; this one proves what a person holding a
phone can do with it: see the meeting and the three big choices without sideways
scrolling, tap "Accept", send, and read that the reply is recorded, with nothing
blocked by the page's strict Content Security Policy on the way. Screenshots are
kept in ``test-artifacts/rsvp/`` for people to look at.

The server and the browser come from the dashboard's browser test, which skips
loudly when Playwright or Chromium is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from roundtable.db import write_session
from roundtable.events.model import AgendaItem
from roundtable.invitations.model import Status
from roundtable.types import utcnow
from tests.invitations.rsvp_support import add_event, invitation, invite, messages, snapshot
from tests.staff import test_staff_browser as staff_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "rsvp"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
LAPTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
#: Chromium asks every site for one on its own; the page does not link it.
FAVICON_GUESS = "/favicon.ico"

#: The real app under uvicorn on a free port, shared with the dashboard's browser test.
server = staff_browser.server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; one per module, a new tab per test."""
    with staff_browser.playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=staff_browser.CHROMIUM, args=staff_browser.CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Browser, device: dict[str, Any]) -> tuple[Page, list[str]]:
    """A fresh tab shaped like ``device``, and the list its console errors and failed loads go to.

    A resource the CSP blocks shows up in one of the two: as a console error
    ("Refused to load …") or as a request that failed.
    """
    page = browser.new_context(**device).new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location["url"].endswith(FAVICON_GUESS):
            problems.append(f"console error: {message.text} ({message.location['url']})")

    def on_request_failed(request: Request) -> None:
        problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("requestfailed", on_request_failed)
    return page, problems


def send_reply(page: Page) -> None:
    """Press the form's button as a person would, and insist the server took the reply."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Send my reply").click()
    answer = posted.value
    assert answer.status == 303, (
        f"the reply was refused with {answer.status}: {page.locator('h1').inner_text()}"
    )
    page.wait_for_url(re.compile(r"\?done="))


def add_meeting() -> int:
    """A meeting a month away, 13:15 in New York, with seats, one guest allowed, a programme."""
    day = (utcnow() + timedelta(days=30)).date()
    starts = datetime.combine(day, time(13, 15), tzinfo=ZoneInfo("America/New_York"))
    event_id = add_event(
        starts_at=starts,
        ends_at=starts + timedelta(hours=1, minutes=45),
        capacity=40,
        max_guests=1,
        description="An exchange among **mayors and ministers** on inclusive cities.",
    )
    with write_session() as session:
        for position, (clock, title, speakers) in enumerate(
            [
                ("13:15", "Opening remarks", ["Director General, IOM"]),
                ("13:30", "Panel: cities that welcome", ["Mayor of Montréal", "Mayor of Milan"]),
                ("14:45", "Closing", []),
            ]
        ):
            session.add(
                AgendaItem(
                    event_id=event_id,
                    position=position,
                    time=clock,
                    title=title,
                    speakers=speakers,
                )
            )
    return event_id


def fits_the_width(page: Page) -> bool:
    """True when nothing makes the page scroll sideways."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_accepting_with_a_guest_on_a_phone(server: str, browser: Browser) -> None:
    invitation_id, token = invite(add_meeting(), 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page, problems = open_page(browser, PHONE)

    page.goto(f"{server}/rsvp/{token}")
    page.screenshot(path=str(ARTIFACTS / "rsvp-phone.png"), full_page=True)
    assert fits_the_width(page), "the page scrolls sideways on a phone"
    assert page.locator("h1").inner_text() == "The Inter-Ethnic City"
    for choice in ("Accept", "Maybe", "Decline"):
        assert page.get_by_text(choice, exact=True).is_visible(), choice

    page.get_by_text("Accept", exact=True).click()  # the label drawn as a button
    assert page.get_by_label("Accept", exact=True).is_checked()
    assert page.locator("#guests").is_visible(), "one guest is allowed, so the form asks"
    page.select_option("#guests", "1")
    send_reply(page)
    assert page.url == f"{server}/rsvp/{token}?done=1"

    notice = page.locator(".notice-success").inner_text()
    assert "Your acceptance is recorded" in notice
    page.screenshot(path=str(ARTIFACTS / "rsvp-phone-done.png"), full_page=True)
    assert fits_the_width(page), "the result page scrolls sideways on a phone"
    stored = invitation(invitation_id)
    assert (stored.status, stored.guests) == (Status.ACCEPTED, 1)
    assert [m.invitation_id for m in messages("confirmation")] == [invitation_id]

    laptop, laptop_problems = open_page(browser, LAPTOP)
    laptop.goto(page.url)
    laptop.screenshot(path=str(ARTIFACTS / "rsvp-laptop.png"), full_page=True)
    assert fits_the_width(laptop)
    assert problems + laptop_problems == []


def test_a_decline_link_only_preselects_until_sent(server: str, browser: Browser) -> None:
    invitation_id, token = invite(add_meeting(), 1)
    page, problems = open_page(browser, PHONE)
    before = snapshot()

    page.goto(f"{server}/rsvp/{token}?response=decline")

    assert page.get_by_label("Decline", exact=True).is_checked()
    assert not page.get_by_label("Accept", exact=True).is_checked()
    assert snapshot() == before, "opening the link recorded something"

    send_reply(page)
    assert page.url == f"{server}/rsvp/{token}?done=1"
    assert "you will not attend" in page.locator(".notice-success").inner_text()
    assert invitation(invitation_id).status == Status.DECLINED
    assert problems == []
