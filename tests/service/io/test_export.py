"""Exports: filters and releasability as in the lists, every format, and the round trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access.actor import SYSTEM, Actor
from coalition.access.labels import Releasability
from coalition.db import session_scope
from coalition.io.exporters import columns, export
from coalition.io.importers import import_file
from coalition.io.schemas import ItemTypeFilter, ParticipantFilter
from coalition.io.tabular import read_rows
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, PledgeStatus
from coalition.pledges.schemas import PledgeFilter
from coalition.requirements.schemas import RequirementFilter
from tests import factories
from tests.conftest import new_engine
from tests.factories import World, build_world


def ledger(session: Session) -> None:
    """Pledges of several donors, labels, currencies, statuses and a fund with a purchase."""
    factories.pledge(session, donor="POL", external_id="P-POL", confirm=True, notes="a, b")
    factories.pledge(session, donor="DEU", external_id="P-DEU", item_type="155-b",
                     currency="USD", amount=Decimal("1234.56"),
                     fx_rate_to_eur=Decimal("0.92345678"))
    factories.pledge(session, donor="USA", external_id="P-USA", item_type="152-a",
                     releasability=Releasability.NATO)
    fund = factories.pledge(session, donor="JPN", external_id="P-FUND",
                            funding=FundingMechanism.JOINT_FUND_CONTRIBUTION,
                            releasability=Releasability.NATIONAL)
    factories.pledge(session, donor="AUS", external_id="P-BUY", quantity=3,
                     funding=FundingMechanism.JOINT_FUND_PURCHASE, parent_pledge_id=fund.id)
    gone = factories.pledge(session, donor="DEU", external_id="P-GONE", quantity=1)
    pledge_service.transition(session, actor=SYSTEM, pledge_id=gone.id,
                              to=PledgeStatus.WITHDRAWN, reason="stock needed at home")


def exported(session: Session, resource: str, format: str, actor: Actor = SYSTEM,
             filters: Any = None) -> list[dict[str, str]]:
    """Export and read back as text rows keyed by column (what a person would see)."""
    out = io.BytesIO()
    count = export(session, actor=actor, resource=resource, format=format, out=out,
                   filters=filters)
    data = out.getvalue()
    if format == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    elif format == "json":
        rows = [{k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                 for k, v in item.items()} for item in json.loads(data)]
    else:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        sheet = workbook.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        workbook.close()
        header = [str(h) for h in values[0]]
        rows = [{h: _xlsx_text(v) for h, v in zip(header, row, strict=True)}
                for row in values[1:]]
    assert len(rows) == count
    return rows


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


@pytest.mark.parametrize("format", ["csv", "xlsx", "json"])
def test_pledges_export_with_filters_in_every_format(world: World, session: Session,
                                                     format: str) -> None:
    ledger(session)
    rows = exported(session, "pledges", format, filters=PledgeFilter(donor="DEU"))
    assert [r["external_id"] for r in rows] == ["P-DEU", "P-GONE"]
    deu = rows[0]
    assert list(deu) == list(columns("pledges"))
    assert (deu["currency"], deu["status"], deu["format"]) == ("USD", "announced", "UDCG")
    assert Decimal(deu["fx_rate_to_eur"]) == Decimal("0.92345678")
    assert Decimal(deu["value_eur"]) == Decimal("1140.06")
    assert rows[1]["status"] == "withdrawn"


def test_exports_show_only_what_the_caller_may_see(world: World, session: Session) -> None:
    ledger(session)
    everything = [r["external_id"] for r in exported(session, "pledges", "csv")]
    assert everything == ["P-POL", "P-DEU", "P-USA", "P-FUND", "P-BUY", "P-GONE"]
    japan = exported(session, "pledges", "csv", actor=world.actor("jpn"))
    # JPN is no NATO member: USA's NATO pledge is left out; JPN sees its own NATIONAL one.
    assert [r["external_id"] for r in japan] == ["P-POL", "P-DEU", "P-FUND", "P-BUY",
                                                 "P-GONE"]
    poland = {r["external_id"]: r for r in exported(session, "pledges", "csv",
                                                    actor=world.actor("pol"))}
    assert "P-FUND" not in poland
    # The purchase is visible but its parent is not: the parent's id stays blank.
    assert poland["P-BUY"]["parent_external_id"] == ""
    observer = exported(session, "pledges", "json", actor=world.actor("observer"))
    assert observer == []


def test_other_lists_export(world: World, session: Session) -> None:
    factories.requirement(session, reference="UA-1", priority=2)
    factories.requirement(session, reference="UA-2", priority=1,
                          releasability=Releasability.NATO)
    requirements = exported(session, "requirements", "csv",
                            filters=RequirementFilter(priority=1))
    assert [(r["reference"], r["status"], r["releasability"]) for r in requirements] == [
        ("UA-2", "open", "NATO")]
    assert [r["reference"] for r in exported(session, "requirements", "csv",
                                             actor=world.actor("jpn"))] == ["UA-1"]
    states = exported(session, "participants", "json",
                      filters=ParticipantFilter(kind="state", nato=True))
    assert [r["code"] for r in states] == ["DEU", "POL", "USA"]
    items = exported(session, "catalog", "xlsx", filters=ItemTypeFilter(search="155"))
    assert [(r["code"], r["category"], r["unit_value_eur"]) for r in items] == [
        ("155-a", "ammo", "3000"), ("155-b", "ammo", "3500")]
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Ramstein 24", held_on=dt.date(2024, 6, 13),
        attendees=["USA", "POL"], releasability=Releasability.COALITION))
    meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                             pledge_id=factories.pledge(session).id)
    meetings = exported(session, "meetings", "csv")
    assert [(m["title"], m["attendees"], m["announced_pledges"]) for m in meetings] == [
        ("Ramstein 24", "POL USA", "1")]
    assert exported(session, "meetings", "csv", actor=world.actor("observer")) == []


def test_every_export_imports_back_unchanged(world: World, session: Session,
                                             tmp_path: Path) -> None:
    ledger(session)
    factories.requirement(session, reference="UA-1")
    for resource in ("participants", "catalog", "requirements", "pledges"):
        for format in ("csv", "xlsx", "json"):
            path = tmp_path / f"{resource}.{format}"
            with path.open("wb") as out:
                export(session, actor=SYSTEM, resource=resource, format=format, out=out)
            report = import_file(session, actor=SYSTEM, resource=resource, path=path)
            assert (report.created, report.updated) == (0, 0), (resource, format)
            assert report.unchanged == report.rows_read > 0


@pytest.fixture
def second_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database with the same world, to import an export into."""
    folder = tmp_path / "second"
    folder.mkdir()
    for engine in new_engine(backend, folder):
        with engine.begin() as connection:
            migrate.upgrade(connection=connection)
        with session_scope(engine) as session:
            build_world(session)
        yield engine


@pytest.mark.parametrize("format", ["csv", "xlsx", "json"])
def test_export_import_round_trip_into_another_database(
        world: World, session: Session, tmp_path: Path, second_database: Engine,
        format: str) -> None:
    ledger(session)
    first = tmp_path / f"first.{format}"
    with first.open("wb") as out:
        export(session, actor=SYSTEM, resource="pledges", format=format, out=out)
    with session_scope(second_database) as other:
        assert import_file(other, actor=SYSTEM, resource="pledges", path=first).created == 6
        again = exported(other, "pledges", format)
    original = exported(session, "pledges", format)
    ignore = {"id"}
    assert ([{k: v for k, v in r.items() if k not in ignore} for r in again]
            == [{k: v for k, v in r.items() if k not in ignore} for r in original])
    assert [r["external_id"] for r in again] == [r["external_id"] for r in original]
    # What the reader sees in the file is what went in.
    assert len(list(read_rows(first))) == 6
