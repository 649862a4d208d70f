"""Logging for the server: RSVP tokens never reach a log line."""

from __future__ import annotations

from typing import Any


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the token-redacting filter on every handler.

    uvicorn replaces the root handlers with the ones given here, so the filter must
    be part of this configuration rather than installed beforehand.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["filters"] = {"redact_tokens": {"()": "roundtable.web.security.RedactTokens"}}
    config["handlers"] = {
        name: {**handler, "filters": ["redact_tokens"]}
        for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "roundtable": {"handlers": ["default"], "level": "INFO", "propagate": False},
    }
    return config
