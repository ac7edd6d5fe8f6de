"""The pledge import: what it writes, idempotence, updates, every kind of row error, limits."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.access.models import AuditEntry
from coalition.errors import Forbidden
from coalition.io.importers import ImportFailed, import_file
from coalition.io.importers import pledges as pledge_import
from coalition.pledges import service as pledge_service
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus, PledgeTransition
from coalition.pledges.schemas import PledgeCreate
from coalition.registry.models import Format
from coalition.schemas_common import NO_NUL_MESSAGE
from tests import factories
from tests.factories import World
from tests.service.access.principals import extend_world
from tests.service.io.files import (
    PLEDGE_HEADER,
    WRITERS,
    count,
    counts,
    pledge_row,
    pledges_csv,
    write_csv,
)

COMPARED = ("donor_id", "item_type_id", "quantity", "amount", "currency", "fx_rate_to_eur",
            "fx_date", "value_eur_cents", "funding", "parent_pledge_id", "announced_on",
            "available_from", "format_id", "releasability", "status", "quantity_allocated",
            "quantity_shipped", "quantity_delivered", "notes")


def run(session: Session, path: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("actor", SYSTEM)
    return import_file(session, resource="pledges", path=path, **options).to_dict()


def failure(session: Session, path: Path, **options: Any) -> list[tuple[int, str, str]]:
    before = counts(session)
    with pytest.raises(ImportFailed) as caught:
        run(session, path, **options)
    assert counts(session) == before, "a refused import must leave nothing behind"
    return [(e.row, e.column, e.reason) for e in caught.value.row_errors]


def pledge(session: Session, external_id: str) -> Pledge:
    found = session.scalar(select(Pledge).where(Pledge.external_id == external_id))
    assert found is not None
    session.refresh(found)
    return found


def history(session: Session, pledge_id: int) -> list[tuple[str | None, str, str, str]]:
    return [(t.from_status.value if t.from_status else None, t.to_status.value, t.actor,
             t.reason) for t in pledge_service.history(session, pledge_id=pledge_id)]


def test_new_rows_are_stored_as_the_service_stores_them(world: World, session: Session,
                                                       tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "pledges.csv", [
        pledge_row("I-1", donor="DEU", quantity=7, amount="1234.56", currency="USD",
                   fx_rate_to_eur="0.92345678", status="confirmed", notes="via Rzeszow"),
        pledge_row("I-2", donor="JPN", item_type="152-a", amount="99.99", status="withdrawn",
                   releasability="NATIONAL"),
    ])
    report = run(session, path)
    assert (report["created"], report["statuses"]) == (2, {"confirmed": 1, "withdrawn": 1})
    reason = "imported from pledges.csv"
    for external_id, data, to in [
        ("I-1", {"donor": "DEU", "quantity": 7, "amount": Decimal("1234.56"), "currency": "USD",
                 "fx_rate_to_eur": Decimal("0.92345678"), "notes": "via Rzeszow"},
         PledgeStatus.CONFIRMED),
        ("I-2", {"donor": "JPN", "item_type": "152-a", "amount": Decimal("99.99"),
                 "releasability": Releasability.NATIONAL}, PledgeStatus.WITHDRAWN),
    ]:
        fields: dict[str, Any] = {"item_type": "155-a", "quantity": 10,
                                  "announced_on": dt.date(2024, 6, 13),
                                  "available_from": dt.date(2024, 7, 13), **data}
        made = pledge_service.create_pledge(session, actor=SYSTEM, data=PledgeCreate(
            external_id=f"S-{external_id}", **fields))
        pledge_service.transition(session, actor=SYSTEM, pledge_id=made.id, to=to,
                                  reason=reason)
        imported = pledge(session, external_id)
        made = pledge(session, f"S-{external_id}")
        assert ({c: getattr(imported, c) for c in COMPARED}
                == {c: getattr(made, c) for c in COMPARED})
        assert history(session, imported.id) == history(session, made.id)
    assert history(session, pledge(session, "I-1").id) == [
        (None, "announced", "system", "pledge recorded"),
        ("announced", "confirmed", "system", reason)]


def test_one_audit_entry_covers_the_new_rows(world: World, session: Session,
                                             tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "batch.csv", [pledge_row(f"B-{i}") for i in range(5)])
    before = count(session, AuditEntry)
    report = run(session, path)
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).all()
    assert count(session, AuditEntry) == before + 1
    entry = entries[0]
    assert (entry.action, entry.target_type) == ("pledge.import", "pledges")
    after = json.loads(entry.after or "{}")
    assert (after["created"], after["sha256"], after["source"]) == (5, report["sha256"],
                                                                    "batch.csv")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "json"])
def test_reimporting_the_same_file_changes_nothing(world: World, session: Session,
                                                   tmp_path: Path, kind: str) -> None:
    rows = [pledge_row("R-1", status="confirmed"), pledge_row("R-2", donor="USA"),
            pledge_row("", donor="AUS", notes="no id given")]
    path = WRITERS[kind](tmp_path / f"p.{kind}", PLEDGE_HEADER, rows)
    assert run(session, path)["created"] == 3
    before = counts(session)
    again = run(session, path)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert counts(session) == before


def test_a_row_without_external_id_gets_a_stable_one(world: World, session: Session,
                                                     tmp_path: Path) -> None:
    path = pledges_csv(tmp_path / "p.csv", [pledge_row("", donor="AUS")])
    run(session, path)
    stored = session.scalars(select(Pledge.external_id)).all()
    assert len(stored) == 1 and (stored[0] or "").startswith("auto-")
    assert stored[0] == pledge_import.auto_external_id(_row_of(path))


def _row_of(path: Path) -> Any:
    from coalition.io.rows import validate_all
    from coalition.io.specs import PLEDGES
    from coalition.io.tabular import read_rows

    records, errors = validate_all(PLEDGES, read_rows(path, PLEDGES.columns),
                                   lookups={k: lambda _: True for k in PLEDGES.lookups})
    assert errors == []
    return records[0][1]


def test_a_changed_row_updates_its_pledge_and_is_audited(world: World, session: Session,
                                                         tmp_path: Path) -> None:
    run(session, pledges_csv(tmp_path / "v1.csv", [pledge_row("C-1"), pledge_row("C-2")]))
    before = count(session, AuditEntry)
    report = run(session, pledges_csv(tmp_path / "v2.csv", [
        pledge_row("C-1", quantity=12, amount="36000.00", notes="more shells"),
        pledge_row("C-2")]))
    assert (report["updated"], report["unchanged"], report["created"]) == (1, 1, 0)
    changed = pledge(session, "C-1")
    assert (changed.quantity, changed.value_eur_cents, changed.notes) == (12, 3_600_000,
                                                                          "more shells")
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and count(session, AuditEntry) == before + 1
    assert (entry.action, entry.target_id) == ("pledge.update", str(changed.id))
    assert json.loads(entry.before or "{}")["quantity"] == 10
    assert json.loads(entry.after or "{}")["quantity"] == 12


def test_a_status_in_the_file_moves_an_existing_pledge_through_the_state_machine(
        world: World, session: Session, tmp_path: Path) -> None:
    run(session, pledges_csv(tmp_path / "v1.csv", [pledge_row("S-1"), pledge_row("S-2")]))
    report = run(session, pledges_csv(tmp_path / "v2.csv", [
        pledge_row("S-1", status="confirmed"), pledge_row("S-2", status="cancelled")]))
    assert report["updated"] == 2
    assert pledge(session, "S-1").status is PledgeStatus.CONFIRMED
    assert history(session, pledge(session, "S-2").id)[-1] == (
        "announced", "cancelled", "system", "imported from v2.csv")
    # Going back is refused with the state machine's reason, and nothing stays written.
    errors = failure(session, pledges_csv(tmp_path / "v3.csv", [
        pledge_row("S-1", status="confirmed"), pledge_row("S-2", status="confirmed")]))
    assert errors == [(3, "status", "a cancelled pledge cannot become confirmed; allowed: "
                                     "none (final)")]


def test_a_blank_status_or_a_missing_column_leaves_the_pledge_alone(
        world: World, session: Session, tmp_path: Path) -> None:
    run(session, pledges_csv(tmp_path / "v1.csv", [
        pledge_row("K-1", status="confirmed", releasability="NATO", notes="keep")]))
    short = write_csv(tmp_path / "short.csv",
                      ["external_id", "donor", "item_type", "quantity", "amount", "currency",
                       "announced_on"],
                      [["K-1", "POL", "155-a", "10", "30000", "EUR", "2024-06-13"]])
    assert run(session, short)["unchanged"] == 1
    kept = pledge(session, "K-1")
    assert (kept.status, kept.releasability, kept.notes) == (
        PledgeStatus.CONFIRMED, Releasability.NATO, "keep")


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (pledge_row("E", donor="XXX"), "donor", "unknown participant code"),
        (pledge_row("E", donor="UKR"), "donor", "participant is not registered as a donor"),
        (pledge_row("E", quantity=-5), "quantity", "must be at least 1"),
        (pledge_row("E", quantity="many"), "quantity", "not a whole number"),
        (pledge_row("E", item_type="rifle-x"), "item_type", "unknown item type"),
        (pledge_row("E", announced_on="13.06.2024"), "announced_on", "not a date (YYYY-MM-DD)"),
        (pledge_row("E", announced_on="2024-02-30"), "announced_on",
         "not a valid calendar date"),
        (pledge_row("E", amount="12,50"), "amount",
         "not a number (use a point as the decimal separator)"),
        (pledge_row("E", amount="-1"), "amount", "must not be negative"),
        (pledge_row("E", currency="EURO"), "currency",
         "not an ISO 4217 currency code (three letters)"),
        (pledge_row("E", currency="USD"), "fx_rate_to_eur",
         "required when the currency is not EUR"),
        (pledge_row("E", status="promised"), "status", "must be one of announced, confirmed, "
         "allocated, shipped, delivered, withdrawn, cancelled"),
        (pledge_row("E", status="delivered"), "status",
         pledge_import._UNREACHABLE),
        (pledge_row("E", funding="joint_fund_purchase"), "parent_external_id",
         "required for a joint_fund_purchase"),
        (pledge_row("E", funding="joint_fund_purchase", parent_external_id="NOPE"),
         "parent_external_id", "no pledge with this external_id"),
        (pledge_row("E", available_from="2004-01-01"), "available_from", "implausibly early"),
        (pledge_row("E", releasability="SECRET"), "releasability",
         "must be one of PUBLIC, COALITION, NATO, NATIONAL"),
        (pledge_row("has space"), "external_id",
         "letters, digits and . _ / - only, starting with a letter or digit"),
        (pledge_row("E", notes="a\x00b"), "notes", NO_NUL_MESSAGE),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_kind_of_bad_row_is_reported_with_row_and_column(
        world: World, session: Session, tmp_path: Path, row: list[str], column: str,
        reason: str) -> None:
    path = pledges_csv(tmp_path / "bad.csv", [pledge_row("OK-1"), row, pledge_row("OK-2")])
    assert failure(session, path) == [(3, column, reason)]


def test_a_missing_required_column_and_a_blank_required_cell(world: World, session: Session,
                                                             tmp_path: Path) -> None:
    no_donor = write_csv(tmp_path / "h.csv", ["external_id", "item_type", "quantity", "amount",
                                              "currency", "announced_on"], [])
    with pytest.raises(Exception, match="donor: required column is missing"):
        run(session, no_donor)
    blank = pledges_csv(tmp_path / "b.csv", [pledge_row("B-1", donor="")])
    assert failure(session, blank) == [(2, "donor", "required value is missing")]


def test_existing_pledges_keep_what_identifies_them(world: World, session: Session,
                                                    tmp_path: Path) -> None:
    run(session, pledges_csv(tmp_path / "v1.csv", [pledge_row("F-1")]))
    errors = failure(session, pledges_csv(tmp_path / "v2.csv", [
        pledge_row("F-1", donor="DEU", announced_on="2024-06-14")]))
    assert errors == [(2, "donor", "cannot change the donor of an existing pledge"),
                      (2, "announced_on", "cannot change the announced_on of an existing "
                                          "pledge")]


def test_duplicate_external_ids_in_one_file(world: World, session: Session, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [pledge_row("D-1"), pledge_row("D-2"), pledge_row("D-1"), pledge_row("D-3"),
            pledge_row("D-2")]
    assert failure(session, pledges_csv(tmp_path / "same-batch.csv", rows)) == [
        (4, "external_id", "duplicate of row 2"), (6, "external_id", "duplicate of row 3")]
    # Across batches the first row is already stored: the database finds the second (into
    # an empty table through the unique index, after which nothing more is written).
    monkeypatch.setattr(pledge_import, "BATCH_ROWS", 2)
    assert failure(session, pledges_csv(tmp_path / "batches.csv", rows)) == [
        (4, "external_id", "duplicate of row 2")]
    # Into a table with pledges each batch's keys are looked up, so every one is found.
    factories.pledge(session, external_id="OLD")
    assert failure(session, pledges_csv(tmp_path / "batches2.csv", rows)) == [
        (4, "external_id", "duplicate of row 2"), (6, "external_id", "duplicate of row 3")]


def test_nothing_is_written_when_the_last_row_is_bad(world: World, session: Session,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pledge_import, "BATCH_ROWS", 3)
    rows = [pledge_row(f"G-{i}") for i in range(10)] + [pledge_row("G-x", quantity=0)]
    assert failure(session, pledges_csv(tmp_path / "p.csv", rows)) == [
        (12, "quantity", "must be at least 1")]


def test_errors_are_collected_up_to_the_limit_then_reading_stops(
        world: World, session: Session, tmp_path: Path) -> None:
    rows = [pledge_row(f"L-{i}", quantity=0) for i in range(50)]
    with pytest.raises(ImportFailed) as caught:
        run(session, pledges_csv(tmp_path / "p.csv", rows), max_errors=5)
    assert [e.row for e in caught.value.row_errors] == [2, 3, 4, 5, 6]
    assert caught.value.stopped_early
    assert "stopped at the error limit" in caught.value.detail


def test_a_dry_run_reports_and_writes_nothing(world: World, session: Session,
                                              tmp_path: Path) -> None:
    before = counts(session)
    report = run(session, pledges_csv(tmp_path / "p.csv", [pledge_row("Y-1"),
                                                           pledge_row("Y-2")]), dry_run=True)
    assert (report["created"], report["dry_run"]) == (2, True)
    assert counts(session) == before


def test_parents_are_linked_within_the_file_and_to_stored_pledges(
        world: World, session: Session, tmp_path: Path) -> None:
    fund = factories.pledge(session, donor="JPN", external_id="FUND-1",
                            funding=FundingMechanism.JOINT_FUND_CONTRIBUTION)
    run(session, pledges_csv(tmp_path / "p.csv", [
        # The purchase comes before the contribution that pays for it.
        pledge_row("BUY-1", funding="joint_fund_purchase", parent_external_id="FUND-2"),
        pledge_row("FUND-2", donor="DEU", funding="joint_fund_contribution"),
        pledge_row("BUY-2", funding="joint_fund_purchase", parent_external_id="FUND-1"),
    ]))
    assert pledge(session, "BUY-1").parent_pledge_id == pledge(session, "FUND-2").id
    assert pledge(session, "BUY-2").parent_pledge_id == fund.id
    errors = failure(session, pledges_csv(tmp_path / "q.csv", [
        pledge_row("BUY-3", funding="joint_fund_purchase", parent_external_id="BUY-1")]))
    assert errors == [(2, "parent_external_id", "parent must be a joint-fund contribution")]


def test_national_desks_import_only_their_own_nation(world: World, session: Session,
                                                      tmp_path: Path) -> None:
    own = run(session, pledges_csv(tmp_path / "p.csv", [pledge_row("N-1", donor="POL")]),
              actor=world.actor("pol"))
    assert own["created"] == 1
    with pytest.raises(Forbidden, match="row 3: donor DEU"):
        run(session, pledges_csv(tmp_path / "q.csv", [pledge_row("N-2", donor="POL"),
                                                      pledge_row("N-3", donor="DEU")]),
            actor=world.actor("pol"))
    with pytest.raises(Forbidden):
        run(session, pledges_csv(tmp_path / "r.csv", [pledge_row("N-4")]),
            actor=world.actor("observer"))


def test_a_secretariat_imports_only_into_the_format_it_coordinates(
        world: World, session: Session, tmp_path: Path) -> None:
    extend_world(session)  # NSATU, coordinated by nobody in this world
    header = [*PLEDGE_HEADER, "format"]
    own = run(session, write_csv(tmp_path / "p.csv", header, [
        [*pledge_row("F-1"), "UDCG"], [*pledge_row("F-2"), ""]]), actor=world.actor("coord"))
    assert own["created"] == 2
    before = counts(session)
    with pytest.raises(Forbidden, match="row 3: format NSATU"):
        run(session, write_csv(tmp_path / "q.csv", header, [
            [*pledge_row("F-3"), "UDCG"], [*pledge_row("F-4"), "NSATU"]]),
            actor=world.actor("coord"))
    assert counts(session) == before
    assert run(session, write_csv(tmp_path / "r.csv", header, [
        [*pledge_row("F-4"), "NSATU"]]))["created"] == 1  # the admin's import may


def test_a_key_taken_by_a_pledge_the_caller_cannot_see(world: World, session: Session,
                                                        tmp_path: Path) -> None:
    factories.pledge(session, donor="DEU", external_id="HIDDEN",
                     releasability=Releasability.NATIONAL)
    errors = failure(session, pledges_csv(tmp_path / "p.csv", [pledge_row("HIDDEN")]),
                     actor=world.actor("pol"))
    assert errors == [(2, "external_id", "is taken by a pledge you cannot see")]


def test_exported_read_only_columns_are_accepted_and_ignored(world: World, session: Session,
                                                             tmp_path: Path) -> None:
    header = [*PLEDGE_HEADER, "id", "value_eur", "quantity_delivered"]
    path = write_csv(tmp_path / "export.csv", header, [[*pledge_row("X-1"), "77", "1", "3"]])
    assert run(session, path)["created"] == 1
    assert pledge(session, "X-1").quantity_delivered == 0


def test_default_format_is_the_services(world: World, session: Session,
                                        tmp_path: Path) -> None:
    run(session, pledges_csv(tmp_path / "p.csv", [pledge_row("U-1")]))
    udcg = session.scalar(select(Format.id).where(Format.code == "UDCG"))
    assert pledge(session, "U-1").format_id == udcg


def test_a_large_import_rebuilds_the_indexes_it_dropped(world: World, session: Session,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(pledge_import, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(pledge_import, "BATCH_ROWS", 4)
    connection = session.connection()

    def indexes() -> set[str]:
        found = {str(i["name"]) for t in ("pledges", "pledge_transitions")
                 for i in inspect(connection).get_indexes(t)}
        found |= {str(f["name"]) for t in ("pledges", "pledge_transitions")
                  for f in inspect(connection).get_foreign_keys(t)}
        # The keys and column defaults a bulk load also takes away for a while.
        found |= {str(inspect(connection).get_pk_constraint(t)["name"])
                  for t in ("pledges", "pledge_transitions")}
        found |= {str(u["name"]) for u in inspect(connection).get_unique_constraints("pledges")}
        found |= {f"{t}.{c['name']} = {c['default']}" for t in ("pledges", "pledge_transitions")
                  for c in inspect(connection).get_columns(t)}
        return found

    before = indexes()
    report = run(session, pledges_csv(tmp_path / "p.csv",
                                      [pledge_row(f"M-{i}", status="confirmed")
                                       for i in range(10)]))
    assert report["created"] == 10
    assert indexes() == before and "ix_pledges_donor_id" in before
    assert count(session, PledgeTransition) == 20
    migrate.check(connection=connection)
