"""``roundtable demo``: the whole workflow on embedded defaults, then the server."""

from __future__ import annotations

import os

import typer
from sqlalchemy import func
from sqlmodel import col, select

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.delivery.local import LocalRunner
from roundtable.demo_rehearsal import rebuild_rehearsal
from roundtable.installation.service import check_secret_key
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.invitations.model import Invitation
from roundtable.invitations.tokens import derive_token
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.transports import describe_target
from roundtable.migrate import upgrade
from roundtable.paths import examples_dir
from roundtable.serve import run_server
from roundtable.staff.accounts import add_staff
from roundtable.staff.model import StaffUser
from roundtable.types import utcnow
from roundtable.workflows.event_changes import apply_event_file
from roundtable.workflows.sending import send_invitations

DEMO_STAFF_EMAIL = "demo@roundtable.example.org"
DEMO_STAFF_PASSWORD = "roundtable-demo"
EVENT_FILE = "inter-ethnic-city.toml"
INVITEE_FILE = "invitees.csv"


def run_demo(*, host: str, port: int) -> None:
    """Load the example, send its invitations into the outbox, print where to look, serve."""
    # The rehearsal's mail is minutes apart: look for due mail every few seconds.
    os.environ.setdefault("ROUNDTABLE_DISPATCH_INTERVAL", "5")
    if "ROUNDTABLE_BASE_URL" not in os.environ:
        # Links in the demo's mail should open this very server, whatever port it uses.
        os.environ["ROUNDTABLE_BASE_URL"] = f"http://{host}:{port}"
        get_settings.cache_clear()
    settings = get_settings()
    say = typer.echo
    upgrade()
    check_secret_key()
    examples = examples_dir()
    outcome = apply_event_file(examples / EVENT_FILE, now=utcnow())
    slug = outcome.slug
    say(f"• event {slug}: {'created' if outcome.created else 'already loaded'}")
    imported = import_invitee_file(examples / INVITEE_FILE, slug, skip_invalid=False)
    say(f"• invitees: {imported.created} new, {imported.unchanged + imported.updated} known")
    _ensure_demo_staff()

    runner = LocalRunner(workers=2, dispatch_interval=settings.dispatch_interval)
    runner.start()
    queued = send_invitations(slug, now=utcnow())
    say(f"• invitations queued: {queued}")
    rehearsal = rebuild_rehearsal(examples / EVENT_FILE, examples / INVITEE_FILE, now=utcnow())
    runner.wait_idle(timeout=120)
    say(f"• outbox: {_outbox_summary()} — mail goes to {describe_target(settings.mail_url)}")
    base = settings.public_base_url
    say("")
    say(f"Dashboard:   {base}/dashboard   (login {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD})")
    link = _one_rsvp_link(base, settings.resolved_secret_key())
    if link:
        say(f"RSVP link:   {link}")
    starts = rehearsal.starts_at.astimezone().strftime("%H:%M:%S %Z").strip()
    say(
        f"Rehearsal:   a copy of the event for {rehearsal.invited} invitees starts at {starts};"
        " its nudge, reminders and follow-up arrive in the outbox over the next 8 minutes."
    )
    say("Press Ctrl-C to stop.")
    run_server(host=host, port=port, runner=runner)


def _ensure_demo_staff() -> None:
    with write_session() as session:
        exists = session.exec(select(StaffUser).where(StaffUser.email == DEMO_STAFF_EMAIL)).first()
        if exists is None:
            add_staff(session, DEMO_STAFF_EMAIL, "admin", DEMO_STAFF_PASSWORD)


def _outbox_summary() -> str:
    """Sent and failed messages, and what waits for its time (reminders, the nudge)."""
    now = utcnow()
    with read_session() as session:
        counts = session.exec(
            select(Message.status, col(Message.due_at) > now, func.count()).group_by(
                Message.status, col(Message.due_at) > now
            )
        ).all()
    parts = [
        f"{n} {'scheduled' if later and status == MessageStatus.QUEUED else status}"
        for status, later, n in counts
    ]
    return ", ".join(sorted(parts)) or "empty"


def _one_rsvp_link(base: str, secret: str) -> str | None:
    with read_session() as session:
        row = session.exec(
            select(Invitation)
            .where(col(Invitation.token_salt).is_not(None))
            .order_by(col(Invitation.id))
        ).first()
    if row is None:
        return None
    invitation = row
    assert invitation.id is not None and invitation.token_salt is not None
    token = derive_token(secret, invitation.id, invitation.token_salt)
    return f"{base}/rsvp/{token}   ({invitation.display_name})"
