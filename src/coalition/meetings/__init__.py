"""Meetings of coordination formats: attendance, announcements and decisions."""
