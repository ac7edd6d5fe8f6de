"""Handing UDCG's coordination to NATO: the impact report, permissions, and — on the full demo
data — that nothing but the lead and the listed labels changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.all_models import Base
from coalition.demo import loader
from coalition.errors import Conflict, Forbidden, ValidationFailed
from coalition.meetings.models import Decision, DecisionStatus
from coalition.pledges.models import Pledge
from coalition.registry import handover
from coalition.registry import service as registry_service
from tests import factories
from tests.conftest import new_engine
from tests.factories import World
from tests.service.access.principals import create_principals, extend_world

ON = dt.date(2024, 7, 10)


def _nato_pledges(session: Session) -> dict[str, Pledge]:
    return {donor: factories.pledge(session, donor=donor, releasability=Releasability.NATO)
            for donor in ("DEU", "JPN")}


def test_plan_lists_nato_records_members_outside_nato_cannot_see(world: World,
                                                                 session: Session) -> None:
    pledges = _nato_pledges(session)
    factories.pledge(session, donor="POL", releasability=Releasability.COALITION)
    plan = handover.plan_handover(session, actor=SYSTEM, format_code="UDCG", to_code="NATO",
                                  on=ON)
    assert (plan.from_lead, plan.to_lead, plan.nato_led_after) == ("USA", "NATO", True)
    assert [(r.type, r.id) for r in plan.nato_labelled] == [
        ("pledges", pledges["DEU"].id), ("pledges", pledges["JPN"].id)]
    hidden = {m.participant: [r.id for r in m.hidden] for m in plan.members_losing_sight}
    # Japan sees its own pledge; Australia and Ukraine see neither; NATO members are absent.
    assert hidden == {"JPN": [pledges["DEU"].id],
                      "AUS": [pledges["DEU"].id, pledges["JPN"].id],
                      "UKR": [pledges["DEU"].id, pledges["JPN"].id]}
    assert plan.relabel == []
    assert plan.carried_over["pledges"] == 3 and plan.carried_over["format_memberships"] == 6


def test_execute_relabels_changes_lead_and_records_decision(world: World,
                                                            session: Session) -> None:
    pledges = _nato_pledges(session)
    result = handover.execute_handover(session, actor=world.actor("coord"), format_code="UDCG",
                                       to_code="NATO", on=ON, relabel_coalition=True)
    assert result.relabelled == 2 and result.carried_over_after == result.plan.carried_over
    for pledge in pledges.values():
        session.refresh(pledge)
        assert pledge.releasability is Releasability.COALITION
    fmt = registry_service.get_format(session, code="UDCG")
    assert fmt.lead is not None and fmt.lead.code == "NATO"
    leads = registry_service.lead_history(session, format_id=fmt.id)
    assert [(x.participant.code, x.ended_on) for x in leads] == [("USA", ON), ("NATO", None)]
    decision = session.get_one(Decision, result.decision_id)
    assert decision.status is DecisionStatus.ADOPTED and decision.approved_by == "coord"
    assert decision.decided_on == ON and "relabelled COALITION" in decision.text
    again = handover.plan_handover(session, actor=SYSTEM, format_code="UDCG", to_code="USA",
                                   on=ON)
    assert again.members_losing_sight == []


def test_format_code_stands_for_its_lead(world: World, session: Session) -> None:
    extend_world(session)
    plan = handover.plan_handover(session, actor=SYSTEM, format_code="udcg", to_code="nsatu",
                                  on=ON)
    assert plan.to_lead == "NATO" and plan.to == "NSATU (led by NATO)"


@pytest.mark.parametrize(("to", "on", "error"), [
    ("USA", ON, Conflict),  # already leads
    ("NATO", dt.date(2021, 1, 1), ValidationFailed),  # before the current lead's start
    ("ZZZ", ON, ValidationFailed),
])
def test_bad_handovers_are_refused(world: World, session: Session, to: str, on: dt.date,
                                   error: type[Exception]) -> None:
    with pytest.raises(error):
        handover.plan_handover(session, actor=SYSTEM, format_code="UDCG", to_code=to, on=on)


@pytest.mark.parametrize("name", ["national-POL", "recipient-UKR", "analyst-POL", "observer",
                                  "coordinator-NSATU"])
def test_only_admins_and_the_formats_coordinators_hand_over(world: World, session: Session,
                                                            name: str) -> None:
    extend_world(session)
    actors = create_principals(session)
    with pytest.raises(Forbidden):
        handover.plan_handover(session, actor=actors[name], format_code="UDCG", to_code="NATO")
    with pytest.raises(Forbidden):
        handover.execute_handover(session, actor=actors[name], format_code="UDCG",
                                  to_code="NATO")
    assert registry_service.get_format(session, code="UDCG").lead.code == "USA"  # type: ignore[union-attr]


# --- the whole demo ---------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def table_rows(conn: Connection) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every table, by primary key."""
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        pk = [c.name for c in table.primary_key.columns]
        rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        out[table.name] = {tuple(r[c] for c in pk): dict(r) for r in rows}
    return out


