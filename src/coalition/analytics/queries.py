"""The SQL behind the reports: GROUP BY over the pledges an actor may see, nothing else.

Every statement starts from `pledges.service.filtered_query`, so an aggregate never includes a
row its reader could not list; joint-fund pairs are cut to one side by `scope` (see `View`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from coalition.access.actor import Actor
from coalition.access.visibility import visibility_clause, visible
from coalition.analytics.schemas import ReportFilter, View
from coalition.catalog.models import CapabilityArea, Category, ItemType
from coalition.logistics.models import DeliveryEvent, EventKind, Shipment, ShipmentLine
from coalition.meetings.models import Meeting, MeetingAnnouncement
from coalition.pledges import service as pledge_service
from coalition.pledges.models import (
    Allocation,
    FundingMechanism,
    Pledge,
    PledgeStatus,
    PledgeTransition,
)
from coalition.registry.models import Participant, ParticipantKind

# Withdrawn and cancelled pledges are no longer promised: left out unless asked for.
NOT_STANDING = (PledgeStatus.WITHDRAWN, PledgeStatus.CANCELLED)
CONFIRMED_OR_BEYOND = (PledgeStatus.CONFIRMED, PledgeStatus.ALLOCATED, PledgeStatus.SHIPPED,
                       PledgeStatus.DELIVERED)


def scope(session: Session, *, actor: Actor, filters: ReportFilter, view: View
          ) -> Select[Any]:
    """The visible, standing pledges a report counts, with one side of each joint-fund pair."""
    stmt: Select[Any] = pledge_service.filtered_query(session, actor=actor,
                                                      filters=filters.pledge_filter())
    left_out = (FundingMechanism.JOINT_FUND_PURCHASE if view is View.DONOR
                else FundingMechanism.JOINT_FUND_CONTRIBUTION)
    stmt = stmt.where(Pledge.funding != left_out)
    if not filters.include_withdrawn:
        stmt = stmt.where(Pledge.status.not_in(NOT_STANDING))
    return stmt


def delivered_value() -> ColumnElement[int]:
    """value x delivered / quantity in integers, rounded down, without overflowing 64 bits.

    floor(v*d/q) = (v div q)*d + ((v mod q)*d) div q for v, d >= 0 and q > 0; the second product
    stays below q², where v*d itself could pass 2^63 for large fund contributions.
    """
    v, q, d = Pledge.value_eur_cents, Pledge.quantity, Pledge.quantity_delivered
    return (v // q) * d + ((v % q) * d) // q


def confirmed_value() -> ColumnElement[int]:
    return case((Pledge.status.in_(CONFIRMED_OR_BEYOND), Pledge.value_eur_cents), else_=0)


def confirmed_quantity() -> ColumnElement[int]:
    return case((Pledge.status.in_(CONFIRMED_OR_BEYOND), Pledge.quantity), else_=0)


def scanned(session: Session, column: Any) -> ColumnElement[int]:
    """An integer column the planner may not walk an index of.

    Grouping or joining on an indexed column tempts SQLite to follow the index and fetch every
    (wide) pledge row at random through its small page cache, about twice the work of one
    scan in table order plus a sort; `+ 0` leaves only the scan. PostgreSQL hashes either way,
    so it gets the plain column.
    """
    if session.get_bind().dialect.name == "sqlite":
        return column + 0  # type: ignore[no-any-return]
    return column  # type: ignore[no-any-return]


def _int(value: Any) -> int:
    """SUM over BIGINT is NUMERIC on PostgreSQL (a Decimal here) and NULL over no rows."""
    return 0 if value is None else int(value)


@dataclass(frozen=True)
class DonorTotal:
    donor_id: int
    code: str
    name: str
    kind: ParticipantKind
    gdp_usd: int | None
    gdp_year: int | None
    pledges: int
    value_eur_cents: int


def donor_totals(session: Session, stmt: Select[Any]) -> list[DonorTotal]:
    donor = scanned(session, Pledge.donor_id).label("donor_id")
    agg = (stmt.with_only_columns(donor, func.count().label("n"),
                                  func.sum(Pledge.value_eur_cents).label("v"))
           .group_by(donor).subquery())
    rows = session.execute(
        select(Participant.id, Participant.code, Participant.name, Participant.kind,
               Participant.gdp_usd, Participant.gdp_year, agg.c.n, agg.c.v)
        .join(agg, agg.c.donor_id == Participant.id))
    return [DonorTotal(r[0], r[1], r[2], r[3], r[4], r[5], _int(r[6]), _int(r[7])) for r in rows]


@dataclass(frozen=True)
class GroupTotal:
    key: Any
    pledges: int
    quantity: int
    value_eur_cents: int


def _item_join(session: Session, stmt: Select[Any], *columns: Any) -> Select[Any]:
    return stmt.with_only_columns(*columns).join_from(
        Pledge, ItemType, scanned(session, Pledge.item_type_id) == ItemType.id)


def _group_totals(session: Session, stmt: Select[Any], key: Any) -> list[GroupTotal]:
    rows = session.execute(
        _item_join(session, stmt, key, func.count(), func.sum(Pledge.quantity),
                   func.sum(Pledge.value_eur_cents)).group_by(key))
    return [GroupTotal(r[0], _int(r[1]), _int(r[2]), _int(r[3])) for r in rows]


def category_totals(session: Session, stmt: Select[Any]) -> list[GroupTotal]:
    """Totals per category the item types are filed in (roll-up to parents is the caller's)."""
    return _group_totals(session, stmt, scanned(session, ItemType.category_id))


def area_totals(session: Session, stmt: Select[Any]) -> list[GroupTotal]:
    return _group_totals(session, stmt, ItemType.capability_area)


@dataclass(frozen=True)
class CategoryNode:
    id: int
    code: str
    name: str
    parent_id: int | None


def category_tree(session: Session) -> list[CategoryNode]:
    """The catalog is not labelled: everyone may see the whole tree."""
    return [CategoryNode(*r) for r in session.execute(
        select(Category.id, Category.code, Category.name, Category.parent_id))]


@dataclass(frozen=True)
class PeriodTotal:
    key: Any
    label: str
    starts_on: dt.date | None
    pledges: int
    pledged: int
    confirmed: int
    delivered: int


def _period_sums() -> list[Any]:
    return [func.count(), func.sum(Pledge.value_eur_cents), func.sum(confirmed_value()),
            func.sum(delivered_value())]


def month_totals(session: Session, stmt: Select[Any]) -> list[PeriodTotal]:
    """Per month announced. SQLite stores dates as ISO text, so the month is a prefix; on
    PostgreSQL, grouping by the day first and formatting the ~1,600 days afterwards costs far
    less than to_char() on every row."""
    postgres = session.get_bind().dialect.name == "postgresql"
    key: Any = Pledge.announced_on if postgres else func.substr(Pledge.announced_on, 1, 7)
    inner = (stmt.with_only_columns(key.label("k"), *(s.label(f"s{i}") for i, s
                                                       in enumerate(_period_sums())))
             .group_by(key).subquery())
    month = (func.to_char(inner.c.k, "YYYY-MM") if postgres else inner.c.k).label("month")
    rows = session.execute(select(month, *(func.sum(inner.c[f"s{i}"]) for i in range(4)))
                           .group_by(month).order_by(month))
    out = []
    for key, n, pledged, confirmed, delivered in rows:
        first = dt.date.fromisoformat(f"{key}-01")
        out.append(PeriodTotal(first.strftime("%Y-%m"), first.strftime("%b %Y"), first, _int(n),
                               _int(pledged), _int(confirmed), _int(delivered)))
    return out


def meeting_totals(session: Session, stmt: Select[Any], *, actor: Actor) -> list[PeriodTotal]:
    """Per meeting the pledges were announced at; a meeting the actor may not see counts as
    none, so its existence does not leak through a report."""
    seen = and_(Meeting.id == MeetingAnnouncement.meeting_id,
                visibility_clause(actor, Meeting))
    rows = session.execute(
        stmt.with_only_columns(Meeting.id, Meeting.title, Meeting.held_on, *_period_sums())
        .outerjoin(MeetingAnnouncement, MeetingAnnouncement.pledge_id == Pledge.id)
        .outerjoin(Meeting, seen)
        .group_by(Meeting.id, Meeting.title, Meeting.held_on))
    out = [PeriodTotal(meeting_id, title or "", held_on, _int(n), _int(p), _int(c), _int(d))
           for meeting_id, title, held_on, n, p, c, d in rows]
    return sorted(out, key=lambda t: (t.starts_on is None, t.starts_on or dt.date.min, t.key or 0))


@dataclass(frozen=True)
class SupplierTotal:
    area: CapabilityArea
    supplier_id: int
    supplier: str
    value_eur_cents: int


def supplier_totals(session: Session, stmt: Select[Any], *, actor: Actor
                    ) -> list[SupplierTotal]:
    """Value per capability area and the donor who paid for it.

    A joint-fund purchase counts for the nation whose contribution paid for it (when the reader
    may see that contribution), otherwise for the fund: dependence is on who pays. The few
    parents are looked up by id afterwards, so the scan of the pledges joins nothing but the
    catalog.
    """
    keys = (ItemType.capability_area, scanned(session, Pledge.donor_id),
            scanned(session, Pledge.parent_pledge_id))
    rows = session.execute(
        _item_join(session, stmt, *keys, func.sum(Pledge.value_eur_cents)).group_by(*keys)).all()
    parent_ids = sorted({r[2] for r in rows if r[2] is not None})
    payer: dict[int, int] = {}
    if parent_ids:
        parents = (visible(select(Pledge.id), actor, Pledge).add_columns(Pledge.donor_id)
                   .where(Pledge.id.in_(parent_ids),
                          Pledge.funding == FundingMechanism.JOINT_FUND_CONTRIBUTION))
        payer = {r[0]: r[1] for r in session.execute(parents)}
    sums: dict[tuple[CapabilityArea, int], int] = defaultdict(int)
    for area, donor_id, parent_id, value in rows:
        supplier = payer.get(parent_id, donor_id) if parent_id is not None else donor_id
        sums[CapabilityArea(area), supplier] += _int(value)
    codes = {r[0]: r[1] for r in session.execute(
        select(Participant.id, Participant.code).where(Participant.id.in_({k[1] for k in sums})))}
    return [SupplierTotal(area, supplier, codes[supplier], value)
            for (area, supplier), value in sums.items()]


@dataclass(frozen=True)
class PipelineTotal:
    area: CapabilityArea
    pledges: int
    pledged: int
    confirmed: int
    delivered: int
    pledged_quantity: int
    confirmed_quantity: int
    delivered_quantity: int


def pipeline_totals(session: Session, stmt: Select[Any]) -> list[PipelineTotal]:
    rows = session.execute(
        _item_join(session, stmt, ItemType.capability_area, func.count(),
                   func.sum(Pledge.value_eur_cents), func.sum(confirmed_value()),
                   func.sum(delivered_value()), func.sum(Pledge.quantity),
                   func.sum(confirmed_quantity()), func.sum(Pledge.quantity_delivered))
        .group_by(ItemType.capability_area))
    return [PipelineTotal(CapabilityArea(r[0]), *(_int(v) for v in r[1:])) for r in rows]


def delivered_at(actor: Actor) -> ColumnElement[dt.datetime]:
    """When a delivered pledge arrived in full: the last `received` logistics event of its
    allocations (on shipments the actor may see), else the time of its 'delivered' transition.

    The transition is written when delivery is recorded, which for events reported late (or for
    pledges delivered without shipments in Coalition) is later than the goods arrived.
    """
    received = (select(func.max(DeliveryEvent.occurred_at))
                .select_from(Allocation)
                .join(ShipmentLine, ShipmentLine.allocation_id == Allocation.id)
                .join(Shipment, and_(Shipment.id == ShipmentLine.shipment_id,
                                     visibility_clause(actor, Shipment)))
                .join(DeliveryEvent, and_(DeliveryEvent.shipment_id == Shipment.id,
                                          DeliveryEvent.allocation_id == Allocation.id,
                                          DeliveryEvent.kind == EventKind.RECEIVED))
                .where(Allocation.pledge_id == Pledge.id)
                .correlate(Pledge).scalar_subquery())
    return func.coalesce(received, PledgeTransition.at)


def _days_to_delivery(session: Session, at: ColumnElement[dt.datetime]) -> ColumnElement[int]:
    """Whole days from announcement to the UTC day of `at`."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(cast(func.timezone("UTC", at), Date) - Pledge.announced_on, Integer)
    # SQLite keeps naive UTC text; julianday() of two dates differs by whole days.
    return cast(func.julianday(func.date(at)) - func.julianday(Pledge.announced_on), Integer)


@dataclass(frozen=True)
class DeliveryDelay:
    area: CapabilityArea | None
    delivered_pledges: int
    median_days: Decimal | None


def median_of_counts(counts: dict[int, int]) -> Decimal | None:
    """The median of values given as {value: how many}: the mean of the middle one or two."""
    n = sum(counts.values())
    if n == 0:
        return None
    wanted = {(n - 1) // 2, n // 2}
    picked: list[int] = []
    seen = 0
    for value in sorted(counts):
        for index in sorted(wanted):
            if seen <= index < seen + counts[value]:
                picked.append(value)
        seen += counts[value]
    return (Decimal(sum(picked)) / len(picked)).quantize(Decimal("0.1"))


def delivery_medians(session: Session, stmt: Select[Any], *, actor: Actor
                     ) -> list[DeliveryDelay]:
    """Median days from announcement to delivery, per capability area and overall (area None).

    SQL counts pledges per (area, days) over the delivered pledges only (status is indexed and
    'delivered' is final, so exactly those have a 'delivered' transition); the medians are read
    off those counts. Delivery times: `delivered_at`.
    """
    days = _days_to_delivery(session, delivered_at(actor))
    rows = session.execute(
        _item_join(session, stmt, ItemType.capability_area, days, func.count())
        .join(PledgeTransition, and_(PledgeTransition.pledge_id == Pledge.id,
                                     PledgeTransition.to_status == PledgeStatus.DELIVERED))
        .where(Pledge.status == PledgeStatus.DELIVERED)
        .group_by(ItemType.capability_area, days))
    by_area: dict[CapabilityArea | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for area, d, n in rows:
        for key in (CapabilityArea(area), None):
            by_area[key][int(d)] += int(n)
    return [DeliveryDelay(area, sum(counts.values()), median_of_counts(counts))
            for area, counts in by_area.items()]
