"""Meetings of the contact group: dates and places follow public reporting (approximately);
agendas, attendance lists and chairs are simplified for the demo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

RAMSTEIN = "Ramstein Air Base, Germany"
BRUSSELS = "NATO Headquarters, Brussels"
WIESBADEN = "NSATU Headquarters, Wiesbaden"


@dataclass(frozen=True)
class MeetingSeed:
    format: str
    held_on: dt.date
    place: str
    is_virtual: bool


def _m(fmt: str, day: str, place: str | None) -> MeetingSeed:
    return MeetingSeed(fmt, dt.date.fromisoformat(day), place or "", place is None)


MEETINGS: list[MeetingSeed] = [
    _m("UDCG", "2022-04-26", RAMSTEIN), _m("UDCG", "2022-05-23", None),
    _m("UDCG", "2022-06-15", BRUSSELS), _m("UDCG", "2022-07-20", None),
    _m("UDCG", "2022-09-08", RAMSTEIN), _m("UDCG", "2022-10-12", BRUSSELS),
    _m("UDCG", "2022-11-16", None), _m("UDCG", "2023-01-20", RAMSTEIN),
    _m("UDCG", "2023-02-14", BRUSSELS), _m("UDCG", "2023-04-21", RAMSTEIN),
    _m("UDCG", "2023-06-15", BRUSSELS), _m("UDCG", "2023-07-18", None),
    _m("UDCG", "2023-09-19", RAMSTEIN), _m("UDCG", "2023-10-11", BRUSSELS),
    _m("UDCG", "2023-11-22", None), _m("UDCG", "2024-01-23", None),
    _m("UDCG", "2024-02-14", BRUSSELS), _m("UDCG", "2024-03-19", RAMSTEIN),
    _m("UDCG", "2024-04-26", None), _m("UDCG", "2024-06-13", BRUSSELS),
    _m("UDCG", "2024-09-06", RAMSTEIN), _m("UDCG", "2024-10-21", None),
    _m("UDCG", "2025-01-09", RAMSTEIN), _m("UDCG", "2025-02-12", BRUSSELS),
    _m("UDCG", "2025-04-11", BRUSSELS), _m("UDCG", "2025-06-04", BRUSSELS),
    _m("UDCG", "2025-07-21", None), _m("UDCG", "2025-10-15", BRUSSELS),
    _m("UDCG", "2026-02-12", BRUSSELS), _m("UDCG", "2026-06-17", BRUSSELS),
    _m("UDCG", "2026-10-14", None),
    _m("NSATU", "2024-12-05", WIESBADEN), _m("NSATU", "2025-06-05", WIESBADEN),
    _m("NSATU", "2026-03-10", WIESBADEN),
]
