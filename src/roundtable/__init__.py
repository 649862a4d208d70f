"""Roundtable: invitation and RSVP workflow for high-level meetings."""

__version__ = "0.1.0"
