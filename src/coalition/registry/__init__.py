"""Participants, coordination formats and capability coalitions."""
