"""Bulk ingest of delivery events: derived state, idempotency, atomic batches, rollups."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.models import AuditEntry
from coalition.errors import Forbidden, ValidationFailed
from coalition.logistics import ingest, queries
from coalition.logistics.models import (
    DeliveryEvent,
    EventBatch,
    Shipment,
    ShipmentStatus,
)
from coalition.pledges import flows
from coalition.pledges.models import Allocation, Pledge, PledgeStatus, PledgeTransition
from coalition.requirements.models import Requirement
from tests.factories import World
from tests.service.logistics import kit


@pytest.fixture
def sites(world: World, session: Session) -> None:
    kit.make_sites(session)


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_journey_delivers_and_rolls_up(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    audit_before = _count(session, AuditEntry)
    result = ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-1", a.id, 100))
    assert (result.inserted, result.duplicates, result.shipments_touched) == (6, 0, 1)
    assert (result.allocations_changed, result.pledge_transitions) == (1, 2)
    assert _count(session, AuditEntry) == audit_before + 1
    session.refresh(s)
    assert (s.status, s.event_count) == (ShipmentStatus.RECEIVED, 6)
    pledge = session.get_one(Pledge, a.pledge_id)
    assert (pledge.quantity_shipped, pledge.quantity_delivered) == (100, 100)
    assert pledge.status is PledgeStatus.DELIVERED
    need = session.get_one(Requirement, a.requirement_id)
    assert (need.quantity_in_transit, need.quantity_delivered) == (0, 100)
    assert ingest.batch_digest(session, batch_id=result.batch_id) == result.digest


def test_in_transit_counts_shipped_not_delivered(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    s = kit.shipment(session, "SHP-1", [(a, 60)])
    ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-1", a.id, 60)[:4])
    pledge = session.get_one(Pledge, a.pledge_id)
    assert (pledge.quantity_shipped, pledge.quantity_delivered, pledge.status) == (
        60, 0, PledgeStatus.ALLOCATED)
    need = session.get_one(Requirement, a.requirement_id)
    assert (need.quantity_in_transit, need.quantity_delivered) == (60, 0)
    assert session.get_one(Shipment, s.id).status is ShipmentStatus.IN_TRANSIT


def test_partial_receipts_add_up(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)[:5]
    rows.append(kit.event("R-1", "SHP-1", "received", 40, allocation_id=a.id,
                          quantity_received=30))
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    session.refresh(s)
    assert s.status is ShipmentStatus.PARTIALLY_RECEIVED
    pledge = session.get_one(Pledge, a.pledge_id)
    assert (pledge.quantity_delivered, pledge.status) == (30, PledgeStatus.SHIPPED)
    ingest.ingest_events(session, actor=SYSTEM, rows=[
        kit.event("R-2", "SHP-1", "received", 50, allocation_id=a.id, quantity_received=70)])
    session.refresh(pledge)
    assert session.get_one(Shipment, s.id).status is ShipmentStatus.RECEIVED
    assert (pledge.quantity_delivered, pledge.status) == (100, PledgeStatus.DELIVERED)
    assert [t.to_status for t in session.scalars(
        select(PledgeTransition).where(PledgeTransition.pledge_id == pledge.id)
        .order_by(PledgeTransition.id))][-2:] == [PledgeStatus.SHIPPED, PledgeStatus.DELIVERED]


def test_damaged_and_missing_are_not_delivered_and_listed(sites: None,
                                                          session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    b = kit.allocation(session, quantity=20)
    s = kit.shipment(session, "SHP-1", [(a, 100), (b, 20)])
    rows = kit.journey("SHP-1", a.id, 90)
    rows.append(kit.event("R-1", "SHP-1", "received", 41, allocation_id=a.id,
                          quantity_damaged=4, quantity_missing=6))
    rows.append(kit.event("R-2", "SHP-1", "received", 42, allocation_id=b.id,
                          quantity_received=20))
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    shipment = session.get_one(Shipment, s.id)
    assert shipment.status is ShipmentStatus.RECEIVED
    pledge = session.get_one(Pledge, a.pledge_id)
    assert (pledge.quantity_shipped, pledge.quantity_delivered, pledge.status) == (
        100, 90, PledgeStatus.SHIPPED)
    [gap] = queries.discrepancies(session, actor=SYSTEM)
    assert (gap.allocation_id, gap.sent, gap.received, gap.damaged, gap.missing,
            gap.unaccounted) == (a.id, 100, 90, 4, 6, 0)


def test_more_reported_than_sent_is_a_discrepancy_not_an_error(sites: None,
                                                               session: Session) -> None:
    a = kit.allocation(session, quantity=10)
    kit.shipment(session, "SHP-1", [(a, 10)])
    rows = kit.journey("SHP-1", a.id, 10)
    rows.append(kit.event("R-1", "SHP-1", "received", 45, allocation_id=a.id,
                          quantity_received=3))
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    [gap] = queries.discrepancies(session, actor=SYSTEM)
    assert (gap.received, gap.unaccounted) == (13, -3)
    assert session.get_one(Pledge, a.pledge_id).quantity_delivered == 10


def test_resending_a_batch_changes_nothing(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    before = kit.snapshot(session)
    again = ingest.ingest_events(session, actor=SYSTEM, rows=[*rows, rows[0]])
    assert (again.inserted, again.duplicates, again.shipments_touched) == (0, 7, 0)
    assert kit.snapshot(session) == before
    assert _count(session, DeliveryEvent) == 6


def test_same_id_with_other_content_is_refused(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-1", a.id, 100)[:2])
    changed = kit.event("SHP-1-2", "SHP-1", "dispatched", 3)
    fresh = kit.event("NEW-1", "SHP-1", "handed_over", 30)
    before = kit.snapshot(session)
    with pytest.raises(ValidationFailed, match="already recorded with different content") as e:
        ingest.ingest_events(session, actor=SYSTEM, rows=[fresh, changed])
    assert (e.value.errors[0].row, e.value.errors[0].field) == (2, "external_id")
    assert kit.snapshot(session) == before
    assert _count(session, DeliveryEvent) == 2
    with pytest.raises(ValidationFailed, match="repeats row 1 with different content"):
        ingest.ingest_events(session, actor=SYSTEM, rows=[fresh, {**fresh, "occurred_at":
                                                                  "2024-07-02T00:00:00Z"}])


def test_one_bad_row_and_the_batch_changes_nothing(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)
    rows[3]["hub"] = "DEU-RMS"
    before = kit.snapshot(session)
    audit_before = _count(session, AuditEntry)
    with pytest.raises(ValidationFailed) as caught:
        ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    [error] = caught.value.errors
    assert (error.row, error.field, error.value) == (4, "hub", "DEU-RMS")
    assert "not on the route of shipment SHP-1" in error.message
    assert "nothing was recorded" in caught.value.detail
    assert kit.snapshot(session) == before
    assert (_count(session, DeliveryEvent), _count(session, EventBatch)) == (0, 0)
    assert _count(session, AuditEntry) == audit_before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "teleported"}, "kind", "Input should be"),
        ({"occurred_at": "yesterday"}, "occurred_at", "not an ISO 8601"),
        ({"occurred_at": "2024-07-01T10:00:00"}, "occurred_at", "needs a UTC offset"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at", "in the future"),
        ({"shipment": "SHP-404"}, "shipment", "no such shipment"),
        ({"quantity_received": -1}, "quantity_received", "greater than or equal to 0"),
        ({"quantity_received": 101}, "quantity_received", "reports 101 of a line of 100"),
        ({"quantity_received": 0}, "quantity_received", "reports a quantity"),
        ({"allocation_id": None}, "allocation_id", "required for received"),
        ({"allocation_id": 999}, "allocation_id", "not a line of shipment SHP-1"),
        ({"hub": "POL-RZE"}, "hub", "only arrived_at_hub and departed_hub"),
        ({"source": None}, "source", "required"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"external_id": "a\nb"}, "external_id", "should match pattern"),
        ({"note": "a\x00b"}, "note", "should match pattern"),
        ({"source": "\x00"}, "source", "should match pattern"),
    ],
)
def test_bad_rows_are_reported_by_row_and_field(sites: None, session: Session,
                                                change: dict[str, Any], field: str,
                                                message: str) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)
    rows[5] = {**rows[5], **change}
    with pytest.raises(ValidationFailed) as caught:
        ingest.ingest_events(session, actor=SYSTEM, rows=rows, row_numbers=range(2, 8))
    [error] = caught.value.errors
    assert (error.row, error.field) == (7, field)
    assert message in error.message
    assert _count(session, DeliveryEvent) == 0


def test_a_padded_reference_names_its_shipment_alone_or_not(sites: None,
                                                            session: Session) -> None:
    """Validation strips text; the shipments are looked up by what it keeps."""
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)
    result = ingest.ingest_events(session, actor=SYSTEM,
                                  rows=[{**rows[0], "shipment": " SHP-1\t"}])
    assert result.inserted == 1
    stored = session.scalars(select(DeliveryEvent)).one()
    assert stored.shipment_id == session.scalar(select(Shipment.id))


def test_batch_source_is_the_default(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    kit.shipment(session, "SHP-1", [(a, 100)])
    row = kit.event("E-1", "SHP-1", "dispatched", 1)
    del row["source"]
    ingest.ingest_events(session, actor=SYSTEM, rows=[row], source="LOGFAS")
    assert session.get_one(DeliveryEvent, "E-1").source == "LOGFAS"


def test_hub_events_track_position(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    s = kit.shipment(session, "SHP-1", [(a, 100)], via=("POL-RZE", "DEU-RMS"))
    ingest.ingest_events(session, actor=SYSTEM, rows=[
        kit.event("E-1", "SHP-1", "dispatched", 1),
        kit.event("E-3", "SHP-1", "arrived_at_hub", 20, hub="DEU-RMS"),
        kit.event("E-2", "SHP-1", "departed_hub", 10, hub="POL-RZE")])
    session.refresh(s)
    assert (s.status, s.position_event) == (ShipmentStatus.AT_HUB, "E-3")
    assert s.position_site_id == s.legs[1].to_site_id


def test_cancelled_shipment_takes_no_more_movement(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    ingest.ingest_events(session, actor=SYSTEM, rows=[kit.event("C", "SHP-1", "cancelled", 1)])
    session.refresh(s)
    assert s.status is ShipmentStatus.CANCELLED
    with pytest.raises(ValidationFailed, match="was cancelled; plan a new shipment"):
        ingest.ingest_events(session, actor=SYSTEM,
                             rows=[kit.event("D", "SHP-1", "dispatched", 2)])


def test_cancellation_after_movement_does_not_unship(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    ingest.ingest_events(session, actor=SYSTEM, rows=[
        kit.event("D", "SHP-1", "dispatched", 1), kit.event("C", "SHP-1", "cancelled", 2)])
    session.refresh(s)
    assert s.status is ShipmentStatus.DISPATCHED
    assert session.get_one(Allocation, a.id).quantity_shipped == 100


def test_who_may_record_events(world: World, sites: None, session: Session) -> None:
    a = kit.allocation(session, donor="POL")
    kit.shipment(session, "SHP-1", [(a, 100)])
    row = kit.event("E-1", "SHP-1", "dispatched", 1)
    with pytest.raises(ValidationFailed, match="only the secretariat, the donor and the "
                                               "recipient"):
        ingest.ingest_events(session, actor=world.actor("deu"), rows=[row])
    with pytest.raises(Forbidden):
        ingest.ingest_events(session, actor=world.actor("observer"), rows=[row])
    assert ingest.ingest_events(session, actor=world.actor("pol"), rows=[row]).inserted == 1
    coord = world.actor("coord")  # sees UDCG's records as a member, runs another format
    other_secretariat = dataclasses.replace(coord, coordinated_format_ids=frozenset({-1}),
                                            member_format_ids=coord.coordinated_format_ids)
    with pytest.raises(ValidationFailed, match="only the secretariat"):
        ingest.ingest_events(session, actor=other_secretariat, rows=[row])
    received = kit.event("E-2", "SHP-1", "received", 2, allocation_id=a.id,
                         quantity_received=100)
    assert ingest.ingest_events(session, actor=world.actor("ukr"), rows=[received]).inserted


def test_event_for_cancelled_allocation_is_refused(sites: None, session: Session) -> None:
    a = kit.allocation(session)
    kit.shipment(session, "SHP-1", [(a, 100)])
    flows.cancel_allocation(session, actor=SYSTEM, allocation_id=a.id, reason="test")
    with pytest.raises(ValidationFailed, match="cancelled allocation"):
        ingest.ingest_events(session, actor=SYSTEM,
                             rows=[kit.event("E-1", "SHP-1", "dispatched", 1)])


def test_rollup_matches_apply_progress(sites: None, session: Session) -> None:
    """The bulk rollup moves counters, statuses and history exactly as apply_progress does."""
    by_events = [kit.allocation(session, quantity=q, pledge_quantity=p)
                 for q, p in ((100, 100), (50, 80), (30, 30))]
    by_hand = [kit.allocation(session, quantity=q, pledge_quantity=p)
               for q, p in ((100, 100), (50, 80), (30, 30))]
    plan = [(100, 100), (50, 20), (30, 0)]  # (shipped, delivered)
    for n, (a, (shipped, delivered)) in enumerate(zip(by_events, plan, strict=True)):
        kit.shipment(session, f"SHP-{n}", [(a, shipped)])
        rows = kit.journey(f"SHP-{n}", a.id, delivered)[:5]
        if delivered:
            rows.append(kit.event(f"SHP-{n}-R", f"SHP-{n}", "received", 40,
                                  allocation_id=a.id, quantity_received=delivered))
        ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    for a, (shipped, delivered) in zip(by_hand, plan, strict=True):
        flows.apply_progress(session, actor=SYSTEM, allocation_id=a.id, shipped=shipped,
                             delivered=delivered, reason="by hand")
    session.expire_all()

    def state(a: Allocation) -> tuple[object, ...]:
        p = session.get_one(Pledge, a.pledge_id)
        r = session.get_one(Requirement, a.requirement_id)
        history = [t.to_status for t in session.scalars(select(PledgeTransition).where(
            PledgeTransition.pledge_id == p.id).order_by(PledgeTransition.id))]
        allocation = session.get_one(Allocation, a.id)
        return (allocation.quantity_shipped, allocation.quantity_delivered, p.status,
                p.quantity_shipped, p.quantity_delivered, r.quantity_in_transit,
                r.quantity_delivered, r.status, history)

    assert [state(a) for a in by_events] == [state(a) for a in by_hand]


def test_rebuild_repairs_a_hand_edited_state(world: World, sites: None,
                                             session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-1", a.id, 100))
    good = kit.snapshot(session)
    assert ingest.rebuild(session, actor=SYSTEM, shipment_ids=[s.id]) == 0
    session.execute(update(Shipment).values(status=ShipmentStatus.PLANNED, event_count=1))
    assert ingest.rebuild(session, actor=SYSTEM, shipment_ids=[s.id]) == 1
    assert kit.snapshot(session) == good
    with pytest.raises(Forbidden):
        ingest.rebuild(session, actor=world.actor("coord"), shipment_ids=[s.id])


def _journeys(session: Session) -> list[dict[str, Any]]:
    """Two shipments (one split over two lines), every kind of event, some partial."""
    a = kit.allocation(session, quantity=100)
    b = kit.allocation(session, quantity=50)
    c = kit.allocation(session, quantity=30, donor="DEU")
    kit.shipment(session, "SHP-A", [(a, 60), (b, 50)], via=("POL-RZE", "DEU-RMS"))
    kit.shipment(session, "SHP-B", [(c, 30)], origin="DEU-BER", via=("DEU-RMS",))
    kit.shipment(session, "SHP-C", [(a, 40)])
    return [
        *kit.journey("SHP-A", a.id, 55)[:-1],
        kit.event("SHP-A-7", "SHP-A", "arrived_at_hub", 12, hub="DEU-RMS"),
        kit.event("SHP-A-8", "SHP-A", "departed_hub", 15, hub="DEU-RMS"),
        kit.event("SHP-A-R1", "SHP-A", "received", 40, allocation_id=a.id,
                  quantity_received=55, quantity_damaged=5),
        kit.event("SHP-A-R2", "SHP-A", "received", 41, allocation_id=b.id,
                  quantity_received=20),
        kit.event("SHP-A-R3", "SHP-A", "received", 49, allocation_id=b.id,
                  quantity_received=29, quantity_missing=1),
        *kit.journey("SHP-B", c.id, 30, hub="DEU-RMS"),
        kit.event("SHP-C-1", "SHP-C", "dispatched", 3),
        kit.event("SHP-C-2", "SHP-C", "arrived_at_hub", 9, hub="POL-RZE"),
        kit.event("SHP-C-3", "SHP-C", "arrived_at_hub", 9, hub="POL-RZE"),
    ]


def test_out_of_order_batched_and_resent_events_give_the_ordered_state(
        sites: None, session: Session) -> None:
    """Any arrival order, any batching, any resends: the state of the ordered single batch,
    and what a replay from scratch gives."""
    events = _journeys(session)
    session.flush()
    ordered = sorted(events, key=lambda e: (e["occurred_at"], e["external_id"]))
    with session.begin_nested() as outer:
        ingest.ingest_events(session, actor=SYSTEM, rows=ordered)
        expected = kit.snapshot(session)
        outer.rollback()

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(order=st.permutations(events), resent=st.lists(st.sampled_from(events), max_size=8),
           cuts=st.lists(st.integers(1, len(events) - 1), max_size=4))
    def arrive(order: list[dict[str, Any]], resent: list[dict[str, Any]],
               cuts: list[int]) -> None:
        stream = order + resent
        bounds = [0, *sorted(set(cuts)), len(stream)]
        with session.begin_nested() as example:
            for start, end in itertools.pairwise(bounds):
                ingest.ingest_events(session, actor=SYSTEM, rows=stream[start:end])
            assert kit.snapshot(session) == expected
            shipments = list(session.scalars(select(Shipment.id)))
            assert ingest.rebuild(session, actor=SYSTEM, shipment_ids=shipments) == 0
            example.rollback()

    arrive()


def test_journeys_fixture_is_consistent(sites: None, session: Session) -> None:
    rows = _journeys(session)
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    a, b, c = session.scalars(select(Allocation).order_by(Allocation.id)).all()
    assert (a.quantity_shipped, a.quantity_delivered) == (100, 55)
    assert (b.quantity_shipped, b.quantity_delivered) == (50, 49)
    assert (c.quantity_shipped, c.quantity_delivered) == (30, 30)
    statuses = dict(session.execute(select(Shipment.reference, Shipment.status)).all())
    assert statuses == {"SHP-A": ShipmentStatus.RECEIVED, "SHP-B": ShipmentStatus.RECEIVED,
                        "SHP-C": ShipmentStatus.AT_HUB}
    assert dt.datetime.fromisoformat(rows[0]["occurred_at"]) == kit.T0


def test_clean_batch_column_path_matches_the_row_path(sites: None, session: Session,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean batch is checked and stored column by column; the row-by-row path (taken by
    batches that need error reports) stores and derives exactly the same."""
    rows = _journeys(session)
    rows[0] = {**rows[0], "note": 'tab\there, "quoted", back\\slash\nnew line, comma,',
               "occurred_at": "2024-07-01T10:00:00.250000+02:00"}
    rows[1] = {**rows[1], "source": "sys, \"v2\"", "occurred_at": "2024-07-01T12:00:00Z"}
    del rows[2]["source"]
    session.flush()
    prepared: list[bool] = []
    prepare = ingest._Check.prepare

    def spy(self: Any, parsed: Any) -> Any:
        result = prepare(self, parsed)
        prepared.append(result is not None)
        return result

    outcomes = []
    for path in ("columns", "rows"):
        if path == "rows":
            monkeypatch.setattr(ingest._Check, "prepare", lambda self, parsed: None)
        else:
            monkeypatch.setattr(ingest._Check, "prepare", spy)
        with session.begin_nested() as attempt:
            result = ingest.ingest_events(session, actor=SYSTEM, rows=rows, source="batch")
            assert ingest.batch_digest(session, batch_id=result.batch_id) == result.digest
            outcomes.append((result.model_dump(exclude={"batch_id"}), kit.snapshot(session),
                             kit.stored_events(session)))
            attempt.rollback()
    assert prepared == [True]
    assert outcomes[0] == outcomes[1]
    stored = {row[0]: row for row in outcomes[0][2]}
    assert stored[rows[0]["external_id"]][10] == rows[0]["note"]
    assert stored[rows[0]["external_id"]][3] == dt.datetime(2024, 7, 1, 8, 0, 0, 250000,
                                                            tzinfo=dt.UTC)
    assert stored[rows[1]["external_id"]][4] == "sys, \"v2\""
    assert stored[rows[2]["external_id"]][4] == "batch"


