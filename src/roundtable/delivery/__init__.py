"""Delivery: claiming outbox rows, sending them, and telling workers what to send."""
