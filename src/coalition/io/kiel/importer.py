"""`coalition import kiel`: the Kiel Support Tracker's records as participants, catalog items,
pledges and reported deliveries, and a reconciliation against the workbook.

Every record becomes one PUBLIC pledge, confirmed, with external id `kiel:<id>:<line>`, so
importing the same workbook again changes nothing and a later release updates what moved:

- donors: participants by ISO code (created from the reference tables when missing, with
  their NATO and EU accession and GDP); EU bodies as organisations EU, EPF, EIB;
- what: the catalog item of the record (`catalog_map`); quantity the units committed, or for
  a value without units the whole euros of it, of an item counted in EUR;
- value: the workbook's "Converted Value in EUR" (to the cent, so the totals reconcile), the
  original currency and amount in the notes; rows of a package after its first carry units
  but no value (Kiel puts the package's value on its first row);
- deliveries (and, from releases that report them, allocations): a pledge's quantity moves
  only through allocations to requirements, so each item type gets one requirement of
  Ukraine, `KIEL-<item code>`, holding what Kiel reports as allocated or delivered; each
  pledge is allocated to it and its delivered quantity recorded with
  `pledges.flows.apply_progress`. Pledge counters, statuses (a fully delivered pledge is
  `delivered`) and the delivery reports all read them like any other delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.access import policy
from coalition.access.actor import Actor
from coalition.access.labels import Releasability
from coalition.catalog import service as catalog_service
from coalition.catalog.models import Category, ItemType
from coalition.catalog.schemas import CategoryCreate, ItemTypeCreate
from coalition.demo.reference import states
from coalition.errors import DomainError
from coalition.io.importers._common import (
    ErrorLimit,
    ImportFailed,
    all_or_nothing,
    file_digest,
)
from coalition.io.importers.pledges import PledgeLoad
from coalition.io.kiel import catalog_map
from coalition.io.kiel.catalog_map import CategoryPlan, ItemPlan
from coalition.io.kiel.donors import ORGANISATIONS, DonorKind
from coalition.io.kiel.layout import RELEASE_7, AidType, KielLayout
from coalition.io.kiel.reader import KielRecord, KielSkip, Reconciliation, read_kiel
from coalition.io.rows import RowError
from coalition.io.specs import PLEDGES, PledgeRow
from coalition.money import from_cents
from coalition.pledges import flows
from coalition.pledges.models import Allocation, AllocationStatus, Pledge, PledgeStatus
from coalition.registry import service as registry_service
from coalition.registry.models import Participant, ParticipantKind
from coalition.registry.schemas import ParticipantCreate, ParticipantUpdate
from coalition.requirements import service as requirement_service
from coalition.requirements.models import Requirement
from coalition.requirements.schemas import RequirementCreate, RequirementUpdate

RECIPIENT = "UKR"
ZERO = Decimal(0)
ONE = Decimal(1)
# Columns the import compares on a pledge it already has. Status is not among them: after
# the first import, deliveries move it (a delivered pledge must not go back to confirmed).
_COMPARED = frozenset(c.name for c in PLEDGES.columns) - {"status"}


class SkipKind:
    NO_QUANTITY = "no committed value or units"
    NO_DATE = "no announcement date"


@dataclass
class Amounts:
    rows: int = 0
    kiel_committed: Decimal = ZERO
    imported_committed: Decimal = ZERO
    kiel_delivered: Decimal = ZERO
    imported_delivered: Decimal = ZERO

    @property
    def matches(self) -> bool:
        return self.kiel_committed == self.imported_committed

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "kiel_committed_eur": str(self.kiel_committed),
                "imported_committed_eur": str(self.imported_committed),
                "kiel_delivered_eur": str(self.kiel_delivered),
                "imported_delivered_eur": str(self.imported_delivered)}


@dataclass
class KielReport:
    """What the import did, and the workbook's totals next to what is now stored."""

    file: str
    sha256: str
    release: str
    dry_run: bool
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_rows: list[tuple[int, str, str]] = field(default_factory=list)
    added: Counter[str] = field(default_factory=Counter)
    by_aid_type: dict[str, Amounts] = field(default_factory=dict)
    by_donor: dict[str, Amounts] = field(default_factory=dict)
    donor_names: dict[str, str] = field(default_factory=dict)
    total: Amounts = field(default_factory=Amounts)
    reader: Reconciliation | None = None

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def matches(self) -> bool:
        return all(a.matches for a in [*self.by_aid_type.values(), *self.by_donor.values()])

    def to_dict(self) -> dict[str, Any]:
        donors = sorted(self.by_donor.items(), key=lambda kv: (-kv[1].kiel_committed, kv[0]))
        return {
            "file": self.file, "sha256": self.sha256, "release": self.release,
            "dry_run": self.dry_run, "rows_read": self.rows_read, "imported": self.imported,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_rows": [{"row": r, "kiel_id": k, "reason": why}
                             for r, k, why in self.skipped_rows],
            "added": dict(sorted(self.added.items())),
            "total": self.total.to_dict(),
            "by_aid_type": {k: v.to_dict() for k, v in sorted(self.by_aid_type.items())},
            "by_donor": {code: {"name": self.donor_names.get(code, code), **a.to_dict()}
                         for code, a in donors},
            "matches": self.matches,
        }


