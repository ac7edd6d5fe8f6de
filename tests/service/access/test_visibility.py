"""The releasability rules as one table: principal x label x owner -> may see.

`can_see` (one loaded record) and `visibility_clause` (SQL, every list, export and aggregate)
must both follow the table, for every labelled model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access.actor import Actor, actor_for_user
from coalition.access.labels import Releasability, Role
from coalition.access.models import AuditEntry
from coalition.access.visibility import can_see, labelled_models, visible
from coalition.logistics.models import Shipment, Site, SiteKind
from coalition.meetings.models import Decision, Meeting
from coalition.pledges.models import Pledge
from coalition.registry import service as registry_service
from coalition.registry.models import Format, Participant, ParticipantKind
from coalition.registry.schemas import ParticipantCreate
from coalition.requirements.models import Requirement
from tests import factories
from tests.factories import DAY, World
from tests.service.access.principals import BY_NAME, PRINCIPALS, create_principals, extend_world

LABELS = [Releasability.PUBLIC, Releasability.COALITION, Releasability.NATO,
          Releasability.NATIONAL]

# Records of UDCG (led by the USA). "other": owned by DEU (a NATO member of UDCG that no
# principal speaks for); "own": owned by the principal's nation. Y sees, . does not, - n/a.
TABLE = """
principal            other: PUB COA NATO NAT   own: PUB COA NATO NAT
admin                       Y   Y   Y    Y          -   -   -    -
coordinator-UDCG            Y   Y   Y    Y          -   -   -    -
coordinator-NSATU           Y   .   Y    .          -   -   -    -
national-POL                Y   Y   Y    .          Y   Y   Y    Y
national-JPN                Y   Y   .    .          Y   Y   Y    Y
national-UKR                Y   Y   .    .          Y   Y   Y    Y
recipient-POL               Y   Y   Y    .          Y   Y   Y    Y
recipient-JPN               Y   Y   .    .          Y   Y   Y    Y
recipient-UKR               Y   Y   .    .          Y   Y   Y    Y
analyst-POL                 Y   Y   Y    .          Y   Y   Y    Y
analyst-JPN                 Y   Y   .    .          Y   Y   Y    Y
analyst-UKR                 Y   Y   .    .          Y   Y   Y    Y
national-CAN                Y   .   Y    .          Y   Y   Y    Y
national-CHE                Y   .   .    .          Y   Y   Y    Y
observer                    Y   .   .    .          -   -   -    -
observer-POL                Y   .   .    .          Y   .   .    .
"""


def _parse(table: str) -> dict[tuple[str, Releasability, str], bool]:
    expected: dict[tuple[str, Releasability, str], bool] = {}
    for line in table.strip().splitlines()[1:]:
        name, *cells = line.split()
        assert len(cells) == 8, line
        for index, cell in enumerate(cells):
            if cell != "-":
                owner = "other" if index < 4 else "own"
                expected[(name, LABELS[index % 4], owner)] = cell == "Y"
    return expected


EXPECTED = _parse(TABLE)
CASES = sorted(EXPECTED.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))


def test_table_covers_every_principal() -> None:
    named = {name for name, _, _ in EXPECTED}
    assert named == {p.name for p in PRINCIPALS if p.role is not None}


# In-memory ids: UDCG (US-led) = 1, NSATU (NATO-led) = 2; participants by code.
IDS = {"USA": 10, "DEU": 11, "POL": 12, "JPN": 13, "AUS": 14, "UKR": 15, "CAN": 16, "CHE": 17}
UDCG_MEMBERS = {"USA", "DEU", "POL", "JPN", "AUS", "UKR"}
NATO = {"USA", "DEU", "POL", "CAN"}


def _memory_actor(name: str) -> Actor:
    """The actor `actor_for_user` would build, without a database."""
    p = BY_NAME[name]
    assert p.role is not None
    formats = {1} if p.nation in UDCG_MEMBERS else set()
    if p.nation in {"USA", "DEU", "POL", "UKR"}:
        formats.add(2)
    coordinated = {1: {1}, 2: {2}}.get({"UDCG": 1, "NSATU": 2}.get(p.format or "", 0), set())
    return Actor(name=name, role=p.role, participant_id=IDS.get(p.nation or ""),
                 participant_code=p.nation, is_nato=p.nation in NATO,
                 member_format_ids=frozenset(formats | coordinated),
                 coordinated_format_ids=frozenset(coordinated),
                 coordinates_nato_led_format=p.format == "NSATU")


@dataclass
class _Record:
    __owner_column__ = "owner_id"
    releasability: Releasability
    format_id: int | None
    owner_id: int | None


@pytest.mark.parametrize(("key", "sees"), CASES, ids=[f"{n}-{o}-{lab.value}"
                                                      for (n, lab, o), _ in CASES])
def test_can_see_follows_the_table(key: tuple[str, Releasability, str], sees: bool) -> None:
    name, label, owner = key
    nation = BY_NAME[name].nation if owner == "own" else "DEU"
    record = _Record(releasability=label, format_id=1, owner_id=IDS[nation or ""])
    assert can_see(_memory_actor(name), record) is sees


def test_records_without_format_are_coalition_to_nobody_but_owner() -> None:
    record = _Record(releasability=Releasability.COALITION, format_id=None, owner_id=IDS["DEU"])
    assert not can_see(_memory_actor("national-POL"), record)
    assert not can_see(_memory_actor("coordinator-UDCG"), record)
    assert can_see(_memory_actor("admin"), record)


def _owner_column(model: Any) -> Any:
    return getattr(model, model.__owner_column__)


def _pledge_columns(session: Session) -> dict[str, Any]:
    template = factories.pledge(session)
    return {c: getattr(template, c) for c in (
        "item_type_id", "quantity", "amount", "currency", "fx_rate_to_eur", "fx_date",
        "value_eur_cents", "funding", "announced_on", "available_from", "status")}


def _requirement_columns(session: Session) -> dict[str, Any]:
    template = factories.requirement(session)
    return {c: getattr(template, c) for c in (
        "item_type_id", "quantity", "priority", "needed_by", "capability_area", "status")}


def _shipment_columns(session: Session) -> dict[str, Any]:
    ukr = session.scalar(select(Participant.id).where(Participant.code == "UKR"))
    site = Site(code="vis-hub", name="Hub", kind=SiteKind.LOGISTICS_HUB, participant_id=ukr,
                latitude=Decimal("50.0"), longitude=Decimal("24.0"))
    session.add(site)
    session.flush()
    start = dt.datetime(2024, 6, 13, tzinfo=dt.UTC)
    return {"recipient_id": ukr, "origin_site_id": site.id, "destination_site_id": site.id,
            "planned_departure": start, "planned_arrival": start + dt.timedelta(days=3),
            "created_by": "test"}


# Column values (besides label, format and owner) of one row per labelled table; `n` keeps
# unique columns unique. A new labelled table needs an entry (test_every_labelled_table_...).
ROWS: dict[Any, Any] = {
    Pledge: (_pledge_columns, lambda n: {"external_id": f"vis-{n}"}),
    Requirement: (_requirement_columns, lambda n: {"reference": f"vis-{n}"}),
    Meeting: (lambda s: {"title": "meeting", "held_on": DAY}, lambda n: {}),
    Decision: (lambda s: {"text": "decision"}, lambda n: {}),
    Shipment: (_shipment_columns, lambda n: {"reference": f"vis-{n}"}),
    AuditEntry: (lambda s: {"actor": "t", "action": "t", "target_type": "t", "target_id": "1",
                            "prev_hash": "0" * 64},
                 lambda n: {"hash": f"vis-{n}".ljust(64, "x")}),
}


def test_every_labelled_table_is_in_the_table_test() -> None:
    assert set(labelled_models()) <= set(ROWS)


def _insert_records(session: Session, model: Any, format_id: int, owners: dict[str, int]
                    ) -> dict[tuple[str, Releasability], int]:
    """One row per owner x label, written directly: visibility does not care how rows came."""
    columns, unique = ROWS[model]
    base = columns(session)
    ids: dict[tuple[str, Releasability], int] = {}
    for owner, owner_id in owners.items():
        for label in LABELS:
            row = model(**base, **unique(len(ids)), format_id=format_id, releasability=label,
                        **{model.__owner_column__: owner_id})
            session.add(row)
            session.flush()
            ids[(owner, label)] = row.id
    return ids


@pytest.mark.parametrize("model", list(ROWS), ids=lambda m: m.__tablename__)
def test_visibility_clause_follows_the_table(world: World, session: Session, model: Any
                                             ) -> None:
    extend_world(session)
    actors = create_principals(session)
    codes = {"DEU", "POL", "JPN", "UKR", "CAN", "CHE"}
    owners = {p.code: p.id for p in session.scalars(select(Participant)
                                                    .where(Participant.code.in_(codes)))}
    udcg = registry_service.get_format(session, code="UDCG").id
    ids = _insert_records(session, model, udcg, owners)
    mismatches = []
    for (name, label, owner), sees in EXPECTED.items():
        nation = BY_NAME[name].nation if owner == "own" else "DEU"
        record_id = ids[(nation or "", label)]
        listed = set(session.scalars(visible(select(model.id).where(
            model.id.in_(list(ids.values()))), actors[name], model)))
        record = session.get(model, record_id)
        if (record_id in listed) is not sees or can_see(actors[name], record) is not sees:
            mismatches.append((name, owner, label.value, sees))
    assert mismatches == []


def test_nato_membership_counts_from_accession_year(world: World, session: Session) -> None:
    from coalition.access import service as access_service
    from coalition.access.actor import SYSTEM

    registry_service.create_participant(session, actor=SYSTEM, data=ParticipantCreate(
        kind=ParticipantKind.STATE, code="SWE", name="Sweden", nato_member_since=2024,
        is_donor=True))
    user = access_service.create_user(session, actor=SYSTEM, name="desk-swe",
                                      role=Role.NATIONAL, nation="SWE")
    assert not actor_for_user(session, user, today=dt.date(2023, 12, 31)).is_nato
    assert actor_for_user(session, user, today=dt.date(2024, 3, 7)).is_nato


def test_coordinator_of_nato_led_format_sees_nato_records_of_any_format(
        world: World, session: Session) -> None:
    extend_world(session)
    actors = create_principals(session)
    nsatu = actors["coordinator-NSATU"]
    udcg = actors["coordinator-UDCG"]
    assert nsatu.coordinates_nato_led_format and not udcg.coordinates_nato_led_format
    fmt = session.scalar(select(Format).where(Format.code == "NSATU"))
    assert fmt is not None and fmt.lead is not None and fmt.lead.code == "NATO"
