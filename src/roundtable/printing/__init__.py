"""Printed matter for the door: name badges and table tent cards, as PDF."""
