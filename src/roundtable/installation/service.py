"""Reading and keeping this installation's identity (docs/architecture.md, "Identities").

The row is made by ``roundtable db upgrade``; a database made otherwise gets it on
first use. Its Message-ID part never changes; a resend of a row has the same Message-ID.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from roundtable.config import get_settings
from roundtable.db import read_session, write_session
from roundtable.installation.model import THE_ROW, Installation
from roundtable.types import utcnow


class KeyMismatch(Exception):
    """The secret key is not the one this database's links were issued with."""


def new_message_id_part() -> str:
    """A fresh random part: 48 bits, twelve hex digits."""
    return secrets.token_hex(6)


def message_id_part(session: Session | None = None) -> str:
    """This database's random part of every Message-ID (made on first use if missing).

    Read once per batch of messages (one primary-key lookup, in the batch's own
    ``session`` when it passes one), never cached across batches: a process
    outlives the database it was started on only in tests.
    """
    if session is None:
        with read_session() as own:
            return message_id_part(own)
    row = session.get(Installation, THE_ROW)
    return row.message_id_part if row is not None else _made().message_id_part


def key_fingerprint(key: str) -> str:
    """A one-way mark of the key: tells keys apart, reveals nothing of them."""
    return hmac.new(key.encode("utf-8"), b"roundtable installation key", hashlib.sha256).hexdigest()


def check_secret_key() -> str:
    """Refuse a key that is not the one the links were issued with; return the key's source.

    On first use the key's fingerprint is stored. :class:`KeyMismatch` names the
    key's source and the way to rotate it on purpose (``roundtable db accept-key``).
    """
    settings = get_settings()
    fingerprint = key_fingerprint(settings.resolved_secret_key())
    source = settings.secret_key_source()
    with read_session() as session:
        stored = session.get(Installation, THE_ROW)
        recorded = stored.key_fingerprint if stored is not None else None
    if recorded is None:  # first use of a database made otherwise than by `db upgrade`
        recorded = record_key()
    if not hmac.compare_digest(recorded, fingerprint):
        raise KeyMismatch(
            f"the secret key from {source} is not the key this database's links were "
            "issued with: every link already sent would answer 404. Use that key "
            "(ROUNDTABLE_SECRET_KEY, or the key file beside an SQLite database), or run "
            "`roundtable db accept-key` to adopt this one on purpose"
        )
    return source


def record_key() -> str:
    """Make the row if missing, store the key's fingerprint if none is yet; the stored one.

    ``roundtable db upgrade`` runs this, so that a command's key check only reads: a
    refused file then changes nothing, not even the installation's row.
    """
    fingerprint = key_fingerprint(get_settings().resolved_secret_key())
    message_id_part()
    with write_session() as session:
        row = _row(session)
        if row.key_fingerprint is None:
            row.key_fingerprint = fingerprint
            session.add(row)
        return row.key_fingerprint


def accept_key() -> str:
    """Adopt the current key as the one links are issued with; return its source.

    Rotation on purpose: links sent under the old key stop working (see README,
    "Rotating the secret key").
    """
    settings = get_settings()
    fingerprint = key_fingerprint(settings.resolved_secret_key())
    message_id_part()
    with write_session() as session:
        row = _row(session)
        row.key_fingerprint = fingerprint
        session.add(row)
    return settings.secret_key_source()


def _row(session: Session) -> Installation:
    """The row, which :func:`message_id_part` has made if it was missing.

    Made before the caller's write transaction, not inside it: on SQLite a second
    writer inside the first would wait for the first to end.
    """
    row = session.get(Installation, THE_ROW)
    assert row is not None
    return row


def _made() -> Installation:
    """The row, made now by whichever process gets there first."""
    try:
        with write_session() as session:
            session.execute(
                insert(Installation).values(
                    id=THE_ROW, message_id_part=new_message_id_part(), created_at=utcnow()
                )
            )
    except IntegrityError:
        pass  # another process made it meanwhile
    with read_session() as session:
        row = session.get(Installation, THE_ROW)
    assert row is not None
    return row