def digest(rows: dict[Any, dict[str, Any]]) -> str:
    text = json.dumps([[list(k), v] for k, v in sorted(rows.items())], default=_jsonable,
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def demo_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The full demo, loaded once per backend through the loader."""
    for engine in new_engine(backend, Path(tmp_path_factory.mktemp(f"demo-{backend}"))):
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        loader.load(engine=engine, show_progress=False)
        yield engine


@pytest.mark.slow
@pytest.mark.parametrize("relabel", [True, False], ids=["relabel", "keep-labels"])
def test_handover_on_demo_loses_nothing(demo_engine: Engine, relabel: bool) -> None:
    with demo_engine.connect() as conn:
        outer = conn.begin()
        try:
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            before = table_rows(conn)
            plan = handover.plan_handover(session, actor=SYSTEM, format_code="UDCG",
                                          to_code="NATO", relabel_coalition=relabel)
            session.flush()
            assert table_rows(conn) == before, "the dry run changed something"
            assert {"JPN", "AUS", "KOR", "UKR"} <= {m.participant
                                                    for m in plan.members_losing_sight}
            assert len(plan.nato_labelled) > 10
            result = handover.execute_handover(session, actor=SYSTEM, format_code="UDCG",
                                               to_code="NATO", relabel_coalition=relabel)
            session.flush()
            after = table_rows(conn)
            _assert_only_listed_changes(before, after, result)
            session.close()
        finally:
            outer.rollback()


def _assert_only_listed_changes(before: dict[str, dict[Any, dict[str, Any]]],
                                after: dict[str, dict[Any, dict[str, Any]]],
                                result: handover.HandoverResult) -> None:
    plan = result.plan
    relabelled: dict[str, set[int]] = {}
    for ref in plan.relabel:
        relabelled.setdefault(ref.type, set()).add(ref.id)
    assert result.relabelled == len(plan.relabel)
    appended = {"audit_entries", "audit_head", "decisions", "format_leads"}
    for table in before:
        old, new = before[table], after[table]
        if table not in appended | {"formats"} | set(relabelled):
            assert digest(old) == digest(new), f"{table} changed"
            continue
        if table == "formats":
            changed = {k for k in old if old[k] != new[k]}
            (key,) = changed
            diff = {c for c in old[key] if old[key][c] != new[key][c]}
            assert diff == {"lead_participant_id"} and new[key]["code"] == "UDCG"
            continue
        if table in relabelled:
            for key, row in old.items():
                if key[0] in relabelled[table]:
                    assert row["releasability"] == "NATO"
                    assert new[key]["releasability"] == "COALITION"
                    row = {**row, "releasability": "COALITION",
                           "updated_at": new[key].get("updated_at")}
                    if "updated_at" not in old[key]:
                        row.pop("updated_at")
                assert row == new[key], f"{table} {key} changed beyond its label"
            assert set(new) == set(old)
            continue
        if table == "audit_head":
            continue
        for key, row in old.items():
            if table == "format_leads" and row["ended_on"] is None and \
                    row["format_id"] == new[key]["format_id"] and new[key]["ended_on"]:
                row = {**row, "ended_on": new[key]["ended_on"]}  # the closed period
            assert new[key] == row, f"{table} {key} changed"
        added = set(new) - set(old)
        expected_added = {"decisions": 1, "format_leads": 1}.get(table)
        if expected_added is not None:
            assert len(added) == expected_added, table
    assert len(after["format_leads"]) == len(before["format_leads"]) + 1
    assert result.lead_periods_after == plan.lead_periods + 1
    assert result.carried_over_after == plan.carried_over
