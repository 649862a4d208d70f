"""Hearing back: what arrives in the organizer's mailbox (docs/architecture.md, "Hearing back")."""
