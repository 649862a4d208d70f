"""Logging for the server: RSVP tokens never reach a log line."""

from __future__ import annotations

import logging
import re
from typing import Any

_TOKEN_PATH = re.compile(r"(/rsvp/)[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """``/rsvp/<token>/…`` becomes ``/rsvp/…/…``: a log line must not open an invitation."""
    return _TOKEN_PATH.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """Rewrites the message and its arguments (uvicorn passes the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    config["handlers"] = {
        name: {**handler, "filters": ["redact_tokens"]}
        for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "roundtable": {"handlers": ["default"], "level": "INFO", "propagate": False},
    }
    return config
