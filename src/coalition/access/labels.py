"""Releasability labels every shared record carries, and the roles users hold."""

from __future__ import annotations

import enum


class Releasability(enum.StrEnum):
    PUBLIC = "PUBLIC"
    COALITION = "COALITION"
    NATO = "NATO"
    NATIONAL = "NATIONAL"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    NATIONAL = "national"
    RECIPIENT = "recipient"
    ANALYST = "analyst"
    OBSERVER = "observer"