@pytest.mark.parametrize(
    ("index", "change", "field"),
    [
        (1, {"allocation_id": 1}, "allocation_id"),
        (1, {"quantity_damaged": 1}, "allocation_id"),
        (2, {"quantity_missing": 1}, "allocation_id"),
        (2, {"hub": None}, "hub"),
        (2, {"hub": "POL-WAW"}, "hub"),
        (5, {"hub": "POL-RZE"}, "hub"),
    ],
)
def test_rows_naming_fields_of_other_kinds_are_refused(sites: None, session: Session,
                                                       index: int, change: dict[str, Any],
                                                       field: str) -> None:
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)
    rows[index] = {**rows[index], **change}
    with pytest.raises(ValidationFailed) as caught:
        ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    [error] = caught.value.errors
    assert (error.row, error.field) == (index + 1, field)
    assert _count(session, DeliveryEvent) == 0


def test_batch_overlapping_a_stored_one_records_only_the_new_events(
        sites: None, session: Session) -> None:
    """Clean rows, some stored before: the append fails on their ids, and the batch is
    compared with what is stored, from the stored state (nothing folded twice)."""
    rows = _journeys(session)
    session.flush()
    with session.begin_nested() as outer:
        ingest.ingest_events(session, actor=SYSTEM, rows=rows)
        expected = kit.snapshot(session)
        outer.rollback()
    ingest.ingest_events(session, actor=SYSTEM, rows=rows[:5])
    result = ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    assert (result.inserted, result.duplicates) == (len(rows) - 5, 5)
    assert ingest.batch_digest(session, batch_id=result.batch_id) == result.digest
    assert kit.snapshot(session) == expected


def test_batch_leaves_the_planner_settings_as_it_found_them(sites: None,
                                                            session: Session) -> None:
    """PostgreSQL: joins by key through the index for the batch only, in success and in error."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    a = kit.allocation(session, quantity=100)
    kit.shipment(session, "SHP-1", [(a, 100)])
    rows = kit.journey("SHP-1", a.id, 100)

    def settings_now() -> tuple[Any, ...]:
        return tuple(session.execute(select(func.current_setting("enable_hashjoin"),
                                            func.current_setting("enable_mergejoin"))).one())

    assert settings_now() == ("on", "on")
    with pytest.raises(ValidationFailed):
        ingest.ingest_events(session, actor=SYSTEM, rows=[{**rows[0], "shipment": "SHP-404"}])
    assert settings_now() == ("on", "on")
    ingest.ingest_events(session, actor=SYSTEM, rows=rows)
    assert settings_now() == ("on", "on")
