"""Options for filter and form controls, read through the registry and catalog services."""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from coalition.catalog import service as catalog_service
from coalition.registry import service as registry_service

Option = tuple[str, str]


def enum_options(kind: type[enum.StrEnum]) -> list[Option]:
    return [(m.value, m.value.replace("_", " ").capitalize()) for m in kind]


def donors(session: Session) -> list[Option]:
    page = registry_service.list_participants(session, donor=True, sort="code", limit=500)
    return sorted(((p.code, f"{p.name} ({p.code})") for p in page.items), key=lambda o: o[1])


def categories(session: Session) -> list[Option]:
    return sorted(((c.code, c.name) for c in catalog_service.list_categories(session)),
                  key=lambda o: o[1])


def item_types(session: Session) -> list[Option]:
    """Every item type as (code, name), for a <datalist>: the catalog holds a few hundred."""
    out: list[Option] = []
    cursor: str | None = None
    while True:
        page = catalog_service.list_item_types(session, sort="code", limit=500, cursor=cursor)
        out.extend((i.code, i.name) for i in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def formats(session: Session) -> list[Option]:
    return [(f.code, f"{f.name} ({f.code})") for f in registry_service.list_formats(session)]
