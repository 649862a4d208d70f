"""An events officer's day in headless Chromium, each step clicked or typed in the real pages.

Sign in, create the event by its form, add invitees by hand, send, deliver to a
real SMTP server (which refuses one address with 550 5.1.1), an invitee accepts
on their own link, a message to those who accepted, the silent reminded now, the
bounced address corrected, one invitation withdrawn, a check-in from the
confirmation's QR code on a phone, and the badges. Every page is photographed at
390 and 1280 px into ``test-artifacts/officer/``; none scrolls sideways at 390 px.
"""

from __future__ import annotations

import email
import re
from email.policy import SMTP
from pathlib import Path
from typing import Any

from tests.mail.smtp_server import ReceivedMessage, SmtpSink
from tests.staff.staff_support import PASSWORD, add_member, deliver_queued
from tests.staff.test_staff_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api, server
from tests.web.test_checkin_browser import decode_in_browser, no_sideways_scroll

__all__ = ["server"]  # the fixture, used by name below

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "officer"
OFFICER = "protocol@un.example.org"
SLUG = "officers-day"
GUEST = "beatriz.ortega@mission.example.org"
BAD = "k.tanaka@mision.example.org"  # a typo: the server has no such mailbox
GOOD = "k.tanaka@mission.example.org"
LEAVING = "a.mensah@mission.example.org"


def deliver(sink: SmtpSink) -> list[ReceivedMessage]:
    """Send every queued row to the SMTP sink, as the delivery worker does; what arrived."""
    return deliver_queued(sink)


def mail_to(received: list[Any], address: str) -> email.message.EmailMessage:
    (found,) = [r for r in received if address in r.recipients]
    return email.message_from_bytes(found.data, policy=SMTP)  # type: ignore[return-value]


