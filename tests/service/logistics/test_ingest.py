"""Bulk ingest of delivery events: derived state, idempotency, atomic batches, rollups."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access.actor import SYSTEM
from coalition.access.models import AuditEntry
from coalition.errors import ValidationFailed
from coalition.logistics import ingest
from coalition.logistics.models import DeliveryEvent, Shipment, ShipmentStatus
from coalition.pledges.models import Pledge, PledgeStatus
from coalition.requirements.models import Requirement
from tests.factories import World
from tests.service.logistics import kit


@pytest.fixture
def sites(world: World, session: Session) -> None:
    kit.make_sites(session)


def test_journey_delivers_and_rolls_up(sites: None, session: Session) -> None:
    a = kit.allocation(session, quantity=100)
    s = kit.shipment(session, "SHP-1", [(a, 100)])
    result = ingest.ingest_events(session, actor=SYSTEM, rows=kit.journey("SHP-1", a.id, 100))
    assert (result.inserted, result.duplicates, result.shipments_touched) == (6, 0, 1)
    assert result.pledge_transitions == 2
    session.refresh(s)
    assert s.status is ShipmentStatus.RECEIVED
    pledge = session.get_one(Pledge, a.pledge_id)
    assert (pledge.quantity_shipped, pledge.quantity_delivered) == (100, 100)
    assert pledge.status is PledgeStatus.DELIVERED
    need = session.get_one(Requirement, a.requirement_id)
    assert (need.quantity_in_transit, need.quantity_delivered) == (0, 100)
    assert ingest.batch_digest(session, batch_id=result.batch_id) == result.digest
