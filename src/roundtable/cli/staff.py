"""``roundtable staff …``: accounts, grants, API tokens (docs/interfaces.md, "Commands").

The life cycle itself is the staff domain's (``staff/lifecycle.py``); these commands parse,
call and print.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from roundtable.cli.common import JsonOption, _emit, _fail, _now, _user_errors

staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    email: str,
    role: Annotated[str, typer.Option("--role", help="admin, organizer or viewer")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a staff account."""
    from roundtable.db import write_session
    from roundtable.staff.accounts import add_staff

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _user_errors(), write_session() as session:
        user = add_staff(session, email, role, password)
        document = {"email": user.email, "role": user.role}
    _emit(as_json, document, f"staff account {document['email']} ({document['role']}) created")


@staff_app.command("token")
def staff_token(
    email: str,
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Stop working after this long: 90d, 12h, 30m."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print a new API bearer token for that account (shown once)."""
    from datetime import timedelta

    from roundtable.db import write_session
    from roundtable.events.durations import parse_duration
    from roundtable.staff.accounts import issue_api_token
    from roundtable.staff.lifecycle import account

    expires_at = None
    if expires is not None:
        try:
            expires_at = _now() + timedelta(seconds=parse_duration(expires))
        except ValueError as error:
            _fail(f"--expires: {error}")
    with _user_errors(), write_session() as session:
        token = issue_api_token(session, account(session, email), expires_at=expires_at)
    document = {"token": token, "expires_at": expires_at.isoformat() if expires_at else None}
    _emit(as_json, document, token)


@staff_app.command("list")
def staff_list(as_json: JsonOption = False) -> None:
    """Accounts, roles, granted events, API tokens and their last use."""
    from roundtable.db import read_session
    from roundtable.staff.lifecycle import list_accounts

    with _user_errors(), read_session() as session:
        accounts = list_accounts(session, _now())
    if as_json:
        _emit(True, {"accounts": [a.as_dict() for a in accounts]}, "")
        return
    table = Table("email", "role", "state", "events", "tokens", "last sign-in", "last token use")
    for item in accounts:
        table.add_row(
            item.email,
            item.role,
            "disabled" if item.disabled else "active",
            ", ".join(item.grants) or "-",
            f"{item.active_tokens} active / {len(item.tokens)}",
            _when(item.last_login_at),
            _when(item.last_token_use),
        )
    Console(width=200).print(table)


def _when(instant: Any) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC") if instant is not None else "never"


@staff_app.command("grant")
def staff_grant(email: str, slug: str, as_json: JsonOption = False) -> None:
    """Let the account manage the event SLUG."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import grant

    with _user_errors(), write_session() as session:
        changed = grant(session, email, slug)
    text = f"{email} may manage {slug}" + ("" if changed else " (already granted)")
    _emit(as_json, {"email": email, "slug": slug, "changed": changed}, text)


@staff_app.command("ungrant")
def staff_ungrant(email: str, slug: str, as_json: JsonOption = False) -> None:
    """Take the event SLUG away from the account."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import ungrant

    with _user_errors(), write_session() as session:
        changed = ungrant(session, email, slug)
    text = f"{email} no longer manages {slug}" + ("" if changed else " (was not granted)")
    _emit(as_json, {"email": email, "slug": slug, "changed": changed}, text)


@staff_app.command("revoke")
def staff_revoke(email: str, as_json: JsonOption = False) -> None:
    """Revoke every API token of the account; they answer 401 from now on."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import revoke_tokens

    with _user_errors(), write_session() as session:
        revoked = revoke_tokens(session, email, _now())
    _emit(as_json, {"email": email, "revoked": revoked}, f"{revoked} token(s) revoked")


@staff_app.command("disable")
def staff_disable(email: str, as_json: JsonOption = False) -> None:
    """No sign-in, no API token, every open session ended."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import disable

    with _user_errors(), write_session() as session:
        changed = disable(session, email, _now())
    text = f"{email} disabled" + ("" if changed else " (already)")
    _emit(as_json, {"email": email, "disabled": True, "changed": changed}, text)


@staff_app.command("enable")
def staff_enable(email: str, as_json: JsonOption = False) -> None:
    """Let a disabled account sign in and use its tokens again."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import enable

    with _user_errors(), write_session() as session:
        changed = enable(session, email)
    text = f"{email} enabled" + ("" if changed else " (was not disabled)")
    _emit(as_json, {"email": email, "disabled": False, "changed": changed}, text)


@staff_app.command("password")
def staff_password(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set the account's password; its open sessions end."""
    from roundtable.db import write_session
    from roundtable.staff.lifecycle import set_password

    if not password_stdin:
        raise typer.BadParameter(
            "pass --password-stdin and the password on standard input (never as an argument)"
        )
    password = sys.stdin.readline().rstrip("\r\n")
    with _user_errors(), write_session() as session:
        user = set_password(session, email, password, _now())
        document = {"email": user.email, "password_set": True}
    _emit(as_json, document, f"password of {document['email']} set")
