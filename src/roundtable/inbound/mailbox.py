"""The organizer's mailbox over IMAP (``imapclient``): list, read, and move out of the way.

Nothing is ever deleted: a processed message is moved to ``Roundtable/Processed``
(``Roundtable/Unreadable`` when it could not be understood), folders created
when missing, with the server's own hierarchy separator. Without MOVE
(RFC 6851) the message is copied and then expunged by UID, which is what MOVE does.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient

from roundtable.errors import InputError, Problem

PROCESSED = ("Roundtable", "Processed")
UNREADABLE = ("Roundtable", "Unreadable")
#: seconds to wait for the server before giving up on this fetch (the next one tries again)
TIMEOUT = 60.0
DEFAULT_PORTS = {"imap": 143, "imaps": 993}


class MailboxError(Exception):
    """The server could not be reached, refused the login, or went away mid-fetch."""


#: what the IMAP library and the network raise; the fetch reports them as MailboxError
IMAP_FAILURES = (OSError, imaplib.IMAP4.error)


@dataclass(frozen=True)
class MailboxAddress:
    """Where to read: ``imap[s]://USER:PASS@HOST:PORT/FOLDER[?tls=starttls]``."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: str  # "ssl", "starttls" or "" (plain, for loopback)

    def __repr__(self) -> str:  # never print the password
        return (
            f"MailboxAddress({self.user}@{self.host}:{self.port}/{self.folder}, tls={self.tls!r})"
        )


def parse_mailbox_url(url: str) -> MailboxAddress:
    """Read ``ROUNDTABLE_INBOUND_URL``; a bad one is an :class:`InputError` naming the setting."""
    parts = urlsplit(url.strip())
    problems: list[str] = []
    if parts.scheme not in DEFAULT_PORTS:
        problems.append("the scheme must be imap:// or imaps://")
    if not parts.hostname:
        problems.append("the URL names no host")
    if not parts.username or parts.password is None:
        problems.append("the URL must carry USER:PASS@ (URL-encoded)")
    tls_option = parse_qs(parts.query).get("tls", [""])[0].lower()
    if tls_option not in ("", "starttls", "ssl"):
        problems.append("tls must be starttls or ssl")
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 143)
    except ValueError:
        problems.append("the port is not a number")
        port = 0
    if problems:
        raise InputError(
            [Problem(message, source="ROUNDTABLE_INBOUND_URL", field="url") for message in problems]
        )
    tls = "ssl" if parts.scheme == "imaps" else tls_option
    return MailboxAddress(
        host=parts.hostname or "",
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        tls=tls,
    )


class Mailbox:
    """One IMAP session on the folder to read."""

    def __init__(self, client: IMAPClient, address: MailboxAddress) -> None:
        self._client = client
        self.address = address
        selected = client.select_folder(address.folder)
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        self._separator = self._hierarchy_separator()
        self._can_move = b"MOVE" in client.capabilities()
        self._ready: set[str] = set()

    @property
    def name(self) -> str:
        return self.address.folder

    def uids(self) -> list[int]:
        """Every message still in the folder, oldest first (processed ones were moved away)."""
        return sorted(int(uid) for uid in self._client.search(["NOT", "DELETED"]))

    def sizes(self, uids: list[int]) -> dict[int, int]:
        fetched = self._client.fetch(uids, ["RFC822.SIZE"])
        return {int(uid): int(data.get(b"RFC822.SIZE", 0)) for uid, data in fetched.items()}

    def read(self, uid: int) -> bytes | None:
        """The message's bytes, without setting ``\\Seen``; ``None`` if it is gone."""
        fetched = self._client.fetch([uid], ["BODY.PEEK[]"])
        data = fetched.get(uid)
        if not data:
            return None
        body = data.get(b"BODY[]")
        return bytes(body) if body is not None else None

    def move(self, uid: int, folder: tuple[str, ...]) -> None:
        """Move ``uid`` into ``folder`` (created on first use)."""
        target = self._separator.join(folder)
        if target not in self._ready:
            if not self._client.folder_exists(target):
                self._client.create_folder(target)
            self._ready.add(target)
        if self._can_move:
            self._client.move([uid], target)
            return
        self._client.copy([uid], target)
        self._client.add_flags([uid], [b"\\Deleted"])
        self._client.uid_expunge([uid])

    def _hierarchy_separator(self) -> str:
        listed = self._client.list_folders(pattern=self.address.folder)
        for _flags, separator, _name in listed:
            if separator:
                return separator.decode() if isinstance(separator, bytes) else str(separator)
        return "/"


@contextmanager
def open_mailbox(address: MailboxAddress, *, timeout: float = TIMEOUT) -> Iterator[Mailbox]:
    """Log in, select the folder, and log out at the end (also on errors)."""
    context = ssl.create_default_context()
    client = IMAPClient(
        address.host,
        port=address.port,
        ssl=address.tls == "ssl",
        ssl_context=context if address.tls == "ssl" else None,
        timeout=timeout,
    )
    try:
        if address.tls == "starttls":
            client.starttls(context)
        client.login(address.user, address.password)
        yield Mailbox(client, address)
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing to keep
            with contextlib.suppress(Exception):
                client.shutdown()
