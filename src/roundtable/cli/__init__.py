"""The ``roundtable`` command line (docs/interfaces.md, "Commands").

Exit codes: 0 success, 1 bad input (the message on stderr names the file, line
and field), 2 usage errors. ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from roundtable.cli.common import (
    JsonOption,
    _check_key,
    _emit,
    _fail,
    _now,
    _progress,
    _user_errors,
    _who_sends,
    _writes_links,
    stderr,
)
from roundtable.cli.staff import staff_app
from roundtable.config import SecretKeyMissing

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
inbound_app = typer.Typer(help="The organizer's mailbox: replies, bounces.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(invitees_app, name="invitees")
app.add_typer(invitations_app, name="invitations")
app.add_typer(recommendations_app, name="recommendations")
app.add_typer(messages_app, name="messages")
app.add_typer(staff_app, name="staff")
app.add_typer(inbound_app, name="inbound")


def main() -> None:
    """Console-script entry point."""
    app()


# -- db ---------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema; safe to run repeatedly."""
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


# -- inbound ----------------------------------------------------------------------------------


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
