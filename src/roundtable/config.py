"""Settings read from ``ROUNDTABLE_*`` environment variables (docs/interfaces.md, "Settings")."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

#: the generated key's file name, in the folder of the SQLite database it belongs to
SECRET_KEY_FILE_NAME = "secret_key"


class SecretKeyMissing(Exception):
    """No key for a database that is not an SQLite file: the links could not stay stable."""


class Settings(BaseSettings):
    """Everything Roundtable reads from its environment; defaults run the embedded demo."""

    model_config = SettingsConfigDict(env_prefix="ROUNDTABLE_", extra="ignore")

    database_url: str = "sqlite:///var/roundtable.db"
    broker_url: str | None = None
    mail_url: str = "file://var/outbox"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = Field(default=None, repr=False)
    dispatch_interval: float = 30.0
    mail_rate: float = 0.0
    #: seconds a worker may hold a claimed message before the sweep presumes it dead
    claim_lease: float = 300.0
    #: seconds after which a queued, due message that was announced is announced again
    reannounce_after: float = 120.0
    #: threads serving the web application's requests in each process
    web_threads: int = Field(default=8, ge=1, le=200)
    #: proxies whose X-Forwarded-For/-Proto are believed ("127.0.0.1", "10.0.0.1,10.0.0.2",
    #: "10.0.0.0/8" or "*"); unset, no proxy is trusted and the peer address is the client
    forwarded_allow_ips: str | None = None
    #: serve the interactive API docs (/docs, /redoc), which load scripts from a CDN
    api_docs: bool = False
    #: the organizer's mailbox, ``imap[s]://USER:PASS@HOST:PORT/FOLDER``; unset, nothing is read
    inbound_url: str | None = Field(default=None, repr=False)
    #: seconds between two reads of that mailbox
    inbound_interval: float = Field(default=60.0, gt=0)
    #: the authserv-id of the receiving server's ``Authentication-Results``; unset, every
    #: calendar reply waits for staff
    inbound_authserv_id: str | None = None

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once beside the SQLite database.

        The key is kept with the database whose links it signs, not in the working
        directory: a process started from another folder finds the same key. Any
        other database needs ``ROUNDTABLE_SECRET_KEY`` (:class:`SecretKeyMissing`).
        """
        if self.secret_key:
            return self.secret_key
        return _stored_secret_key(self.secret_key_file())

    def secret_key_file(self) -> Path:
        """Where the generated key lives: the SQLite database's folder."""
        url = make_url(self.database_url)
        database = url.database or ""
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            raise SecretKeyMissing(
                f"ROUNDTABLE_SECRET_KEY is not set: a {url.get_backend_name()} database needs "
                "it (a key is generated only beside an SQLite database file)"
            )
        return Path(database).resolve().parent / SECRET_KEY_FILE_NAME

    def secret_key_source(self) -> str:
        """Where the key comes from, for messages: the variable or the file."""
        if self.secret_key:
            return "ROUNDTABLE_SECRET_KEY"
        return f"the key file {self.secret_key_file()}"

    @property
    def public_base_url(self) -> str:
        return self.base_url.rstrip("/")


def _stored_secret_key(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start together, exactly one key wins.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
