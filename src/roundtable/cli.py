"""The ``roundtable`` command line (docs/interfaces.md, "Commands").

Exit codes: 0 success, 1 bad input (the message on stderr names the file, line
and field), 2 usage errors. ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from roundtable.config import SecretKeyMissing, get_settings
from roundtable.errors import InputError, NotFound
from roundtable.installation.service import KeyMismatch

app = typer.Typer(
    name="roundtable",
    help="Invitations and RSVPs for high-level meetings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
events_app = typer.Typer(help="Events: load from TOML, cancel.", no_args_is_help=True)
invitees_app = typer.Typer(help="Invitees: import from CSV.", no_args_is_help=True)
invitations_app = typer.Typer(help="Invitations: send.", no_args_is_help=True)
recommendations_app = typer.Typer(
    help="Recommendations and the follow-up mailing.", no_args_is_help=True
)
messages_app = typer.Typer(help="Messages to a group of invitees.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
inbound_app = typer.Typer(help="The organizer's mailbox: replies, bounces.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(invitees_app, name="invitees")
app.add_typer(invitations_app, name="invitations")
app.add_typer(recommendations_app, name="recommendations")
app.add_typer(messages_app, name="messages")
app.add_typer(staff_app, name="staff")
app.add_typer(inbound_app, name="inbound")

stderr = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def main() -> None:
    """Console-script entry point."""
    app()


def _fail(message: str) -> NoReturn:
    stderr.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _user_errors(*, schema: bool = True) -> Iterator[None]:
    """Turn input errors into exit code 1 with a message, never a traceback.

    ``schema``: first make sure the database has this code's schema, so that a
    database not yet created says ``run `roundtable db upgrade` first``.
    """
    from roundtable.migrate import SchemaNotReady, require_current_schema

    try:
        if schema:
            require_current_schema()
        yield
    except SchemaNotReady as error:
        _fail(str(error))
    except InputError as error:
        for problem in error.problems:
            stderr.print(f"error: {problem}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except NotFound as error:
        _fail(str(error))
    except (KeyMismatch, SecretKeyMissing) as error:
        _fail(str(error))
    except FileNotFoundError as error:
        _fail(f"{error.filename}: no such file")
    except IsADirectoryError as error:
        _fail(f"{error.filename}: is a folder, not a file")


@contextmanager
def _writes_links() -> Iterator[None]:
    """User errors as :func:`_user_errors`, after checking the key links are signed with.

    A command that writes links with a key other than the one the database's links
    were issued with would send links that answer 404 (docs/architecture.md, "Identities").
    """
    _check_key()
    with _user_errors(schema=False):
        yield


def _check_key() -> None:
    """Exit 1, naming the key's source, when the key is not the database's."""
    from roundtable.installation.service import check_secret_key

    with _user_errors(schema=False):
        get_settings().resolved_secret_key()  # no key at all is said first
    with _user_errors():
        check_secret_key()


def _who_sends(count: int) -> str:
    """Where queued mail goes and what sends it, for a command's last line ("" when none)."""
    if not count:
        return ""
    from roundtable.mail.transports import describe_target, redacted_url

    settings = get_settings()
    if settings.broker_url:
        sender = f"a worker on {redacted_url(settings.broker_url)} sends them"
    else:
        sender = "`roundtable serve` or a worker sends them"
    return f" for {describe_target(settings.mail_url)}; {sender}"


