"""Services a fault test can break on purpose: a Redis of its own and a cuttable TCP proxy.

The machine's shared Redis and PostgreSQL are never restarted: a test that needs
to lose Redis starts a private ``redis-server`` it may kill, and a test that needs
to lose PostgreSQL puts :class:`TcpProxy` between the workers and the database.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import redis

from tests.ports import free_port


class PrivateRedis:
    """A ``redis-server`` on a port of its own that keeps nothing on disk.

    Restarted after ``kill()``, it comes back empty on the same port: every task
    that was queued, reserved or waiting for its countdown is gone.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=(self.folder / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save, connections reset."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def set(self, key: str) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            client.set(key, b"1")
        finally:
            client.close()

    def has(self, key: str) -> bool:
        client = redis.Redis.from_url(self.url)
        try:
            return bool(client.exists(key))
        finally:
            client.close()


class TcpProxy:
    """Forwards TCP connections from a local port to ``upstream``; can be cut and restored.

    ``cut()`` resets every live connection and stops listening, so new connections
    are refused: to its clients the server has vanished. ``restore()`` listens again
    on the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        #: connections accepted, and live connections reset by ``cut``
        self.accepted = 0
        self.reset = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._listener: threading.Thread | None = None

    def start(self) -> None:
        self.restore()

    def restore(self) -> None:
        if self._listening.is_set():
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listening.set()
        self._listener = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._listener.start()

    def cut(self) -> int:
        """Stop listening and reset every live connection; return how many were live."""
        self._listening.clear()
        if self._listener is not None:
            self._listener.join(timeout=5)
            self._listener = None
        with self._lock:
            live, self._sockets = self._sockets, set()
        for sock in live:
            _abort(sock)
        self.reset += len(live) // 2
        return len(live) // 2

    def stop(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                client.settimeout(None)
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                    server.settimeout(None)
                except OSError:
                    _abort(client)
                    continue
                with self._lock:
                    self.accepted += 1
                    self._sockets.update((client, server))
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(target)
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _abort(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a vanished host or a firewall would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
