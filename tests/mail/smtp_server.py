"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it receives.

It answers like a real server, and can be told to refuse: ``fail_next(451)`` makes
the next transaction fail with 451 (at DATA by default), and ``rule`` decides per
recipient and attempt. It counts connections and greetings, so a test can check
that a client reused one connection, and ``drop_connections()`` closes every open
connection from the server side, as an idle timeout would.

For fault injection it can also greet new connections with ``421`` and close them
(``refuse_connections``), and hang up in the middle of DATA (``drop_data``).

    with SmtpSink() as sink:
        transport = open_transport(sink.url)
        ...
        assert sink.messages[0].message["Subject"] == "..."
"""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from types import TracebackType
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.ports import free_port

Stage = Literal["mail", "rcpt", "data"]
#: where ``drop_data`` hangs up: after part of the message's lines, or after all of
#: them (the message is then kept, as a real server may have queued it) but before
#: the reply that would have told the client so
DataDrop = Literal["partway", "after-data"]

#: what a real server says with each code
REPLY_TEXT = {
    421: "4.3.2 Service shutting down, closing transmission channel",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Temporary failure, please try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable: no such user",
    552: "5.3.4 Message too big",
    553: "5.1.3 Bad recipient address syntax",
    554: "5.7.1 Message rejected",
}


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted transaction: the envelope and the parsed message."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    message: EmailMessage


@dataclass
class _PlannedFailure:
    code: int
    stage: Stage
    text: str
    remaining: int


class SmtpSink:
    """An aiosmtpd server in a thread of the test process."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.messages: list[ReceivedMessage] = []
        #: TCP connections accepted since start (or the last ``reset``)
        self.connections = 0
        #: EHLO and HELO commands received
        self.greetings = 0
        #: ``rule(recipient, attempt) -> code | None``: refuse that RCPT with ``code``;
        #: ``attempt`` counts the RCPTs for that recipient, from 1
        self.rule: Callable[[str, int], int | None] | None = None
        #: seconds to wait before answering each DATA, to make the server slow
        self.delay = 0.0
        #: ``drop_data(recipient, attempt) -> DataDrop | None``: hang up during that DATA;
        #: ``attempt`` counts the RCPTs for the first recipient, as for ``rule``
        self.drop_data: Callable[[str, int], DataDrop | None] | None = None
        #: connections greeted with 421 and closed (see ``refuse_connections``)
        self.refused = 0
        #: DATA transfers cut by ``drop_data``
        self.dropped = 0
        self._refuse_count = 0
        self._refuse_until = 0.0
        self._attempts: Counter[str] = Counter()
        self._planned: list[_PlannedFailure] = []
        self._open: set[asyncio.BaseTransport] = set()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Self:
        controller = _CountingController(self, _Handler(self), hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller
        # Controller.start() connects once itself to check the server is up; not ours.
        self.reset()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget received messages, counts, planned failures, the rule and the delay."""
        with self._lock:
            self.messages.clear()
            self.connections = 0
            self.greetings = 0
            self.rule = None
            self.delay = 0.0
            self.drop_data = None
            self.refused = 0
            self.dropped = 0
            self._refuse_count = 0
            self._refuse_until = 0.0
            self._attempts.clear()
            self._planned.clear()

    def fail_next(
        self, code: int, times: int = 1, *, stage: Stage = "data", text: str | None = None
    ) -> None:
        """Refuse the next ``times`` transactions with ``code`` at ``stage``."""
        reply = text or REPLY_TEXT.get(code) or ("Temporary failure" if code < 500 else "Refused")
        with self._lock:
            self._planned.append(_PlannedFailure(code, stage, reply, times))

    def refuse_connections(self, count: int = 0, *, seconds: float = 0.0) -> None:
        """Greet new connections with 421 and close them: the next ``count``, or for ``seconds``.

        That is what a server says while it shuts down or is overloaded. For ``seconds``,
        connections already open are told so too: their next MAIL is answered 421,
        before any of a message is sent, so the refusal can never cause a duplicate.
        """
        with self._lock:
            self._refuse_count = count
            self._refuse_until = time.monotonic() + seconds if seconds else 0.0

    def drop_connections(self) -> None:
        """Close every open client connection from the server side, and wait until closed."""
        controller = self._controller
        if controller is None:
            return

        async def close_all() -> None:
            for transport in list(self._open):
                transport.close()
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(close_all(), controller.loop).result(timeout=5)

    # -- called from the server's thread ------------------------------------------------

    def _refuse_this_connection(self) -> bool:
        with self._lock:
            if self._refuse_count > 0:
                self._refuse_count -= 1
            elif time.monotonic() >= self._refuse_until:
                return False
            self.refused += 1
            return True

    def _closing(self) -> bool:
        with self._lock:
            closing = time.monotonic() < self._refuse_until
            if closing:
                self.refused += 1
            return closing

    def _data_drop(self, recipients: list[str]) -> DataDrop | None:
        with self._lock:
            rule = self.drop_data
            attempt = self._attempts[recipients[0]] if recipients else 0
        if rule is None or not recipients:
            return None
        drop = rule(recipients[0], attempt)
        if drop:
            with self._lock:
                self.dropped += 1
        return drop

    def _planned_reply(self, stage: Stage) -> str | None:
        with self._lock:
            for planned in self._planned:
                if planned.stage == stage and planned.remaining > 0:
                    planned.remaining -= 1
                    return f"{planned.code} {planned.text}"
        return None

    def _rule_reply(self, recipient: str) -> str | None:
        with self._lock:
            self._attempts[recipient] += 1
            attempt = self._attempts[recipient]
            rule = self.rule
        code = rule(recipient, attempt) if rule else None
        if code is None:
            return None
        return f"{code} {REPLY_TEXT.get(code, 'Refused')}"

    def _received(self, envelope: Envelope) -> None:
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(data, policy=default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(
                ReceivedMessage(
                    sender=envelope.mail_from or "",
                    recipients=tuple(envelope.rcpt_tos),
                    data=data,
                    message=parsed,
                )
            )


class _Handler:
    """aiosmtpd hooks: record, count, and refuse when the sink says so."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.sink.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        self.sink.greetings += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        refusal = self.sink._planned_reply("mail")
        if refusal:
            return refusal
        if self.sink._closing():
            return f"421 {REPLY_TEXT[421]}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.sink._planned_reply("rcpt") or self.sink._rule_reply(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        refusal = self.sink._planned_reply("data")
        if refusal:
            return refusal
        self.sink._received(envelope)
        return "250 2.0.0 Message accepted"


class _CountingSMTP(SMTP):
    """The aiosmtpd protocol, telling the sink about each connection opened and closed."""

    def __init__(self, sink: SmtpSink, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sink = sink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sink.connections += 1
        self._sink._open.add(transport)
        super().connection_made(transport)
        if self._sink._refuse_this_connection():
            # Instead of the 220 greeting: 421, then hang up, as a closing server does.
            assert self._handler_coroutine is not None
            self._handler_coroutine.cancel()
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(f"421 {REPLY_TEXT[421]}\r\n".encode())
            transport.close()

    async def smtp_DATA(self, arg: str) -> None:
        assert self.envelope is not None
        drop = self._sink._data_drop(self.envelope.rcpt_tos)
        if drop is None:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        while True:
            line = await self._reader.readuntil(b"\r\n")
            if line == b".\r\n":
                break
            lines.append(line)
            if drop == "partway" and len(lines) >= 20:
                break
        if drop == "after-data":
            self.envelope.content = b"".join(
                line[1:] if line.startswith(b".") else line for line in lines
            )
            self._sink._received(self.envelope)
        # Not close(): a reset, as when the server process or the network goes away.
        assert isinstance(self.transport, asyncio.Transport)
        self.transport.abort()

    def connection_lost(self, error: Exception | None) -> None:
        if self.transport is not None:
            self._sink._open.discard(self.transport)
        super().connection_lost(error)


class _CountingController(Controller):
    def __init__(self, sink: SmtpSink, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sink = sink

    def factory(self) -> SMTP:
        return _CountingSMTP(self._sink, self.handler, **self.SMTP_kwargs)
