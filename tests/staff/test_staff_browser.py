"""The dashboard in a real browser (headless Chromium): sign in, look, filter, resend, export.

The app runs under uvicorn on a free local port; Chromium is Debian's (``apt-get
install chromium``), driven by Playwright without its own browser download.
Screenshots are kept in ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from roundtable.config import get_settings
from roundtable.web.app import create_app
from tests.ports import free_port
from tests.staff.staff_support import PASSWORD, add_member, message_rows, seed_mix

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "staff"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN = "admin@un.example.org"

playwright_api = pytest.importorskip(
    "playwright.sync_api",
    reason="LOUD SKIP: the browser test needs Playwright (pip install playwright); "
    "it drives Debian's chromium, it does not download a browser",
)

if CHROMIUM is None:  # pragma: no cover - depends on the machine
    pytest.skip(
        "LOUD SKIP: no chromium on this machine; install it with `apt-get install -y chromium` "
        "to run the dashboard's browser test",
        allow_module_level=True,
    )


@pytest.fixture
def server(sqlite_engine: Engine, env: pytest.MonkeyPatch) -> Iterator[str]:
    """The real app under uvicorn, in a thread, on a free port of the loopback address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env.setenv("ROUNDTABLE_BASE_URL", base)  # plain http: the cookie must not be Secure here
    get_settings.cache_clear()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


def test_staff_sign_in_filter_resend_and_export_in_chromium(server: str) -> None:
    seeded = seed_mix("inter-ethnic-city", count=40)
    failed = next(m for m in seeded.messages if m.status == "failed")
    add_member(ADMIN, "admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{server}/dashboard")
            assert page.url.startswith(f"{server}/login")
            page.screenshot(path=str(ARTIFACTS / "01-login.png"))
            page.fill("#email", ADMIN)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            assert page.url == f"{server}/dashboard"
            page.screenshot(path=str(ARTIFACTS / "02-events.png"), full_page=True)

            page.click("text=The Inter-Ethnic City")
            assert page.url.endswith("/dashboard/events/inter-ethnic-city")
            accepted = sum(1 for row in seeded.invitations if row.status == "accepted")
            assert page.inner_text("#count-accepted") == str(accepted)
            assert page.locator("svg.chart").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "03-event.png"))
            page.screenshot(path=str(ARTIFACTS / "03-event-full.png"), full_page=True)

            page.select_option("select[name=status]", "accepted")
            page.click("form.filters button[type=submit]")
            assert "status=accepted" in page.url
            assert page.locator("#invitees tbody tr").count() == accepted
            page.screenshot(path=str(ARTIFACTS / "04-filtered.png"), full_page=True)

            page.goto(f"{server}/dashboard/events/inter-ethnic-city")
            page.click(f"form[action='/dashboard/messages/{failed.id}/resend'] button")
            assert "notice=resent" in page.url
            assert "A new copy was queued" in page.inner_text(".notice")
            copies = [
                r for r in message_rows(failed.invitation_id) if r.mailing.endswith("#resend1")
            ]
            assert [c.status for c in copies] == ["queued"]

            with page.expect_download() as download_info:
                page.click("text=Export XLSX")
            download = download_info.value
            saved = ARTIFACTS / download.suggested_filename
            download.save_as(str(saved))
            sheet = load_workbook(io.BytesIO(saved.read_bytes())).active
            assert sheet is not None
            assert sheet.max_row == 1 + len(seeded.invitations)

            page.goto(f"{server}/dashboard/messages/{failed.id}")
            page.screenshot(path=str(ARTIFACTS / "05-message.png"), full_page=True)
            assert page.frame_locator("iframe.mail-frame").locator("body").count() == 1
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
