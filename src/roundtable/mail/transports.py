"""Where messages go: an SMTP server, a folder of ``.eml`` files, or the console.

``open_transport(url)`` reads the mail URL (docs/interfaces.md, "Settings"). Every transport sends
one message at a time and keeps what it can open between messages: SMTP keeps
one connection per transport for as long as the server allows.

Failures come in two kinds, which decide what the outbox does next:
:class:`TemporaryFailure` (4xx replies, connection trouble, timeouts: try again
later) and :class:`PermanentFailure` (5xx replies to this message: do not).
Both carry the SMTP code (``None`` when there was no reply) and the server's text.
A password in the URL never appears in an exception or a log line: use
:func:`redacted_url` to show a URL.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses
from functools import lru_cache, partial
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TextIO
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from roundtable.mail.mime import raw_headers, wire_form

DEFAULT_TIMEOUT = 30.0
TLS_MODES = ("none", "starttls", "ssl")


class DeliveryFailure(Exception):
    """The message was not accepted; ``code`` is the SMTP reply code, if there was one."""

    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(f"{code} {text}" if code is not None else text)
        self.code = code
        self.text = text


class TemporaryFailure(DeliveryFailure):
    """Try again later: a 4xx reply, a lost connection or a timeout."""


class PermanentFailure(DeliveryFailure):
    """Do not try again: the server refused this message or its recipient (5xx)."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class _ClosingContext:
    """``with transport:`` closes it at the end."""

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_transport(url: str, *, rate: float = 0.0) -> Transport:
    """The transport for a mail URL; ``rate`` > 0 spaces sends to at most that many per second.

    - ``smtp://[user:pass@]host:port[?tls=starttls|ssl][&timeout=N]``
    - ``file://DIR``: everything after ``file://`` is the folder, relative to the working
      directory unless absolute (``file://var/outbox``, ``file:///srv/outbox``)
    - ``console://``
    """
    scheme = url.split(":", 1)[0].lower()
    transport: Transport
    if scheme == "smtp":
        transport = SmtpTransport.from_url(url)
    elif scheme == "file":
        transport = FileTransport(Path(url[len("file://") :] or "."))
    elif scheme == "console":
        transport = ConsoleTransport()
    else:
        raise ValueError(
            f"unknown mail URL {redacted_url(url)!r}: use smtp://, file:// or console://"
        )
    if rate > 0:
        transport = PacedTransport(transport, rate)
    return transport


def describe_target(url: str) -> str:
    """Where mail of this URL goes, in words for a person: a folder, a server, the console."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "file":
        return f"the folder {Path(url[len('file://') :] or '.').resolve()}"
    if scheme == "console":
        return "the console"
    parts = urlsplit(url)
    return f"the SMTP server {parts.hostname}:{parts.port or 25}"


def redacted_url(url: str) -> str:
    """The URL with its password replaced by ``***``, fit for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope from the headers: ``From`` and every ``To``/``Cc``/``Bcc`` address."""
    senders = [pair for text in raw_headers(message, "From") for pair in _mailboxes(text)]
    if len(senders) != 1 or not senders[0][1]:
        raise ValueError("a message needs exactly one From address")
    recipients = [
        address
        for _name, address in getaddresses(raw_headers(message, "To", "Cc", "Bcc"))
        if address
    ]
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    return senders[0][1], recipients


@lru_cache(maxsize=64)
def _mailboxes(header_text: str) -> tuple[tuple[str, str], ...]:
    """The (name, address) pairs of one address header; a mailing's ``From`` recurs."""
    return tuple(getaddresses([header_text]))


def _command(connection: smtplib.SMTP, verb: str, key: str, address: str) -> tuple[int, bytes]:
    """``MAIL FROM:<address>`` or ``RCPT TO:<address>``: what ``smtplib``'s ``mail`` and
    ``rcpt`` send without options, for an address :func:`envelope` has already parsed
    (they parse it again, a cost per message). ``putcmd`` refuses a line break."""
    connection.putcmd(verb, f"{key}:<{address}>")
    return connection.getreply()


