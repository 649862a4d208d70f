"""Signing in and out of the dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from roundtable.config import get_settings
from roundtable.types import utcnow
from roundtable.web.auth import (
    CSRF_FIELD,
    LOGIN_FAILED,
    SESSION_COOKIE,
    Visitor,
    authenticate,
    csrf_matches,
    current_visitor,
    end_sessions,
    form_visitor,
    read_browser_session,
    read_form,
    safe_next_path,
    session_for_form,
    write_browser_session,
)
from roundtable.web.dashboard.rendering import (
    error_page,
    form_field,
    render,
)

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    if current_visitor(request) is not None:
        return RedirectResponse(safe_next_path(next), status_code=303)
    browser = session_for_form(request)
    response = render(
        request,
        "login.html",
        {"csrf": browser.csrf, "next": next, "error": "", "email": "", "visitor": None},
    )
    write_browser_session(response, browser)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the address and password; a new session (and CSRF token) on success."""
    form = await read_form(request)
    browser = read_browser_session(request)
    if not csrf_matches(browser, form.get(CSRF_FIELD)):
        return error_page(
            request,
            None,
            403,
            "This login form has expired. Open the login page again and sign in.",
        )
    assert browser is not None
    email, password = form_field(form, "email"), str(form.get("password") or "")
    next_path = safe_next_path(form_field(form, "next"))
    client = request.client.host if request.client is not None else None
    # argon2 and the database block: off the event loop, so one sign-in does not stall the rest.
    member = await run_in_threadpool(authenticate, email, password, client, utcnow())
    if member is None:
        return render(
            request,
            "login.html",
            {
                "csrf": browser.csrf,
                "next": next_path,
                "error": LOGIN_FAILED,
                "email": email,
                "visitor": None,
            },
        )
    response = RedirectResponse(next_path, status_code=303)
    write_browser_session(response, browser.signed_in(member.id))
    return response


@router.post("/logout")
def logout(request: Request, visitor: Visitor = Depends(form_visitor)) -> Response:
    # Void the session on the server too: a copy of the cookie must not outlive sign-out.
    end_sessions(visitor.member.id, utcnow())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.lower().startswith("https://"),
    )
    return response
