"""A real Dovecot IMAP server for the tests, from a throwaway configuration on a free port.

Started once per session (``dovecot_server``): a passwd-file of users, maildirs in
a temporary folder, plain IMAP on loopback, no system configuration read. Every
test gets a user (and so a mailbox) of its own.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.ports import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
#: mailboxes made for one session (one per test)
USERS = 300
INSTALL = "install it with `apt-get install dovecot-imapd` (make test does when it can)"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = roundtable-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapUser:
    """One mailbox on the test server."""

    server: Dovecot
    name: str
    password: str

    @property
    def url(self) -> str:
        return f"imap://{self.name}:{self.password}@127.0.0.1:{self.server.port}/INBOX"

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.server.port, ssl=False, timeout=30)
        client.login(self.name, self.password)
        return client

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Put messages into the mailbox as the receiving server would (IMAP APPEND)."""
        client = self.client()
        try:
            for raw in messages:
                client.append(folder, raw)
        finally:
            client.logout()

    def folder(self, name: str) -> list[bytes]:
        """The messages in folder ``name`` (empty when it does not exist)."""
        client = self.client()
        try:
            if not client.folder_exists(name):
                return []
            client.select_folder(name, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [bytes(fetched[uid][b"BODY[]"]) for uid in sorted(fetched)]
        finally:
            client.logout()


class Dovecot:
    """The server process and its folder; ``restart`` for the fault tests."""

    def __init__(self) -> None:
        # The login process runs as an unprivileged user that must reach the sockets here.
        self.root = Path(tempfile.mkdtemp(prefix="roundtable-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        if os.getuid() == 0:  # Dovecot runs nothing as root but its master
            mail = pwd.getpwnam("dovecot")
            login_user, internal_user = "dovenull", "dovecot"
            mail_uid, mail_gid = mail.pw_uid, mail.pw_gid
        else:
            me = pwd.getpwuid(os.getuid())
            login_user = internal_user = me.pw_name
            mail_uid, mail_gid = me.pw_uid, me.pw_gid
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", mail_uid, mail_gid)
        # Users are made up front: Dovecot notices a changed passwd-file only a second later.
        self._users = [
            (f"organizer-{n}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex) for n in range(USERS)
        ]
        (self.root / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}{password}\n" for name, password in self._users),
            encoding="utf-8",
        )
        (self.root / "passwd").chmod(0o644)
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                login_user=login_user,
                internal_user=internal_user,
                internal_group=grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name,
                mail_uid=mail_uid,
                mail_gid=mail_gid,
            ),
            encoding="utf-8",
        )

    def start(self) -> None:
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own process group: stopping it ends every session too, as a restart of the
            # service does (the master alone leaves running sessions to finish).
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self._process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(5)
        self._process = None
        # Its children (imap, imap-login) end with the master; wait for the port to be free.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                time.sleep(0.1)
            except OSError:
                return

    def restart(self) -> None:
        self.stop()
        self.start()

    def add_user(self) -> ImapUser:
        """The next unused mailbox."""
        name, password = self._users.pop(0)
        return ImapUser(self, name, password)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