def _data(connection: smtplib.SMTP, message: bytes) -> tuple[int, bytes]:
    """``DATA``, then the message: what ``smtplib``'s ``data`` does for bytes."""
    code, reply = connection.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    connection.send(dot_stuffed(message))
    return connection.getreply()


def dot_stuffed(message: bytes) -> bytes:
    """The message as DATA carries it (RFC 5321, 4.5.2): each line that starts with a dot
    gets a second one, and a line with a lone dot ends it.

    ``smtplib`` does the same with a multi-line regular expression tried at every
    position of the message; ``bytes.replace`` after each line feed writes the same
    bytes in a quarter of the time, on every message of a mailing.
    """
    stuffed = message.replace(b"\n.", b"\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, no ``Bcc`` header."""
    if message["Bcc"] is not None:
        message = _without_bcc(message)
    return wire_form(message)


def _without_bcc(message: EmailMessage) -> EmailMessage:
    copy = EmailMessage(policy=message.policy)
    for name, value in message.items():
        if name.lower() != "bcc":
            copy[name] = value
    copy.set_payload(message.get_payload())
    return copy


class SmtpTransport(_ClosingContext):
    """One SMTP connection, opened on first use and kept for the next messages.

    Replies to this message decide its fate: 4xx is temporary, 5xx permanent
    (a refused sender, a refused recipient, refused data alike). Failing to
    *open* the connection (refused, greeting, STARTTLS, AUTH) is always temporary,
    whatever the code: it says nothing about the message, and the message should
    go out once the server or the configuration is fixed.

    The transaction is written out (MAIL, RCPT, DATA) rather than left to
    ``smtplib.send_message`` so that it is clear at which step a failure happened:
    only a connection found closed *before* anything of the message was sent is
    reopened and retried on the spot; anything later is reported, because the
    server may already have the message and a blind retry could deliver it twice.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        local_hostname: str | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"tls", "timeout"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ValueError(f"unknown option(s) {names} in {redacted_url(url)!r}")
        tls = query.get("tls", "none").lower()
        try:
            port = parts.port
            timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError as exc:
            raise ValueError(f"bad port or timeout in {redacted_url(url)!r}") from exc
        if not parts.hostname:
            raise ValueError(f"no host in {redacted_url(url)!r}")
        return cls(
            parts.hostname,
            port or (465 if tls == "ssl" else 25),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"SmtpTransport(smtp://{user}{self.host}:{self.port}, tls={self.tls})"

    def send(self, message: EmailMessage) -> None:
        sender, recipients = envelope(message)
        data = wire_bytes(message)
        with self._lock:
            connection = self._begin(sender)
            try:
                for recipient in recipients:
                    code, reply = self._step(partial(_command, connection, "rcpt", "TO", recipient))
                    self._expect(code, reply, (250, 251))
                code, reply = self._step(partial(_data, connection, data))
                self._expect(code, reply, (250,))
            except DeliveryFailure:
                raise
            except Exception:
                # Not a reply (an address smtplib cannot write, say): the transaction
                # is half open, so the next message starts on a fresh connection.
                self._drop()
                raise

    def _begin(self, sender: str) -> smtplib.SMTP:
        """MAIL FROM, on the kept connection if the server still holds it, else on a new one.

        A server closes idle connections (and may say 421 first). Nothing of the
        message has been sent at this point, so reopening once and retrying is safe.
        """
        reused = self._connection is not None
        connection = self._connect()
        try:
            code, reply = _command(connection, "mail", "FROM", sender)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if not reused:
                self._drop()
                raise TemporaryFailure(None, self._describe("connection lost", exc)) from None
            code, reply = 421, b"connection closed by the server"
        if code == 421 and reused:
            self._drop()
            connection = self._connect()
            code, reply = self._step(partial(_command, connection, "mail", "FROM", sender))
        self._expect(code, reply, (250,))
        return connection

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    connection.quit()
                except (smtplib.SMTPException, OSError):
                    connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        try:
            connection = self._open()
        except smtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not this message's: keep it for a later attempt.
            raise TemporaryFailure(exc.smtp_code, _text(exc.smtp_error)) from None
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(exc.smtp_code, _text(exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(None, self._describe("cannot connect", exc)) from None
        self._connection = connection
        return connection

    def _open(self) -> smtplib.SMTP:
        # Only for TLS: loading the system's certificates takes some 20 ms of CPU, and
        # each worker child used to pay it on its first message to a plain relay.
        context = ssl.create_default_context() if self.tls != "none" else None
        connection: smtplib.SMTP
        if self.tls == "ssl":
            connection = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout,
                context=context,
                local_hostname=self.local_hostname,
            )
        else:
            connection = smtplib.SMTP(
                self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
            )
        try:
            connection.ehlo_or_helo_if_needed()
            if self.tls == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self._password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _step(self, step: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes]:
        """Run one SMTP command; a lost connection or a timeout becomes a TemporaryFailure.

        ``smtplib`` raises ``SMTPDataError`` when DATA itself is refused; like a refused
        MAIL or RCPT it is classified by its code (4xx temporary, 5xx permanent).
        """
        try:
            return step()
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _failure(exc.smtp_code, _text(exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(None, self._describe("connection lost", exc)) from None

    def _expect(self, code: int, reply: bytes, accepted: tuple[int, ...]) -> None:
        if code in accepted:
            return
        if code == 421 or code == -1:
            # The server is closing the connection (or already has).
            self._drop()
        else:
            self._reset()
        raise _failure(code, _text(reply))

    def _describe(self, what: str, error: BaseException) -> str:
        return f"{what}: {self.host}:{self.port}: {error or type(error).__name__}"

    def _reset(self) -> None:
        """RSET after a refused step, so the connection is clean for the next message."""
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()


def _failure(code: int | None, text: str) -> DeliveryFailure:
    if code is not None and 500 <= code < 600:
        return PermanentFailure(code, text)
    return TemporaryFailure(code if code and code > 0 else None, text)


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


class FileTransport(_ClosingContext):
    """One ``.eml`` file per message, named after its Message-ID, written atomically.

    The file appears complete or not at all (written to a temporary file in the
    same folder, then renamed), so a reader of the folder never sees half a message.
    Sending the same message again replaces its file.
    """

    def __init__(self, folder: Path) -> None:
        # Relative to the working directory at opening, whatever happens to it later.
        self.folder = folder.resolve()

    def __repr__(self) -> str:
        return f"FileTransport({str(self.folder)!r})"

    def send(self, message: EmailMessage) -> None:
        data = wire_bytes(message)
        target = self.folder / file_name(message)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as output:
                    output.write(data)
                    output.flush()
                    os.fsync(output.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryFailure(None, f"cannot write {target}: {exc}") from exc


def file_name(message: EmailMessage) -> str:
    """``msg-42.1a2b3c@example.org.eml`` from the Message-ID; a random name without one."""
    message_id = str(message["Message-ID"] or "").strip().strip("<>")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._@-") else "_" for c in message_id)
    safe = safe.lstrip(".")[:200]
    if not safe:
        safe = f"message-{time.time_ns()}-{os.getpid()}"
    return f"{safe}.eml"


class ConsoleTransport(_ClosingContext):
    """Prints each message to standard output (or the given stream), for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "ConsoleTransport()"

    def send(self, message: EmailMessage) -> None:
        text = wire_bytes(message).decode("ascii", "replace").replace("\r\n", "\n")
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(f"{text}\n{'-' * 72}\n")
            stream.flush()


class PacedTransport(_ClosingContext):
    """Another transport with sends spaced at least ``1 / rate`` seconds apart."""

    def __init__(
        self,
        inner: Transport,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.inner = inner
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PacedTransport({self.inner!r}, rate={1 / self.interval:g})"

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            wait = self._next - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._next = max(self._next, self._clock()) + self.interval
            self.inner.send(message)

    def close(self) -> None:
        self.inner.close()
