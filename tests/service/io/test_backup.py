"""Backup and restore: identical content by table digests, on and across both databases."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from coalition import migrate
from coalition.access import audit
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.db import session_scope
from coalition.errors import Conflict, ValidationFailed
from coalition.io import backup
from coalition.io.importers import import_file
from coalition.io.kiel.importer import import_kiel
from coalition.meetings import service as meeting_service
from coalition.meetings.schemas import MeetingCreate
from coalition.pledges import flows
from coalition.pledges.models import Pledge
from tests import factories
from tests.conftest import new_engine
from tests.factories import DAY, World
from tests.service.io.files import pledge_row, pledges_csv
from tests.unit.io.test_kiel_reader import ROWS, write_workbook


def fill(session: Session, tmp_path: Path) -> None:
    """Something in most tables: pledges (one pointing forward at its parent), an allocation
    with deliveries, a meeting, tokens, Kiel records with new categories and items."""
    import_file(session, actor=SYSTEM, resource="pledges", path=pledges_csv(
        tmp_path / "p.csv", [
            pledge_row("BUY-1", funding="joint_fund_purchase", parent_external_id="FUND-1",
                       notes="ünïcödé, \"quoted\"\nand a new line"),
            pledge_row("FUND-1", donor="JPN", funding="joint_fund_contribution",
                       currency="USD", amount="1234567.89", fx_rate_to_eur="0.91234567"),
            pledge_row("C-1", status="confirmed", releasability="NATO")]))
    confirmed = session.scalar(select(Pledge).where(Pledge.external_id == "C-1"))
    assert confirmed is not None
    need = factories.requirement(session, reference="UA-1", quantity=50)
    allocation = flows.allocate(session, actor=SYSTEM, pledge_id=confirmed.id,
                                requirement_id=need.id, quantity=10)
    flows.apply_progress(session, actor=SYSTEM, allocation_id=allocation.id, shipped=10,
                         delivered=4, reason="convoy")
    meeting = meeting_service.create_meeting(session, actor=SYSTEM, data=MeetingCreate(
        format="UDCG", title="Ramstein", held_on=DAY, attendees=["USA", "POL"]))
    meeting_service.announce(session, actor=SYSTEM, meeting_id=meeting.id,
                             pledge_id=confirmed.id)
    access_service.issue_token(session, actor=SYSTEM,
                               user=access_service.get_user(session, name="coord"))
    import_kiel(session, actor=SYSTEM, path=write_workbook(tmp_path / "kiel.xlsx", ROWS))
    session.flush()


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database of either kind to restore into."""
    folder = tmp_path / f"target-{request.param}"
    folder.mkdir()
    for engine in new_engine(str(request.param), folder):
        with engine.begin() as connection:
            migrate.upgrade(connection=connection)
        yield engine


def test_restore_gives_an_identical_database(world: World, session: Session, tmp_path: Path,
                                             target: Engine) -> None:
    fill(session, tmp_path)
    source = session.connection()
    path = tmp_path / "coalition.jsonl.gz"
    written = backup.backup(source, path)
    assert written.rows > 100
    expected = backup.table_digests(source)
    assert {t.name: (t.rows, t.sha256) for t in written.tables} == {
        name: (t.rows, t.sha256) for name, t in expected.items()}
    with target.begin() as connection:
        restored = backup.restore(connection, path)
    assert restored.revision == backup.revision(source)
    with target.connect() as connection:
        assert backup.table_digests(connection) == expected
    with session_scope(target) as other:
        assert audit.verify_chain(other).ok
        # Ids continue after the restored ones (PostgreSQL sequences were reset).
        made = factories.pledge(other, external_id="AFTER-RESTORE")
        assert made.id > max(other.scalars(select(Pledge.id).where(
            Pledge.external_id != "AFTER-RESTORE")))


def test_restore_refuses_a_database_with_rows(world: World, session: Session,
                                              tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    backup.backup(session.connection(), path)
    with pytest.raises(Conflict, match="restore needs an empty database; these tables"):
        backup.restore(session.connection(), path)


def test_restore_refuses_another_revision_and_damaged_files(world: World, session: Session,
                                                            tmp_path: Path, backend: str
                                                            ) -> None:
    path = tmp_path / "b.jsonl"
    backup.backup(session.connection(), path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if '"DEU"' in line)
    damaged = tmp_path / "damaged.jsonl"
    lines[row] = lines[row].replace("DEU", "DEX")
    damaged.write_text("".join(lines), encoding="utf-8")
    folder = tmp_path / "empty"
    folder.mkdir()
    for engine in new_engine(backend, folder):
        with engine.begin() as connection:
            migrate.upgrade(connection=connection, revision="0001_core")
        with pytest.raises(ValidationFailed, match="the backup is at"), \
                engine.begin() as connection:
            backup.restore(connection, path)
        with engine.begin() as connection:
            migrate.upgrade(connection=connection)
        with pytest.raises(ValidationFailed, match="do not match the backup's count and "
                                                   "digest"), engine.begin() as connection:
            backup.restore(connection, damaged)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM participants")) == 0
    not_a_backup = tmp_path / "x.jsonl.gz"
    with gzip.open(not_a_backup, "wt") as handle:
        handle.write('{"hello": 1}\n')
    with pytest.raises(ValidationFailed, match="is not a Coalition backup"):
        backup.restore(session.connection(), not_a_backup)
