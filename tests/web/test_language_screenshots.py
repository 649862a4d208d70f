"""Arabic, Chinese and French on a phone: the invitation and the RSVP page, photographed.

Chromium renders the real invitation (375 px, a phone's mail app) and the real page
(390 px) with Debian's Noto fonts; the PNGs land in ``test-artifacts/languages/`` for a
person to read. The page must not scroll sideways in any of the three.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from roundtable.mail.render import render
from tests.invitations.rsvp_support import invite
from tests.mail.samples import sample_contact, sample_context
from tests.web.test_rsvp_browser import PHONE, add_meeting, browser, fits_the_width, open_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser

from tests.staff import test_staff_browser as staff_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "languages"
MAIL_PHONE = {**PHONE, "viewport": {"width": 375, "height": 812}}
server = staff_browser.server
__all__ = ["browser", "server"]


@pytest.mark.parametrize("language", ["ar", "zh", "fr"])
def test_invitation_and_page_on_a_phone(server: str, browser: Browser, language: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mail = render("invitation", sample_context("invitation", sample_contact(language=language)))
    tab, _ = open_page(browser, MAIL_PHONE)
    tab.set_content(mail.html)
    tab.screenshot(path=str(ARTIFACTS / f"invitation-{language}-375.png"), full_page=True)

    _, token = invite(add_meeting(), 1, language=language)
    page, problems = open_page(browser, PHONE)
    page.goto(f"{server}/rsvp/{token}")
    page.screenshot(path=str(ARTIFACTS / f"rsvp-{language}-390.png"), full_page=True)
    assert fits_the_width(page), f"the {language} page scrolls sideways on a phone"
    assert page.locator("html").get_attribute("lang") == language
    assert problems == []