def _emit(as_json: bool, document: dict[str, Any], text: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        typer.echo(text)


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when piped or in ``--json`` mode."""
    if not enabled or not stderr.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _now() -> Any:
    from roundtable.types import utcnow

    return utcnow()


# -- db ---------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema; safe to run repeatedly."""
    from roundtable.config import SecretKeyMissing
    from roundtable.installation.service import record_key
    from roundtable.migrate import current_revision, upgrade

    upgrade()
    # The database's identity, so that later commands' key checks only read. Without a key
    # (another database than SQLite, no ROUNDTABLE_SECRET_KEY) the first command that needs
    # one says what to set.
    with contextlib.suppress(SecretKeyMissing):
        record_key()
    revision = current_revision()
    _emit(as_json, {"revision": revision}, f"database is up to date (revision {revision})")


@db_app.command("accept-key")
def db_accept_key(as_json: JsonOption = False) -> None:
    """Adopt the current secret key for this database's links; links sent before stop working."""
    from roundtable.installation.service import accept_key

    with _user_errors():
        source = accept_key()
    _emit(
        as_json,
        {"key_source": source},
        f"the secret key from {source} is now the one links are issued with; "
        "links sent under the previous key no longer work",
    )


# -- events -----------------------------------------------------------------------------------


#: the organizers' paragraph for the update or cancellation mail this command sends
NoteOption = Annotated[
    str, typer.Option("--note", help="A paragraph from the organizers, shown in the mail.")
]


@events_app.command("load")
def events_load(
    file: Annotated[Path, typer.Argument(help="The event file (TOML).")],
    note: NoteOption = "",
    as_json: JsonOption = False,
) -> None:
    """Create the event described by FILE, or update it when its slug exists."""
    from roundtable.workflows.event_changes import apply_event_file

    with _writes_links():
        outcome = apply_event_file(file, now=_now(), note=note)
    verb = "created" if outcome.created else ("updated" if outcome.changed_fields else "unchanged")
    text = f"event {outcome.slug} {verb}"
    if outcome.changed_fields and not outcome.created:
        text += f" ({', '.join(outcome.changed_fields)})"
    if outcome.updates_queued:
        text += f"; {outcome.updates_queued} update(s) queued{_who_sends(outcome.updates_queued)}"
    _emit(as_json, outcome.as_dict(), text)


@events_app.command("cancel")
def events_cancel(slug: str, note: NoteOption = "", as_json: JsonOption = False) -> None:
    """Cancel the event: cancellation mail to everyone not declined, pending mail dropped."""
    from roundtable.workflows.cancel import cancel_event

    with _writes_links():
        result = cancel_event(slug, now=_now(), note=note)
    _emit(
        as_json,
        result.as_dict(),
        f"event {slug} cancelled; {result.cancellations_queued} cancellation(s) queued, "
        f"{result.messages_dropped} pending message(s) dropped"
        f"{_who_sends(result.cancellations_queued)}",
    )


# -- invitees ---------------------------------------------------------------------------------


@invitees_app.command("import")
def invitees_import(
    slug: str,
    file: Annotated[Path, typer.Argument(help="The invitee file (CSV, UTF-8, header row).")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows, report the others.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import invitees; one invalid row rejects the whole file unless --skip-invalid."""
    from roundtable.invitations.invitee_import import import_invitee_file

    with _user_errors():
        result = import_invitee_file(file, slug, skip_invalid=skip_invalid)
    for problem in result.skipped:
        stderr.print(f"skipped: {problem}", highlight=False, markup=False, soft_wrap=True)
    document = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "skipped": len(result.skipped),
    }
    _emit(
        as_json,
        document,
        f"{result.created} added to the event's list, {result.updated} updated on it, "
        f"{result.unchanged} unchanged"
        + (f", {len(result.skipped)} skipped" if result.skipped else ""),
    )


# -- messages ---------------------------------------------------------------------------------


@messages_app.command("send")
def messages_send(
    slug: str,
    file: Annotated[
        Path, typer.Argument(help="subject, body (Markdown) and optional [fr], [es], … tables.")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Reply statuses: accepted, tentative, declined, waitlisted, invited."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Write to the invitees in these states: one copy each, in their language."""
    from roundtable.mail.group_messages import checked_audience, read_message_file
    from roundtable.workflows.desk import send_group_message_as_operator

    with _user_errors():
        draft = read_message_file(file)
        audience = checked_audience(to.split(","), source="--to")
        sent = send_group_message_as_operator(slug, draft, audience, now=_now())
    _emit(as_json, {"queued": sent.queued}, f"message {sent.id}: {sent.queued} copies queued")


# -- invitations ------------------------------------------------------------------------------


@invitations_app.command("send")
def invitations_send(slug: str, as_json: JsonOption = False) -> None:
    """Queue an invitation for every invitee who has none yet."""
    from roundtable.workflows.sending import send_invitations

    with _writes_links(), _progress("Queueing invitations", not as_json) as progress:
        queued = send_invitations(slug, now=_now(), progress=progress)
    _emit(as_json, {"queued": queued}, f"{queued} invitation(s) queued{_who_sends(queued)}")


# -- recommendations ---------------------------------------------------------------------------


@recommendations_app.command("publish")
def recommendations_publish(
    slug: str,
    file: Annotated[Path, typer.Argument(help="The recommendations (Markdown).")],
    as_json: JsonOption = False,
) -> None:
    """Store the event's recommendations and schedule the follow-up mailing."""
    from roundtable.workflows.recommendations import publish_recommendations

    with _writes_links():
        result = publish_recommendations(slug, file, now=_now())
    _emit(
        as_json,
        result.as_dict(),
        f"recommendations published; {result.followups_scheduled} follow-up(s) scheduled "
        f"for {result.due_at.isoformat()}{_who_sends(result.followups_scheduled)}",
    )


# -- attendance, report -------------------------------------------------------------------------


@app.command("checkin")
def checkin(slug: str, email: str, as_json: JsonOption = False) -> None:
    """Mark the invitee as attended."""
    from roundtable.invitations.attendance import check_in

    with _user_errors():
        first_time = check_in(slug, email, now=_now())
    _emit(
        as_json,
        {"checked_in": True, "already": not first_time},
        f"{email} checked in" if first_time else f"{email} was already checked in",
    )


@app.command("report")
def report(
    slug: str,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the invitee list as CSV.")] = False,
) -> None:
    """The staff report: replies by status, organization and role; delivery; attendance."""
    from roundtable.db import read_session
    from roundtable.reports.event_report import event_report
    from roundtable.reports.render import print_report, write_invitees_csv

    if as_json and as_csv:
        raise typer.BadParameter("choose --json or --csv, not both")
    with _user_errors(), read_session() as session:
        if as_csv:
            write_invitees_csv(session, slug, sys.stdout)
            return
        document = event_report(session, slug).as_dict()
    if as_json:
        _emit(True, document, "")
    else:
        print_report(document, Console())


# -- staff ------------------------------------------------------------------------------------


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


@inbound_app.command("fetch")
def inbound_fetch(as_json: JsonOption = False) -> None:
    """Read the organizer's mailbox once: calendar replies, bounces, auto-replies."""
    from roundtable.inbound.mailbox import MailboxError
    from roundtable.workflows.inbound import fetch_once

    with _user_errors():
        try:
            report = fetch_once()
        except MailboxError as error:
            _fail(str(error))
    _emit(as_json, report.as_json(), report.as_text())


# -- serve, demo ------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """The web application: RSVP pages, dashboard and API."""
    from roundtable.serve import run_server

    _check_key()
    run_server(host=host, port=port)


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Load the example roundtable, send its invitations into the outbox, and serve."""
    from roundtable.demo import run_demo

    with _user_errors(schema=False):  # the demo creates its own schema
        run_demo(host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
