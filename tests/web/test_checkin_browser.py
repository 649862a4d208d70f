"""At the door in Chromium at 390 px (a phone) and 1280 px: the QR code read back, then used.

The confirmation's QR code is decoded in the browser by the vendored jsQR, the
address it holds is opened, sign-in leads back to it, and the invitee is checked
in with one thumb-sized button. Neither page scrolls sideways at 390 px.
Screenshots land in ``test-artifacts/door/``.
"""

from __future__ import annotations

import base64
import email
from email.policy import SMTP
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from roundtable.delivery.deliver import deliver_batch
from roundtable.mail.model import MessageKind
from roundtable.mail.transports import open_transport
from roundtable.web.app import create_app
from tests.invitations.rsvp_support import invitation, invite, messages
from tests.staff.staff_support import PASSWORD, add_event, add_member, seed_mix
from tests.staff.test_staff_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api, server
from tests.web.test_rsvp_pages import form_token

__all__ = ["server"]  # the fixture, used by name below

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "door"
STATIC = Path(__file__).resolve().parents[2] / "src" / "roundtable" / "web" / "static"
ORGANIZER = "door@un.example.org"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


def accept_and_deliver(base: str, token: str, tmp_path: Path) -> bytes:
    """The invitee accepts on their page; the confirmation goes out; its QR code's PNG."""
    with TestClient(create_app(), base_url=base, follow_redirects=False) as client:
        page = client.get(f"/rsvp/{token}").text
        answer = client.post(
            f"/rsvp/{token}",
            data={
                "form_token": form_token(page),
                "response": "accept",
                "notes": "Wheelchair access",
            },
            headers={"Origin": base, "Sec-Fetch-Site": "same-origin"},
        )
        assert answer.status_code in (200, 303), answer.text
    outbox = tmp_path / "outbox"
    ids = [m.id for m in messages(MessageKind.CONFIRMATION) if m.id is not None]
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch(ids, transport)
    (written,) = outbox.glob("*.eml")
    mail = email.message_from_bytes(written.read_bytes(), policy=SMTP)
    (image,) = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    data = image.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def decode_in_browser(page: Any, png: bytes) -> str:
    """What the vendored jsQR reads from the PNG, drawn on a canvas as a camera frame would be."""
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=(STATIC / "vendor" / "jsQR.js").read_text(encoding="utf-8"))
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return str(
        page.evaluate(
            """async (source) => {
                const image = new Image();
                image.src = source;
                await image.decode();
                const canvas = document.createElement("canvas");
                canvas.width = image.width * 2; canvas.height = image.height * 2;
                const context = canvas.getContext("2d");
                context.imageSmoothingEnabled = false;
                context.drawImage(image, 0, 0, canvas.width, canvas.height);
                const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
                const found = jsQR(pixels.data, pixels.width, pixels.height);
                return found ? found.data : "";
            }""",
            source,
        )
    )


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"]:
        page.screenshot(path=str(ARTIFACTS / "too-wide.png"), full_page=True)
    wide = page.evaluate(
        """(limit) => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > limit + 1 || e.scrollWidth > limit + 1)
            .filter((e) => {
                for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (getComputedStyle(a).overflowX !== "visible") { return false; }
                }
                return true;
            })
            .slice(0, 5).map((e) => e.tagName + "." + e.className + " " +
                Math.round(e.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide: {wide}"


def test_check_in_from_the_qr_code_on_a_phone(server: str, tmp_path: Path) -> None:
    event_id = add_event("door-event", title="The Inter-Ethnic City")
    add_member(ORGANIZER, "organizer", events=(event_id,))
    invitation_id, token = invite(event_id, 1, honorific="H.E. Ms.", full_name="Beatriz Ortega")
    for n in range(2, 30):
        invite(event_id, n)
    png = accept_and_deliver(server, token, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "confirmation-qr.png").write_bytes(png)

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = phone.new_page()
            url = decode_in_browser(page, png)
            assert url.startswith(f"{server}/checkin/") and token not in url

            page.goto(url)  # the phone's camera app opens the address: first, sign in
            assert "/login?next=/checkin/" in page.url
            page.fill("#email", ORGANIZER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            assert page.url == url
            assert "Beatriz Ortega" in page.inner_text("h1")
            assert "Wheelchair access" in page.inner_text("main")
            button = page.locator("button:has-text('Check in')")
            box = button.bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 200
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "01-arrival-390.png"), full_page=True)

            button.click()
            assert "Checked in at" in page.inner_text("#checked-in")
            assert invitation(invitation_id).attended_at is not None
            page.screenshot(path=str(ARTIFACTS / "02-checked-in-390.png"), full_page=True)

            page.click("text=Scan the next code")
            assert page.url.endswith("/dashboard/events/door-event/checkin")
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "03-checkin-page-390.png"), full_page=True)
            page.fill("#q", "Guest")
            page.click("button:has-text('Search')")
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "04-search-390.png"), full_page=True)

            page.goto(f"{server}/dashboard/events/door-event")
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "05-event-390.png"), full_page=True)

            laptop = browser.new_context(viewport=LAPTOP)
            laptop.add_cookies(phone.cookies())
            wide = laptop.new_page()
            for name, path in (
                ("06-arrival-1280.png", url.removeprefix(server)),
                ("07-checkin-page-1280.png", "/dashboard/events/door-event/checkin?q=guest"),
                ("08-event-1280.png", "/dashboard/events/door-event"),
            ):
                wide.goto(server + path)
                no_sideways_scroll(wide)
                wide.screenshot(path=str(ARTIFACTS / name), full_page=True)
        finally:
            browser.close()


def test_the_event_page_of_150_missions_fits_a_phone(server: str) -> None:
    seed_mix("missions", count=60)
    add_member(ORGANIZER, "admin")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            page.goto(f"{server}/login")
            page.fill("#email", ORGANIZER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{server}/dashboard/events/missions")
            no_sideways_scroll(page)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "09-event-mix-390.png"), full_page=True)
        finally:
            browser.close()