@dataclass
class _Planned:
    record: KielRecord
    item: ItemPlan | str
    quantity: int
    allocated: int
    delivered: int
    row: PledgeRow


def import_kiel(session: Session, *, actor: Actor, path: Path | str,
                layout: KielLayout = RELEASE_7, dry_run: bool = False) -> KielReport:
    """Import a Kiel workbook in one savepoint of the caller's transaction (rolled back on a
    dry run, or when any record cannot be stored)."""
    for permission in (policy.MANAGE_REGISTRY, policy.MANAGE_CATALOG, policy.WRITE_PLEDGES,
                       policy.MANAGE_REQUIREMENTS, policy.ALLOCATE):
        policy.ensure(actor, permission)
    path = Path(path)
    report = KielReport(file=path.name, sha256=file_digest(path), release=layout.release,
                        dry_run=dry_run)
    reader = read_kiel(path, layout)
    items = list(reader)
    report.reader = reader.reconciliation
    report.rows_read = reader.reconciliation.rows_read
    with all_or_nothing(session, dry_run=dry_run):
        _Import(session, actor, layout, report).run(items)
    return report


class _Import:
    def __init__(self, session: Session, actor: Actor, layout: KielLayout,
                 report: KielReport) -> None:
        self.session = session
        self.actor = actor
        self.layout = layout
        self.report = report
        self.reason = f"Kiel Support Tracker release {layout.release} ({report.file})"

    def run(self, items: list[KielRecord | KielSkip]) -> None:
        records = []
        for item in items:
            if isinstance(item, KielSkip):
                self.report.skipped[item.reason.value] += 1
            else:
                records.append(item)
        self._participants(records)
        planned = self._plan(records)
        self._catalog(planned)
        self._pledges(planned)
        self._deliveries(planned)
        self._reconcile(records)

    # --- participants ---------------------------------------------------------------------

    def _participants(self, records: list[KielRecord]) -> None:
        stored = {p.code: p for p in self.session.scalars(select(Participant))}
        facts = states()
        donors = {r.donor_code: r.donor_kind for r in records}
        for code, kind in sorted(donors.items()):
            participant = stored.get(code)
            if participant is None:
                if kind is DonorKind.ORGANISATION:
                    name = next(n for n, (c, _) in ORGANISATIONS.items() if c == code)
                    data = ParticipantCreate(kind=ParticipantKind.ORGANISATION, code=code,
                                             name=ORGANISATIONS[name][1], is_donor=True)
                else:
                    data = self._state(code, facts, donor=True)
                registry_service.create_participant(self.session, actor=self.actor, data=data)
                self.report.added["participants"] += 1
            elif not participant.is_donor:
                registry_service.update_participant(self.session, actor=self.actor, code=code,
                                                    data=ParticipantUpdate(is_donor=True))

    def _state(self, code: str, facts: dict[str, Any], *, donor: bool = False,
               recipient: bool = False) -> ParticipantCreate:
        f = facts[code]
        return ParticipantCreate(
            kind=ParticipantKind.STATE, code=code, name=f.name, nato_member_since=f.nato_since,
            eu_member_since=f.eu_since, eu_member_until=f.eu_until, gdp_usd=f.gdp_usd,
            gdp_year=f.gdp_year, is_donor=donor, is_recipient=recipient)

    # --- what each record becomes ---------------------------------------------------------

    def _plan(self, records: list[KielRecord]) -> list[_Planned]:
        existing = {catalog_map.name_key(name): code for name, code in self.session.execute(
            select(ItemType.name, ItemType.code))}
        planned = []
        for record in records:
            skip = self._skip_reason(record)
            if skip is not None:
                self.report.skipped[skip] += 1
                self.report.skipped_rows.append((record.row, record.kiel_id, skip))
                continue
            if catalog_map.has_units(record):
                item: ItemPlan | str = catalog_map.unit_item(record, existing)
                quantity, allocated, delivered = _units(record)
            else:
                money = catalog_map.money_item(record)
                item = existing.get(catalog_map.name_key(money.name), money)
                quantity, allocated, delivered = _euros(record)
            code = item if isinstance(item, str) else item.code
            announced = record.announced_on or self._fallback_date()
            assert announced is not None
            planned.append(_Planned(record, item, quantity, allocated, delivered, PledgeRow(
                external_id=record.external_id, donor=record.donor_code, item_type=code,
                quantity=quantity, amount=record.value_committed_eur or ZERO, currency="EUR",
                fx_rate_to_eur=ONE, fx_date=announced,
                funding="stock_donation" if record.aid_type is AidType.MILITARY else "other",
                available_from=announced, releasability=Releasability.PUBLIC.value,
                status=PledgeStatus.CONFIRMED.value, announced_on=announced, format=None,
                parent_external_id=None, notes=self._notes(record, quantity))))
        return planned

    def _skip_reason(self, record: KielRecord) -> str | None:
        units = catalog_map.has_units(record)
        if not units and not (record.value_committed_eur or record.value_delivered_eur):
            # Only an amount in the original currency, or nothing to count (CAF6, DEM1).
            return SkipKind.NO_QUANTITY
        if record.announced_on is None and self._fallback_date() is None:
            return SkipKind.NO_DATE
        return None

    def _fallback_date(self) -> dt.date | None:
        # Every record of a release was announced by the end of its coverage.
        return self.layout.coverage[1] if self.layout.coverage else None

    def _notes(self, record: KielRecord, quantity: int) -> str:
        parts = [f"Kiel Support Tracker release {record.release}, {record.kiel_id} "
                 f"(row {record.row}), {record.aid_type.value}"]
        for label, value in (("item", record.item), ("type", record.item_type),
                             ("sub-type", record.item_subtype),
                             ("aid", record.aid_type_specific),
                             ("explanation", record.explanation)):
            if value:
                parts.append(f"{label}: {value}")
        if record.original_amount is not None and record.original_currency:
            parts.append(f"original: {record.original_amount} {record.original_currency}")
        if record.units_committed is not None and record.units_committed != quantity:
            parts.append(f"units in Kiel: {record.units_committed}")
        if record.announced_on is None:
            parts.append(f"announced: {record.announced_text or 'not given'} (date set to the "
                         "end of the release's coverage)")
        parts.extend(f"source: {s}" for s in record.sources[:3])
        return "; ".join(parts)[:2000]

    # --- catalog --------------------------------------------------------------------------

    def _catalog(self, planned: list[_Planned]) -> None:
        categories = set(self.session.scalars(select(Category.code)))
        codes = set(self.session.scalars(select(ItemType.code)))
        made: dict[str, str] = {}
        for plan in planned:
            if isinstance(plan.item, str):
                continue
            item = plan.item
            key = catalog_map.name_key(item.name)
            if key not in made:
                self._ensure_category(item.category, categories)
                code = catalog_map.unique_code(item.code, codes)
                catalog_service.create_item_type(self.session, actor=self.actor,
                                                 data=ItemTypeCreate(
                    code=code, name=item.name, unit=item.unit,
                    unit_value_eur=item.unit_value_eur, capability_area=item.capability_area,
                    compatibility_group=item.compatibility_group, category=item.category.code,
                    soviet_origin=item.soviet_origin,
                    description=f"Added by the Kiel Support Tracker import ({self.reason})."))
                codes.add(code)
                made[key] = code
                self.report.added["item types"] += 1
            plan.row.item_type = made[key]
            plan.item = made[key]

    def _ensure_category(self, category: CategoryPlan, known: set[str]) -> None:
        if category.code in known:
            return
        if category.parent is not None and category.parent not in known:
            name, grandparent = catalog_map.CATEGORIES.get(category.parent,
                                                           (category.parent, None))
            self._ensure_category(CategoryPlan(category.parent, name, grandparent), known)
        catalog_service.create_category(self.session, actor=self.actor, data=CategoryCreate(
            code=category.code, name=category.name, parent=category.parent))
        known.add(category.code)
        self.report.added["categories"] += 1

    # --- pledges --------------------------------------------------------------------------

    def _pledges(self, planned: list[_Planned]) -> None:
        errors = ErrorLimit(100)
        load = PledgeLoad(self.session, actor=self.actor, source=self.report.file,
                          errors=errors, present=_COMPARED,
                          audit_facts={"sha256": self.report.sha256,
                                       "kiel_release": self.layout.release})
        try:
            load.add_all((p.record.row, p.row) for p in planned)
            result = load.finish()
        except BaseException:
            load.abort()
            raise
        if errors:
            raise ImportFailed("kiel", self.report.file, errors.errors,
                               rows_read=self.report.rows_read, stopped_early=errors.full)
        self.report.created, self.report.updated, self.report.unchanged = (
            result.created, result.updated, result.unchanged)

    # --- allocations and deliveries -------------------------------------------------------

    def _deliveries(self, planned: list[_Planned]) -> None:
        wanted = [p for p in planned if p.allocated > 0]
        if not wanted:
            return
        ukr = self._recipient()
        pledges = {p.external_id: p for p in self._stored(p.record.external_id for p in wanted)}
        by_item: dict[int, list[tuple[_Planned, Pledge]]] = defaultdict(list)
        for plan in wanted:
            pledge = pledges[plan.record.external_id]
            by_item[pledge.item_type_id].append((plan, pledge))
        errors: list[RowError] = []
        for item_type_id, group in sorted(by_item.items()):
            requirement = self._requirement(item_type_id, group, ukr)
            for plan, pledge in group:
                problem = self._progress(plan, pledge, requirement)
                if problem:
                    errors.append(RowError(plan.record.row, "delivered", None, problem))
        if errors:
            raise ImportFailed("kiel", self.report.file, errors,
                               rows_read=self.report.rows_read, stopped_early=False)

    def _recipient(self) -> Participant:
        ukr = self.session.scalar(select(Participant).where(Participant.code == RECIPIENT))
        if ukr is None:
            ukr = registry_service.create_participant(
                self.session, actor=self.actor,
                data=self._state(RECIPIENT, states(), recipient=True))
            self.report.added["participants"] += 1
        elif not ukr.is_recipient:
            registry_service.update_participant(self.session, actor=self.actor, code=RECIPIENT,
                                                data=ParticipantUpdate(is_recipient=True))
        return ukr

    def _stored(self, external_ids: Iterable[str]) -> list[Pledge]:
        keys = sorted(set(external_ids))
        found: list[Pledge] = []
        for start in range(0, len(keys), 1000):
            found.extend(self.session.scalars(
                select(Pledge).where(Pledge.external_id.in_(keys[start:start + 1000]))))
        return found

    def _requirement(self, item_type_id: int, group: list[tuple[_Planned, Pledge]],
                     ukr: Participant) -> Requirement:
        """The item type's requirement of Kiel-reported allocations, large enough for all."""
        item = self.session.get_one(ItemType, item_type_id)
        reference = requirement_reference(item.code)
        requirement = self.session.scalar(select(Requirement)
                                          .where(Requirement.reference == reference))
        held = _allocated(self.session, requirement.id) if requirement is not None else {}
        needed = sum(max(plan.allocated, held.get(pledge.id, 0)) for plan, pledge in group)
        needed += sum(q for pledge_id, q in held.items()
                      if pledge_id not in {pledge.id for _, pledge in group})
        if requirement is None:
            requirement = requirement_service.create_requirement(
                self.session, actor=self.actor, data=RequirementCreate(
                    reference=reference, recipient=ukr.code, item_type=item.code,
                    quantity=needed, priority=5,
                    needed_by=self._fallback_date() or max(p.row.announced_on
                                                           for p, _ in group),
                    notes=f"Not a need stated by Ukraine: holds the allocations and deliveries "
                          f"of {item.name} that the Kiel Support Tracker reports, so they "
                          f"count like any other delivery. {self.reason}.",
                    releasability=Releasability.PUBLIC))
            self.report.added["requirements"] += 1
        elif requirement.quantity < needed:
            requirement_service.update_requirement(
                self.session, actor=self.actor, requirement_id=requirement.id,
                data=RequirementUpdate(quantity=needed))
        return requirement

    def _progress(self, plan: _Planned, pledge: Pledge, requirement: Requirement) -> str:
        """Allocate what Kiel reports as allocated and record its delivered part."""
        allocations = list(self.session.scalars(
            select(Allocation).where(Allocation.pledge_id == pledge.id,
                                     Allocation.requirement_id == requirement.id,
                                     Allocation.status == AllocationStatus.ACTIVE)
            .order_by(Allocation.id)))
        have = sum(a.quantity for a in allocations)
        delivered_now = sum(a.quantity_delivered for a in allocations)
        if plan.delivered < delivered_now:
            # Kiel lowered a delivery already recorded; deliveries are never taken back.
            self.report.skipped_rows.append((plan.record.row, plan.record.kiel_id,
                                             f"delivered lowered from {delivered_now} to "
                                             f"{plan.delivered}: kept {delivered_now}"))
            return ""
        try:
            if plan.allocated > have:
                allocations.append(flows.allocate(
                    self.session, actor=self.actor, pledge_id=pledge.id,
                    requirement_id=requirement.id, quantity=plan.allocated - have,
                    note=self.reason))
                self.report.added["allocations"] += 1
            remaining = plan.delivered
            for allocation in allocations:
                part = min(allocation.quantity, remaining)
                remaining -= part
                if part > allocation.quantity_delivered:
                    # Kiel reports deliveries, not shipments: shipped and delivered together.
                    flows.apply_progress(self.session, actor=self.actor,
                                         allocation_id=allocation.id,
                                         shipped=max(part, allocation.quantity_shipped),
                                         delivered=part, reason=self.reason)
                    self.report.added["deliveries"] += 1
        except DomainError as exc:
            return f"cannot record Kiel's allocation or delivery: {exc.detail}"
        return ""

    # --- reconciliation -------------------------------------------------------------------

    def _reconcile(self, records: list[KielRecord]) -> None:
        stored = {p.external_id: p for p in self._stored(r.external_id for r in records)}
        report = self.report
        for record in records:
            pledge = stored.get(record.external_id)
            for amounts in (report.by_aid_type.setdefault(record.aid_type.value, Amounts()),
                            report.by_donor.setdefault(record.donor_code, Amounts()),
                            report.total):
                amounts.rows += 1
                amounts.kiel_committed += record.value_committed_eur or ZERO
                amounts.kiel_delivered += record.value_delivered_eur or ZERO
                if pledge is not None:
                    amounts.imported_committed += from_cents(pledge.value_eur_cents)
                    amounts.imported_delivered += from_cents(
                        pledge.value_eur_cents * pledge.quantity_delivered // pledge.quantity)
            report.donor_names.setdefault(record.donor_code, record.donor_name)


def requirement_reference(item_code: str) -> str:
    """`KIEL-<item code>`, shortened with a digest when the code is long (40 characters)."""
    reference = f"KIEL-{item_code}"
    if len(reference) <= 40:
        return reference
    digest = hashlib.sha256(item_code.encode()).hexdigest()[:8]
    return f"KIEL-{item_code[:26]}-{digest}"


def _allocated(session: Session, requirement_id: int) -> dict[int, int]:
    """Active allocated quantity per pledge on one requirement."""
    held: dict[int, int] = defaultdict(int)
    for pledge_id, quantity in session.execute(
            select(Allocation.pledge_id, Allocation.quantity).where(
                Allocation.requirement_id == requirement_id,
                Allocation.status == AllocationStatus.ACTIVE)):
        held[pledge_id] += quantity
    return held


def _whole(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def _units(record: KielRecord) -> tuple[int, int, int]:
    """(quantity, allocated, delivered) of a record counted in units.

    Units may be fractional (tons) and are rounded; a pledge has at least one. A record that
    gives a delivered value but no delivered units delivers the same share of its units.
    """
    committed = record.units_committed or ZERO
    delivered = record.units_delivered
    if delivered is None:
        delivered = _share(committed, record.value_delivered_eur, record.value_committed_eur)
    allocated = record.units_allocated
    if allocated is None:
        allocated = _share(committed, record.value_allocated_eur, record.value_committed_eur)
    quantity = max(_whole(max(committed, delivered, allocated)), 1)
    delivered_units = min(_whole(delivered), quantity)
    allocated_units = min(max(_whole(allocated), delivered_units), quantity)
    return quantity, allocated_units, delivered_units


def _share(units: Decimal, part: Decimal | None, whole: Decimal | None) -> Decimal:
    if not part or not whole or whole <= 0:
        return ZERO
    return (units * min(part, whole) / whole).quantize(ONE, rounding=ROUND_FLOOR)


def _euros(record: KielRecord) -> tuple[int, int, int]:
    """(quantity, allocated, delivered) in whole euros for a record that is only a value."""
    committed = record.value_committed_eur or ZERO
    delivered = record.value_delivered_eur or ZERO
    allocated = record.value_allocated_eur or ZERO
    quantity = max(_whole(max(committed, delivered, allocated)), 1)
    delivered_eur = min(_whole(delivered), quantity)
    return quantity, min(max(_whole(allocated), delivered_eur), quantity), delivered_eur