def text_of(mail: email.message.EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


class Camera:
    """Screenshots of one page at a phone's width and a desk's, numbered in order."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def shoot(self, name: str) -> None:
        self.count += 1
        stem = ARTIFACTS / f"{self.count:02d}-{name}"
        self.page.set_viewport_size({"width": 390, "height": 844})
        no_sideways_scroll(self.page)
        self.page.screenshot(path=f"{stem}-390.png", full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})
        self.page.screenshot(path=f"{stem}-1280.png", full_page=True)
        self.page.set_viewport_size({"width": 390, "height": 844})


def add_invitee(page: Any, server: str, address: str, honorific: str, name: str) -> None:
    page.goto(f"{server}/dashboard/events/{SLUG}")
    page.click("a:has-text('Add an invitee')")
    page.fill("#new-email", address)
    page.fill("#new-honorific", honorific)
    page.fill("#new-name", name)
    page.fill("#new-organization", "Permanent Mission")
    page.click("#new-invitee button[type=submit]")
    assert "/dashboard/events/" in page.url


def open_invitee(page: Any, server: str, name: str) -> None:
    page.goto(f"{server}/dashboard/events/{SLUG}")
    page.click(f"#invitees a:has-text('{name}')")
    assert re.search(r"/invitees/\d+$", page.url), page.url


def test_an_officers_day_in_chromium(server: str) -> None:
    add_member(OFFICER, "admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with SmtpSink() as sink, playwright_api.sync_playwright() as playwright:
        sink.rule = lambda recipient, attempt: 550 if recipient == BAD else None
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, accept_downloads=True
            )
            page = context.new_page()
            camera = Camera(page)
            page.goto(f"{server}/login")
            camera.shoot("login")
            page.fill("#email", OFFICER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            assert page.url == f"{server}/dashboard"

            page.goto(f"{server}/dashboard/events/new")
            page.fill("#slug", SLUG)
            page.fill("#title", "The Inter-Ethnic City")
            page.fill("#timezone", "Europe/Vienna")
            page.fill("#starts", "2030-10-05T14:00")
            page.fill("#ends", "2030-10-05T16:30")
            page.fill("#capacity", "40")
            camera.shoot("event-form")
            page.click("button[value=save]")
            assert page.url.endswith(f"/dashboard/events/{SLUG}?notice=created"), page.url

            add_invitee(page, server, GUEST, "H.E. Ms.", "Beatriz Ortega")
            camera.shoot("invitee-added")
            add_invitee(page, server, BAD, "Mr.", "Kenji Tanaka")
            add_invitee(page, server, LEAVING, "Ms.", "Ama Mensah")

            page.goto(f"{server}/dashboard/events/{SLUG}")
            page.click("button:has-text('Send invitations')")
            camera.shoot("sent")
            received = deliver(sink)
            assert {r.recipients[0] for r in received} == {GUEST, LEAVING}

            link = re.search(r"https?://\S+/rsvp/\S+", text_of(mail_to(received, GUEST)))
            assert link is not None
            page.goto(link.group(0).rstrip(".>)"))
            page.check("input[name=response][value=accept]")
            camera.shoot("rsvp")
            page.click("button:has-text('Send my reply')")
            (confirmation,) = deliver(sink)
            assert confirmation.recipients == (GUEST,)
            png = next(
                p.get_payload(decode=True)
                for p in email.message_from_bytes(confirmation.data, policy=SMTP).walk()
                if p.get_content_type() == "image/png"
            )

            page.goto(f"{server}/dashboard/events/{SLUG}")
            page.click("a:has-text('Write to a group')")
            for status in ("tentative", "invited"):
                box = page.locator(f"input[name=to][value={status}]")
                if box.count() and box.is_checked():
                    box.uncheck()
            page.click("button[value=count]")
            assert page.inner_text("#recipient-count") == "1 recipient"
            page.fill("#subject", "Logistics")
            page.fill("#body", "Doors open at **13:45**; please bring an identity document.")
            page.click("button[value=preview]")
            camera.shoot("write-preview")
            page.click("button[value=send]")
            assert "Message queued: 1 copies" in page.inner_text(".notice")
            (group_mail,) = deliver(sink)
            assert group_mail.recipients == (GUEST,)
            assert "Doors open at 13:45" in text_of(mail_to([group_mail], GUEST))

            page.goto(f"{server}/dashboard/events/{SLUG}")
            page.click("button:has-text('Remind the silent ones now')")
            assert "nudge(s) queued" in page.inner_text(".notice")
            camera.shoot("nudged")
            nudges = deliver(sink)
            assert [r.recipients for r in nudges] == [(LEAVING,)]  # delivered and silent

            open_invitee(page, server, "Kenji Tanaka")
            camera.shoot("bounced-invitee")
            page.fill("#detail-email", GOOD)
            page.click("#invitee-details button[type=submit]")
            camera.shoot("address-corrected")
            again = deliver(sink)
            assert [r.recipients for r in again] == [(GOOD,)]
            assert "/rsvp/" in text_of(mail_to(again, GOOD))

            open_invitee(page, server, "Ama Mensah")
            page.click("#invitee-link button:has-text('Withdraw')")
            camera.shoot("withdrawn")
            (cancellation,) = deliver(sink)
            assert cancellation.recipients == (LEAVING,)
            assert b"METHOD:CANCEL" in cancellation.data

            assert isinstance(png, bytes)
            reader = context.new_page()  # a blank page: the app's CSP forbids inline scripts
            url = decode_in_browser(reader, png)
            reader.close()
            assert url.startswith(f"{server}/checkin/"), url
            page.goto(url)
            assert "Beatriz Ortega" in page.inner_text("h1")
            camera.shoot("arrival")
            page.click("button:has-text('Check in')")
            assert "Checked in at" in page.inner_text("#checked-in")
            camera.shoot("checked-in")

            page.goto(f"{server}/dashboard/events/{SLUG}")
            page.click("a:has-text('Check-in and badges')")
            camera.shoot("checkin-page")
            with page.expect_download() as download:
                page.click("#print-badges")
            pdf = Path(download.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF")
            page.goto(f"{server}/dashboard/events/{SLUG}")
            camera.shoot("event-at-day-end")
        finally:
            browser.close()
