"""Participants, catalog item types and requirements imported through their services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.models import AuditEntry
from coalition.catalog.models import ItemType
from coalition.errors import Forbidden, ValidationFailed
from coalition.io.importers import ImportFailed, import_file
from coalition.registry.models import Participant
from coalition.requirements.models import Requirement
from tests.factories import World
from tests.service.io.files import count, write_csv

PARTICIPANTS = ["code", "kind", "name", "nato_member_since", "gdp_usd", "gdp_year", "is_donor"]
CATALOG = ["code", "name", "category", "capability_area", "unit", "unit_value_eur",
           "compatibility_group"]
REQUIREMENTS = ["reference", "recipient", "item_type", "quantity", "priority", "needed_by",
                "releasability", "notes"]


def run(session: Session, resource: str, path: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("actor", SYSTEM)
    return import_file(session, resource=resource, path=path, **options).to_dict()


def errors_of(session: Session, resource: str, path: Path) -> list[tuple[int, str, str]]:
    audit_before = count(session, AuditEntry)
    with pytest.raises(ImportFailed) as caught:
        run(session, resource, path)
    assert count(session, AuditEntry) == audit_before
    return [(e.row, e.column, e.reason) for e in caught.value.row_errors]


def test_participants_create_update_and_reimport(world: World, session: Session,
                                                 tmp_path: Path) -> None:
    rows = [["NOR", "state", "Norway", "1949", "485000000000", "2023", "true"],
            ["EIB", "organisation", "European Investment Bank", "", "", "", "yes"]]
    path = write_csv(tmp_path / "p.csv", PARTICIPANTS, rows)
    assert run(session, "participants", path)["created"] == 2
    before = count(session, AuditEntry)
    assert run(session, "participants", path)["unchanged"] == 2
    assert count(session, AuditEntry) == before
    rows[0][4] = "500000000000"
    report = run(session, "participants", write_csv(tmp_path / "q.csv", PARTICIPANTS, rows))
    assert (report["updated"], report["unchanged"]) == (1, 1)
    norway = session.scalar(select(Participant).where(Participant.code == "NOR"))
    assert norway is not None and norway.gdp_usd == 500_000_000_000
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.action == "participant.update"
    assert json.loads(entry.before or "{}")["gdp_usd"] == 485_000_000_000


def test_participant_rows_refused(world: World, session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PARTICIPANTS, [
        ["XYZ", "state", "Nowhere", "", "", "", ""],
        ["DEU", "organisation", "Germany", "", "", "", ""],
        ["BEL", "state", "Belgium", "1949", "1", "", ""],
    ])
    assert errors_of(session, "participants", path) == [
        (2, "code", "unknown ISO 3166 alpha-3 code (a state needs its ISO code)"),
        (3, "kind", "cannot change the kind of an existing participant (it is state)"),
        (4, "gdp_year", "gdp_usd and gdp_year go together"),
    ]
    assert session.scalar(select(Participant).where(Participant.code == "BEL")) is None


def test_catalog_items_and_their_errors(world: World, session: Session,
                                        tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", CATALOG, [
        ["120-mortar", "120mm mortar round", "ammo", "artillery", "round", "900.50", "120mm"],
    ])
    assert run(session, "catalog", path)["created"] == 1
    item = session.scalar(select(ItemType).where(ItemType.code == "120-mortar"))
    assert item is not None and item.unit_value_eur_cents == 90_050
    assert run(session, "catalog", path)["unchanged"] == 1
    bad = write_csv(tmp_path / "bad.csv", CATALOG, [
        ["x-1", "Thing", "nonsense", "artillery", "", "", ""],
        ["x-2", "Other", "ammo", "space", "", "", ""],
        ["x-3", "155mm shell A", "ammo", "artillery", "", "", ""],
        ["x-4", "Fourth", "ammo", "artillery", "", "-3", ""],
    ])
    assert errors_of(session, "catalog", bad) == [
        (2, "category", "unknown category code"),
        (3, "capability_area", "must be one of air_defence, artillery, armour, drones, "
                               "demining, maritime, air_force, it, infantry, logistics, "
                               "medical, other"),
        (5, "unit_value_eur", "must not be negative"),
    ]
    # Once the bad rows are fixed, the duplicate name is the service's refusal, on its row.
    fixed = write_csv(tmp_path / "fixed.csv", CATALOG, [
        ["x-3", "155mm shell A", "ammo", "artillery", "", "", ""]])
    assert errors_of(session, "catalog", fixed) == [
        (2, "name", "item type named '155mm shell A' already exists")]


def test_requirements_create_update_refuse(world: World, session: Session,
                                           tmp_path: Path) -> None:
    rows = [["UA-1", "UKR", "155-a", "500", "1", "2024-09-30", "COALITION", ""],
            ["UA-2", "", "152-a", "80", "2", "2024-10-31", "NATO", "urgent"]]
    path = write_csv(tmp_path / "r.csv", REQUIREMENTS, rows)
    assert run(session, "requirements", path)["created"] == 2
    assert run(session, "requirements", path)["unchanged"] == 2
    rows[0][3] = "600"
    assert run(session, "requirements",
               write_csv(tmp_path / "r2.csv", REQUIREMENTS, rows))["updated"] == 1
    stored = session.scalar(select(Requirement).where(Requirement.reference == "UA-1"))
    assert stored is not None and stored.quantity == 600
    bad = write_csv(tmp_path / "bad.csv", REQUIREMENTS, [
        ["UA-1", "UKR", "152-a", "600", "1", "2024-09-30", "COALITION", ""],
        ["UA-3", "UKR", "155-a", "10", "9", "2024-09-30", "", ""],
        ["UA-4", "UKR", "155-a", "10", "1", "30/09/2024", "", ""],
        ["UA-5", "ATL", "155-a", "10", "1", "2024-09-30", "", ""],
    ])
    assert errors_of(session, "requirements", bad) == [
        (2, "item_type", "cannot change the item_type of an existing requirement (it is "
                         "155-a)"),
        (3, "priority", "must be at most 5"),
        (4, "needed_by", "not a date (YYYY-MM-DD)"),
        (5, "recipient", "unknown participant code"),
    ]


def test_service_refusals_become_row_errors(world: World, session: Session,
                                            tmp_path: Path) -> None:
    # POL is no recipient: the service refuses, the import names the row and column.
    path = write_csv(tmp_path / "r.csv", REQUIREMENTS,
                     [["UA-9", "POL", "155-a", "10", "1", "2024-09-30", "", ""]])
    assert errors_of(session, "requirements", path) == [
        (2, "recipient", "participant is not a recipient")]


def test_permissions_are_the_services(world: World, session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PARTICIPANTS,
                     [["NOR", "state", "Norway", "", "", "", ""]])
    with pytest.raises(Forbidden):
        run(session, "participants", path, actor=world.actor("pol"))
    with pytest.raises(ValidationFailed, match="unknown resource"):
        run(session, "people", path)
