"""The acceptance suite uses the integration suite's real services."""

from tests.integration.conftest import redis_url, smtp_sink

__all__ = ["redis_url", "smtp_sink"]
