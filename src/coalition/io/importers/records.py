"""How participant, item type and requirement rows meet the database, through the services.

Natural keys: a participant's code, an item type's code, a requirement's reference. An
existing record is compared on the columns the file has (a column the file lacks is left
alone, so a short file cannot reset labels or notes to defaults); what differs is updated
through the service, which audits it; identity columns (a participant's kind, an item's
category, a requirement's recipient...) may not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.access.visibility import can_see
from coalition.catalog import service as catalog_service
from coalition.catalog.models import CapabilityArea, Category, ItemType
from coalition.catalog.schemas import ItemTypeCreate, ItemTypeUpdate
from coalition.io.importers._records import Outcome, Refused, unchangeable
from coalition.io.rows import Lookup, RowError
from coalition.io.specs import ItemTypeRow, ParticipantRow, RequirementRow
from coalition.money import to_cents
from coalition.registry import service as registry_service
from coalition.registry.models import Format, Participant, ParticipantKind
from coalition.registry.schemas import ParticipantCreate, ParticipantUpdate
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement
from coalition.requirements.schemas import RequirementCreate, RequirementUpdate


def _changes(current: Any, wanted: Mapping[str, Any], present: frozenset[str]
             ) -> dict[str, Any]:
    return {name: value for name, value in wanted.items()
            if name in present and getattr(current, name) != value}


def _refuse_changes(number: int, current: Any, fixed: Mapping[str, Any],
                    present: frozenset[str], what: str) -> None:
    problems = []
    for column, wanted in fixed.items():
        now = getattr(current, column)
        if column in present and wanted is not None and now != wanted:
            problems.append(unchangeable(number, column, _shown(now), wanted, what))
    if problems:
        raise Refused(problems)


def _shown(value: object) -> str:
    return str(getattr(value, "value", value))


class ParticipantHandler:
    permission = policy.MANAGE_REGISTRY

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def lookups(self) -> Mapping[str, Lookup]:
        return {}

    def apply(self, number: int, row: ParticipantRow, present: frozenset[str], *,
              write: bool) -> Outcome:
        fields = {
            "name": row.name, "nato_member_since": row.nato_member_since,
            "eu_member_since": row.eu_member_since, "eu_member_until": row.eu_member_until,
            "gdp_usd": row.gdp_usd, "gdp_year": row.gdp_year, "is_donor": row.is_donor,
            "is_recipient": row.is_recipient,
        }
        current = self.session.scalar(select(Participant).where(Participant.code == row.code))
        if current is None:
            if not write:
                return "created"
            registry_service.create_participant(self.session, actor=self.actor,
                                                data=ParticipantCreate(
                                                    code=row.code,
                                                    kind=ParticipantKind(row.kind), **fields))
            return "created"
        _refuse_changes(number, current, {"kind": ParticipantKind(row.kind)}, present,
                        "participant")
        changes = _changes(current, fields, present)
        if not changes:
            return "unchanged"
        if write:
                registry_service.update_participant(self.session, actor=self.actor,
                                                    code=row.code,
                                                    data=ParticipantUpdate(**changes))
        return "updated"


class CatalogHandler:
    permission = policy.MANAGE_CATALOG

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._categories = dict(session.execute(select(Category.code, Category.id)).all())

    def lookups(self) -> Mapping[str, Lookup]:
        return {"category_code": self._categories.__contains__}

    def apply(self, number: int, row: ItemTypeRow, present: frozenset[str], *,
              write: bool) -> Outcome:
        current = self.session.scalar(select(ItemType).where(ItemType.code == row.code))
        area = CapabilityArea(row.capability_area)
        if current is None:
            if not write:
                return "created"
            catalog_service.create_item_type(self.session, actor=self.actor, data=ItemTypeCreate(
                code=row.code, name=row.name, unit=row.unit, unit_value_eur=row.unit_value_eur,
                capability_area=area, compatibility_group=row.compatibility_group,
                category=row.category, soviet_origin=row.soviet_origin,
                description=row.description))
            return "created"
        if "category" in present and current.category.code != row.category:
            raise Refused([unchangeable(number, "category", current.category.code,
                                        row.category, "item type")])
        _refuse_changes(number, current, {"soviet_origin": row.soviet_origin}, present,
                        "item type")
        changes = _changes(current, {
            "name": row.name, "unit": row.unit, "capability_area": area,
            "compatibility_group": row.compatibility_group, "description": row.description,
        }, present)
        if "unit_value_eur" in present:
            cents = None if row.unit_value_eur is None else to_cents(row.unit_value_eur)
            if cents != current.unit_value_eur_cents:
                changes["unit_value_eur"] = row.unit_value_eur
        if not changes:
            return "unchanged"
        if write:
            catalog_service.update_item_type(self.session, actor=self.actor, code=row.code,
                                             data=ItemTypeUpdate(**changes))
        return "updated"


class RequirementHandler:
    permission = policy.MANAGE_REQUIREMENTS

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._participants = dict(
            session.execute(select(Participant.code, Participant.id)).all())
        self._items = dict(session.execute(select(ItemType.code, ItemType.id)).all())
        self._formats = dict(session.execute(select(Format.code, Format.id)).all())
        self._format_codes = {v: k for k, v in self._formats.items()}

    def lookups(self) -> Mapping[str, Lookup]:
        return {"participant_code": self._participants.__contains__,
                "item_type": self._items.__contains__,
                "format_code": self._formats.__contains__}

    def apply(self, number: int, row: RequirementRow, present: frozenset[str], *,
              write: bool) -> Outcome:
        area = CapabilityArea(row.capability_area) if row.capability_area else None
        current = self.session.scalar(select(Requirement)
                                      .where(Requirement.reference == row.reference))
        if current is None:
            if not write:
                return "created"
            requirement_service.create_requirement(self.session, actor=self.actor,
                                                   data=RequirementCreate(
                reference=row.reference, recipient=row.recipient, item_type=row.item_type,
                quantity=row.quantity, priority=row.priority, needed_by=row.needed_by,
                capability_area=area, notes=row.notes, format=row.format,
                releasability=row.releasability))
            return "created"
        if not can_see(self.actor, current):
            raise Refused([RowError(number, "reference", row.reference,
                                    "is taken by a requirement you cannot see")])
        problems = []
        fixed = {"recipient": (current.recipient_id, self._participants.get(row.recipient),
                               current.recipient.code),
                 "item_type": (current.item_type_id, self._items.get(row.item_type),
                               current.item_type.code),
                 "format": (current.format_id,
                            self._formats.get(row.format) if row.format else current.format_id,
                            self._format_codes.get(current.format_id or 0, "none"))}
        for column, (now, wanted, shown) in fixed.items():
            if column in present and now != wanted:
                problems.append(unchangeable(number, column, shown, getattr(row, column),
                                             "requirement"))
        if "capability_area" in present and area is not None and area != current.capability_area:
            problems.append(unchangeable(number, "capability_area", current.capability_area,
                                         area, "requirement"))
        if problems:
            raise Refused(problems)
        changes = _changes(current, {
            "quantity": row.quantity, "priority": row.priority, "needed_by": row.needed_by,
            "notes": row.notes, "releasability": row.releasability,
        }, present)
        if not changes:
            return "unchanged"
        if write:
            requirement_service.update_requirement(self.session, actor=self.actor,
                                                   requirement_id=current.id,
                                                   data=RequirementUpdate(**changes))
        return "updated"
