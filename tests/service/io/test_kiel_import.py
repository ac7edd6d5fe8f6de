"""The Kiel tracker import: a sample workbook like release 7, a later release with
allocations (a new layout, same importer), idempotence, and the real release 7 workbook."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.access.models import AuditEntry
from coalition.catalog.models import Category, ItemType
from coalition.errors import Forbidden
from coalition.io.kiel import KielLayout, reconcile_kiel
from coalition.io.kiel.importer import import_kiel, requirement_reference
from coalition.pledges.models import Allocation, Pledge, PledgeStatus
from coalition.registry.models import Participant, ParticipantKind
from coalition.requirements.models import Requirement, RequirementStatus
from tests.factories import World
from tests.service.io.files import count
from tests.unit.io.test_kiel_reader import ROWS, write_workbook

WORKBOOK = (Path(__file__).resolve().parents[3].parent / "shared" / "data" / "kiel"
            / "ukraine_support_tracker_release7.xlsx")


def pledge(session: Session, external_id: str) -> Pledge:
    found = session.scalar(select(Pledge).where(Pledge.external_id == external_id))
    assert found is not None, external_id
    session.refresh(found)
    return found


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "kiel.xlsx", ROWS)


def test_sample_workbook_becomes_participants_items_pledges_and_deliveries(
        world: World, session: Session, sample: Path) -> None:
    report = import_kiel(session, actor=SYSTEM, path=sample)
    summary = report.to_dict()
    # 19 rows: 5 skipped by the reader, NOF1 (an amount in NOK only) by the import.
    assert (summary["rows_read"], summary["imported"], summary["created"]) == (18, 11, 11)
    assert summary["skipped"] == {"aggregate row": 1, "no committed value or units": 1,
                                  "no donor": 1, "no value and no units": 2,
                                  "unknown aid type": 1, "unknown donor": 1}
    assert summary["skipped_rows"] == [{"row": 18, "kiel_id": "NOF1",
                                        "reason": "no committed value or units"}]
    # Donors the world lacked: states with their ISO codes, EU bodies as organisations.
    kinds = dict(session.execute(select(Participant.code, Participant.kind)).all())
    assert {code: kinds[code] for code in ("CZE", "TUR", "KOR", "EST", "ITA", "EU", "EPF",
                                           "EIB")} == {
        "CZE": ParticipantKind.STATE, "TUR": ParticipantKind.STATE,
        "KOR": ParticipantKind.STATE, "EST": ParticipantKind.STATE,
        "ITA": ParticipantKind.STATE, "EU": ParticipantKind.ORGANISATION,
        "EPF": ParticipantKind.ORGANISATION, "EIB": ParticipantKind.ORGANISATION}
    czech = session.scalar(select(Participant).where(Participant.code == "CZE"))
    assert czech is not None and (czech.nato_member_since, czech.is_donor) == (1999, True)
    # 20 Bushmasters, all delivered: allocated to the item's Kiel requirement and delivered.
    bushmaster = pledge(session, "kiel:AUM4:1")
    assert (bushmaster.item_type.name, bushmaster.item_type.category.code) == (
        "Bushmaster Protected Mobility Vehicles", "heavy-weapons")
    assert (bushmaster.quantity, bushmaster.quantity_delivered, bushmaster.status) == (
        20, 20, PledgeStatus.DELIVERED)
    assert (bushmaster.value_eur_cents, bushmaster.currency, bushmaster.releasability) == (
        3_283_962_201, "EUR", Releasability.PUBLIC)
    assert "original: 49000000.00 AUD" in bushmaster.notes
    need = session.scalar(select(Requirement).where(
        Requirement.reference == requirement_reference(bushmaster.item_type.code)))
    assert need is not None
    assert (need.recipient.code, need.quantity, need.quantity_delivered, need.status) == (
        "UKR", 20, 20, RequirementStatus.MET)
    # A value without units: the whole euros of an item counted in EUR.
    decoy = pledge(session, "kiel:AUM3:1")
    assert (decoy.item_type.code, decoy.item_type.unit, decoy.quantity) == (
        "kiel-military-eur", "EUR", 16_754_909)
    ration = pledge(session, "kiel:AUM3:3")
    assert (ration.quantity, ration.value_eur_cents) == (8, 0)
    # Financial aid: 2m committed, 1m delivered.
    korea = pledge(session, "kiel:KRF1:1")
    assert (korea.item_type.code, korea.item_type.category.code) == ("kiel-financial-eur",
                                                                     "financial")
    assert (korea.quantity, korea.quantity_delivered, korea.status) == (
        2_000_000, 1_000_000, PledgeStatus.CONFIRMED)
    # A date outside the release's coverage is dropped: the end of the coverage, noted.
    estonia = pledge(session, "kiel:EEM3:1")
    assert estonia.announced_on == dt.date(2022, 10, 3)
    assert "date set to the end of the release's coverage" in estonia.notes
    assert session.scalar(select(Category.name).where(Category.code == "financial")) == (
        "Financial aid")


def test_reconciliation_matches_the_reader(world: World, session: Session,
                                           sample: Path) -> None:
    report = import_kiel(session, actor=SYSTEM, path=sample)
    reader = reconcile_kiel(sample)
    assert report.matches
    assert report.total.kiel_committed == reader.total.committed_eur
    assert report.total.imported_committed == reader.total.committed_eur
    for code, amounts in reader.by_donor.items():
        assert report.by_donor[code].imported_committed == amounts.committed_eur, code
    for aid, amounts in reader.by_aid_type.items():
        assert report.by_aid_type[aid.value].imported_committed == amounts.committed_eur
    assert report.by_aid_type["financial"].imported_delivered == Decimal("1000000.00")


def test_importing_twice_changes_nothing(world: World, session: Session,
                                         sample: Path) -> None:
    import_kiel(session, actor=SYSTEM, path=sample)
    before = [count(session, model) for model in (AuditEntry, Pledge, Allocation,
                                                  Requirement, ItemType, Participant)]
    again = import_kiel(session, actor=SYSTEM, path=sample).to_dict()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 11)
    assert again["added"] == {}
    assert [count(session, model) for model in (AuditEntry, Pledge, Allocation, Requirement,
                                                ItemType, Participant)] == before


def test_a_dry_run_leaves_nothing(world: World, session: Session, sample: Path) -> None:
    before = count(session, Pledge), count(session, Participant)
    report = import_kiel(session, actor=SYSTEM, path=sample, dry_run=True)
    assert report.created == 11 and report.matches
    assert (count(session, Pledge), count(session, Participant)) == before


def test_only_staff_import_the_tracker(world: World, session: Session, sample: Path) -> None:
    with pytest.raises(Forbidden):
        import_kiel(session, actor=world.actor("pol"), path=sample)


LATER_HEADER: list[str | None] = [
    "Entry ID", "Donor", "Announcement date", "Aid type", "Item", "Units committed",
    "Units allocated", "Units delivered", "Value committed (EUR)", "Value allocated (EUR)",
]
LATER = KielLayout(
    release="13",
    sheet="Main Data",
    text_date_order="dmy",
    columns={
        "kiel_id": ("Entry ID",), "donor": ("Donor",),
        "announced_on": ("Announcement date",), "aid_type": ("Aid type",), "item": ("Item",),
        "units_committed": ("Units committed",), "units_allocated": ("Units allocated",),
        "units_delivered": ("Units delivered",),
        "value_committed_eur": ("Value committed (EUR)",),
        "value_allocated_eur": ("Value allocated (EUR)",),
    },
)


def later_release(path: Path, allocated: int, delivered: int) -> Path:
    return write_workbook(path, [
        ["USM1", "United States", dt.datetime(2023, 1, 6), "Military", "Bradley IFV", 50,
         allocated, delivered, 1_200_000_000, 700_000_000],
        ["DEF1", "Germany", "06.01.2023", "Financial", ".", ".", ".", ".", 500_000_000,
         200_000_000],
    ], header=LATER_HEADER, sheet="Main Data")


def test_a_later_release_with_allocations_needs_only_a_layout(world: World, session: Session,
                                                              tmp_path: Path) -> None:
    report = import_kiel(session, actor=SYSTEM, path=later_release(tmp_path / "r13.xlsx", 30,
                                                                    10), layout=LATER)
    assert report.matches and report.created == 2
    bradley = pledge(session, "kiel:USM1:1")
    assert (bradley.quantity, bradley.quantity_allocated, bradley.quantity_delivered,
            bradley.status) == (50, 30, 10, PledgeStatus.CONFIRMED)
    fund = pledge(session, "kiel:DEF1:1")
    assert (fund.quantity, fund.quantity_allocated, fund.quantity_delivered) == (
        500_000_000, 200_000_000, 0)
    # The next edition reports more: the pledge is allocated and delivered further.
    report = import_kiel(session, actor=SYSTEM, path=later_release(tmp_path / "r14.xlsx", 50,
                                                                    50), layout=LATER)
    assert report.unchanged == 2
    bradley = pledge(session, "kiel:USM1:1")
    assert (bradley.quantity_allocated, bradley.quantity_delivered, bradley.status) == (
        50, 50, PledgeStatus.DELIVERED)
    need = session.scalar(select(Requirement).where(
        Requirement.reference == requirement_reference(bradley.item_type.code)))
    assert need is not None and (need.quantity, need.quantity_delivered) == (50, 50)


@pytest.mark.slow
@pytest.mark.skipif(not WORKBOOK.exists(), reason=f"{WORKBOOK} is not present")
def test_the_real_release_7_workbook(world: World, session: Session) -> None:
    report = import_kiel(session, actor=SYSTEM, path=WORKBOOK)
    summary = report.to_dict()
    assert (summary["rows_read"], summary["imported"]) == (1032, 758)
    assert summary["skipped"] == {"no committed value or units": 3,
                                  "no value and no units": 271}
    assert report.matches
    assert summary["total"]["imported_committed_eur"] == "93942559020.33"
    assert summary["by_aid_type"]["financial"]["imported_committed_eur"] == "38076451697.78"
    assert len(summary["by_donor"]) == 43
    stored = session.scalar(select(func.sum(Pledge.value_eur_cents))
                            .where(Pledge.external_id.like("kiel:%")))
    assert stored == 9_394_255_902_033
    again = import_kiel(session, actor=SYSTEM, path=WORKBOOK)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 758)
