"""The one place that decides which labelled rows an actor may see.

Every list, detail, search, export and aggregate over a labelled table goes through `visible`,
so a user never learns that a record they may not see exists. The rules:

- admins see everything; observers only PUBLIC records;
- the owning nation always sees its own records (`__owner_column__`: donor, recipient, chair);
- a format's coordinators see every record of their format, NATIONAL ones included;
- COALITION: members of the owning format, NATO and non-NATO alike;
- NATO: users whose nation is a NATO member (by accession year), and coordinators of a
  NATO-led format;
- NATIONAL: nobody else.

A labelled table has `releasability`, `format_id` and `__owner_column__`; `labelled_models()`
lists them all, so checks that must cover every labelled record (hand-over, tests) find new
tables without being told.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.labels import Releasability, Role
from coalition.errors import NotFound

SelectT = TypeVar("SelectT", bound=Select[Any])
RecordT = TypeVar("RecordT")


def visibility_clause(actor: Actor, model: Any) -> ColumnElement[bool]:
    """A WHERE clause over `model` (needs releasability, format_id and __owner_column__)."""
    if actor.role is Role.ADMIN:
        return true()
    label = model.releasability
    clauses: list[ColumnElement[bool]] = [label == Releasability.PUBLIC]
    if actor.role is Role.OBSERVER:
        return or_(*clauses)
    owner = getattr(model, model.__owner_column__)
    fmt = model.format_id
    if actor.participant_id is not None:
        clauses.append(owner == actor.participant_id)
    if actor.member_format_ids:
        clauses.append(and_(label == Releasability.COALITION,
                            fmt.in_(sorted(actor.member_format_ids))))
    if actor.is_nato or actor.coordinates_nato_led_format:
        clauses.append(label == Releasability.NATO)
    if actor.coordinated_format_ids:
        clauses.append(fmt.in_(sorted(actor.coordinated_format_ids)))
    return or_(*clauses) if clauses else false()


def visible(stmt: SelectT, actor: Actor, model: Any) -> SelectT:
    return stmt.where(visibility_clause(actor, model))


def is_labelled(model: Any) -> bool:
    return all(hasattr(model, name) for name in ("releasability", "format_id",
                                                 "__owner_column__"))


def labelled_models() -> list[type[Any]]:
    """Every mapped class carrying a label, in table-name order (audit entries excluded:
    they copy their label from the record they describe)."""
    from coalition import all_models
    from coalition.access.models import AuditEntry

    found = [mapper.class_ for mapper in all_models.Base.registry.mappers
             if is_labelled(mapper.class_) and mapper.class_ is not AuditEntry]
    return sorted(found, key=lambda cls: cls.__tablename__)


def can_see(actor: Actor, record: Any) -> bool:
    """The same rule as `visibility_clause`, for one loaded record."""
    if actor.role is Role.ADMIN:
        return True
    label = Releasability(record.releasability)
    if label is Releasability.PUBLIC:
        return True
    if actor.role is Role.OBSERVER:
        return False
    owner = getattr(record, type(record).__owner_column__)
    if actor.participant_id is not None and owner == actor.participant_id:
        return True
    if record.format_id in actor.coordinated_format_ids:
        return True
    if label is Releasability.COALITION:
        return record.format_id in actor.member_format_ids
    if label is Releasability.NATO:
        return actor.is_nato or actor.coordinates_nato_led_format
    return False


def get_visible(session: Session, actor: Actor, model: type[RecordT], record_id: int, *,
                noun: str, for_update: bool = False) -> RecordT:
    """One labelled record by id. A record the actor may not see does not exist for them:
    the same 404 as a missing one, never a 403."""
    stmt = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update(of=model)
    record = session.scalar(stmt)
    if record is None or not can_see(actor, record):
        raise NotFound(f"no {noun} with id {record_id}")
    return record
