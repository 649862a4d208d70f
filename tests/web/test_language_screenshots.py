"""Facts first, on a phone: the real invitation and RSVP page in four languages, photographed.

The example event is loaded and its invitations sent through the command line, the
outbox rows are delivered to an SMTP server in the test, and Chromium opens what
arrived (375 px, a phone's mail app) and the page its link leads to (390 px), with
Debian's Noto fonts. On both: date, time, place and the reply buttons come before
the programme, the programme before the description; the description's own headings
are smaller than the event's title; nothing scrolls sideways; the three buttons are
equally wide. The PNGs land in ``test-artifacts/languages/`` for a person to read
(docs/architecture.md, "Mail layout").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.mail.delivered import delivered_invitations
from tests.web.test_rsvp_browser import PHONE, browser, fits_the_width, open_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from sqlalchemy.engine import Engine

from tests.staff import test_staff_browser as staff_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "languages"
MAIL_PHONE = {**PHONE, "viewport": {"width": 375, "height": 812}}
MAIL_DESKTOP = {"viewport": {"width": 1280, "height": 900}}
server = staff_browser.server
__all__ = ["browser", "server"]

#: what a preheader may not use to hide itself: a colour (SpamAssassin's
#: HTML_FONT_LOW_CONTRAST compares it with the background) or transparency
_COLOUR_TRICKS = re.compile(r"(?:^|;)\s*(?:color|opacity|background(?:-color)?)\s*:", re.I)
_RSVP = re.compile(r'href="[^"]*/rsvp/([^"?/]+)\?response=accept"')

#: top of each part of the invitation, in reading order, as the reader's eye meets it
MAIL_ORDER = {
    "date and time": ".details .value",
    "place": ".details tr:nth-child(3) .value",
    "reply buttons": ".buttons",
    "programme": ".agenda",
    "description": ".description",
}
PAGE_ORDER = {
    "date and time": ".facts dd",
    "place": ".facts address",
    "reply buttons": ".choice-row",
    "programme": ".agenda",
    "description": ".description",
}


def _tops(page: Page, order: dict[str, str]) -> list[tuple[float, str]]:
    """Where each part starts on the page, in the order ``order`` lists them."""
    tops = []
    for part, selector in order.items():
        found = page.locator(selector).first
        assert found.count() == 1, f"no {part} ({selector})"
        box = found.bounding_box()
        assert box is not None, f"{part} is not shown"
        tops.append((box["y"], part))
    return tops


def _widths(page: Page, selector: str) -> list[int]:
    boxes = (found.bounding_box() for found in page.locator(selector).all())
    return [round(box["width"]) for box in boxes if box]


def _font_size(page: Page, selector: str) -> float:
    return float(
        page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    )


def _check_reading_order(page: Page, order: dict[str, str], what: str) -> None:
    tops = _tops(page, order)
    assert tops == sorted(tops), f"{what}: parts out of order: {tops}"


#: a phrase of the description as each reader gets it: the example's own French words,
#: the default (English) description's "2030 Agenda" for the others
DESCRIPTION_MARKER = {"fr": "Pourquoi les villes"}


def _check_source(html: str, text: str, what: str, language: str) -> None:
    """Facts, buttons, programme, description in both parts; a preheader hidden by size only."""
    markers = ("details", "buttons", "details agenda", "rich description")
    positions = [html.find(f'class="{name}') for name in markers]
    assert -1 not in positions and positions == sorted(positions), f"{what}: {positions}"
    # the buttons, the programme's last item, then the description
    description = DESCRIPTION_MARKER.get(language, "2030")
    places = [text.find(marker) for marker in ("?response=accept", "14:55", description)]
    assert -1 not in places and places == sorted(places), f"{what}, text part: {places}"

    preheader = re.search(r'<div class="preheader" style="([^"]*)"', html)
    assert preheader is not None, f"{what}: no preheader"
    style = preheader.group(1)
    assert not _COLOUR_TRICKS.search(style), f"{what}: preheader hidden by colour: {style}"
    for needed in ("display: none", "max-height: 0", "overflow: hidden", "font-size: 0"):
        assert needed in style, f"{what}: preheader without {needed}"
    assert "mso-hide: all" in style, f"{what}: preheader shown by Outlook"


def _check_mail_on_a_phone(browser: Browser, html: str, language: str) -> None:
    what = f"the {language} invitation"
    mail, _ = open_page(browser, MAIL_PHONE)
    mail.set_content(html)
    mail.screenshot(path=str(ARTIFACTS / f"invitation-{language}-375.png"), full_page=True)
    assert fits_the_width(mail), f"{what} scrolls sideways at 375 px"
    _check_reading_order(mail, MAIL_ORDER, what)
    buttons = _widths(mail, ".btn-primary-cell, .btn-secondary-cell")
    assert len(buttons) == 3 and len(set(buttons)) == 1, f"{what}: buttons {buttons}"
    assert _font_size(mail, ".description h4") < _font_size(mail, ".title"), what


def _check_mail_on_a_desktop(browser: Browser, html: str, language: str) -> None:
    """The same mail in a desktop client's reading pane: one 600 px column, nothing cut."""
    mail, _ = open_page(browser, MAIL_DESKTOP)
    mail.set_content(html)
    mail.screenshot(path=str(ARTIFACTS / f"invitation-{language}-1280.png"), full_page=True)
    assert fits_the_width(mail), f"the {language} invitation scrolls sideways at 1280 px"
    assert _widths(mail, ".container") == [600], f"the {language} invitation's column"


def _check_page_on_a_phone(browser: Browser, address: str, language: str) -> None:
    what = f"the {language} page"
    page, problems = open_page(browser, PHONE)
    page.goto(address)
    page.screenshot(path=str(ARTIFACTS / f"rsvp-{language}-390.png"), full_page=True)
    assert fits_the_width(page), f"{what} scrolls sideways at 390 px"
    assert page.locator("html").get_attribute("lang") == language
    _check_reading_order(page, PAGE_ORDER, what)
    choices = _widths(page, ".choice label")
    assert len(choices) == 3 and len(set(choices)) == 1, f"{what}: choices {choices}"
    assert _font_size(page, ".description h4") < _font_size(page, "h1"), what
    assert problems == []


def test_the_invitation_and_its_page_put_the_facts_first_on_a_phone(
    server: str, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for language, message in delivered_invitations(tmp_path).items():
        html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
        assert html_part is not None and text_part is not None
        html = html_part.get_content()
        _check_source(html, text_part.get_content(), f"the {language} invitation", language)
        _check_mail_on_a_phone(browser, html, language)
        _check_mail_on_a_desktop(browser, html, language)
        token = _RSVP.search(html)
        assert token is not None, f"the {language} invitation has no reply link"
        _check_page_on_a_phone(browser, f"{server}/rsvp/{token.group(1)}", language)


def test_no_invitation_scrolls_sideways_on_a_small_phone(
    sqlite_engine: Engine, browser: Browser, tmp_path: Path
) -> None:
    for language, message in delivered_invitations(tmp_path).items():
        html_part = message.get_body(("html",))
        assert html_part is not None
        mail, _ = open_page(browser, {**PHONE, "viewport": {"width": 320, "height": 700}})
        mail.set_content(html_part.get_content())
        assert fits_the_width(mail), f"the {language} invitation scrolls sideways at 320 px"
